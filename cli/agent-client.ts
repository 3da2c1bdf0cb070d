import * as z from 'zod';
import type { ApiDeployment, DeploymentsAnswer } from '../local/api-routes.js';
import { CliError, type CliIo, UsageError } from './io.js';

/** Where the commands find the agent when neither --url nor DEVOPS_AGENT_URL says: `devops-agent local`'s default. */
export const DEFAULT_URL = 'http://127.0.0.1:4000';

export const UrlSchema = z.url({
  protocol: /^https?$/,
  error: 'expected an http URL such as http://127.0.0.1:4000',
});

/** --url, else DEVOPS_AGENT_URL, else the local default; without a trailing slash. */
export const agentUrl = (given: unknown, env: Record<string, string | undefined>): string =>
  String(given ?? env.DEVOPS_AGENT_URL ?? DEFAULT_URL).replace(/\/+$/, '');

/** The configuration `--stack` reads when `--config` is not given (the file `cdk deploy` synthesizes from). */
export const DEFAULT_CONFIG = 'devops-agent.yaml';

/**
 * The options that say which agent the operating commands talk to: a local runtime (`--url`) or a
 * deployed stack (`--stack`, with `--region` and `--config`).
 */
export const TARGET_OPTIONS = {
  url: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  config: { type: 'string' },
} as const;

/** The parsed values of TARGET_OPTIONS. */
export interface TargetValues {
  url?: string | undefined;
  stack?: string | undefined;
  region?: string | undefined;
  config?: string | undefined;
}

/** The zod fields of TARGET_OPTIONS: raw strings, checked by `agentTarget`. */
export const TARGET_FIELDS = {
  url: z.string().optional(),
  stack: z.string().optional(),
  region: z.string().optional(),
  config: z.string().optional(),
};

/** The help lines of TARGET_OPTIONS, shared by the operating commands. */
export const TARGET_HELP = `  --url URL       the running local agent (default $DEVOPS_AGENT_URL, else ${DEFAULT_URL},
                  where devops-agent local and npm start listen)
  --stack NAME    a deployed stack instead of a local runtime (default $DEVOPS_AGENT_STACK): its outputs
                  are found with CloudFormation DescribeStacks; needs AWS credentials, and
                  CLICKUP_API_TOKEN for deploy, approve and hold (docs/cli.md, "Against a deployed stack")
  --region REGION with --stack: its region (default $AWS_REGION, $AWS_DEFAULT_REGION, else the profile's)
  --config FILE   with --stack: the configuration the stack was synthesized from (default ${DEFAULT_CONFIG})`;

/** A CloudFormation stack name (or its ARN). */
const StackSchema = z
  .string()
  .trim()
  .regex(
    /^([A-Za-z][A-Za-z0-9-]{0,127}|arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack\/[A-Za-z0-9-]+\/[A-Za-z0-9-]+)$/,
    {
      error: 'expected a CloudFormation stack name such as DevopsAgent (letters, digits and -)',
    },
  );
const RegionSchema = z
  .string()
  .trim()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region such as eu-west-1' });

/** Which agent a command talks to; `flag` is what a printed command needs to reach it again. */
export type AgentTarget =
  | { kind: 'local'; url: string; flag: string }
  | {
      kind: 'stack';
      stack: string;
      /** --region, else AWS_REGION / AWS_DEFAULT_REGION; absent: the SDK's profile */
      region?: string;
      /** the configuration file as given (relative to the working directory) */
      config: string;
      flag: string;
    };

/**
 * `--url` / `--stack` (and their variables) as the command's target. Both given is a usage error; so is
 * `--region` or `--config` without a stack. DEVOPS_AGENT_STACK and DEVOPS_AGENT_URL both set, with
 * neither option, is ambiguous and a usage error too.
 */
export const agentTarget = (
  command: string,
  values: TargetValues,
  env: Record<string, string | undefined>,
): AgentTarget => {
  const name = command.replace(/^devops-agent /, '');
  const usage = (message: string) => new UsageError(`${name}: ${message}; see ${command} --help`);
  const check = <T>(schema: z.ZodType<T>, option: string, value: string): T => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw usage(`${option}: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  };
  if (values.url !== undefined && values.stack !== undefined) {
    throw usage(
      '--url (a local runtime) and --stack (a deployed stack) exclude each other: give one of them',
    );
  }
  const envStack = env.DEVOPS_AGENT_STACK?.trim() || undefined;
  const envUrl = env.DEVOPS_AGENT_URL?.trim() || undefined;
  if (values.url === undefined && values.stack === undefined && envStack && envUrl) {
    throw usage(
      'DEVOPS_AGENT_URL and DEVOPS_AGENT_STACK are both set: unset one, or say which with --url or --stack',
    );
  }
  const stack = values.stack ?? (values.url === undefined ? envStack : undefined);
  if (stack === undefined) {
    for (const option of ['region', 'config'] as const) {
      if (values[option] !== undefined) throw usage(`--${option} goes with --stack (a deployed stack) only`);
    }
    const url = check(
      UrlSchema,
      values.url === undefined && envUrl ? 'DEVOPS_AGENT_URL' : '--url',
      agentUrl(values.url, env),
    );
    return { kind: 'local', url, flag: url === DEFAULT_URL ? '' : ` --url ${url}` };
  }
  const stackName = check(StackSchema, values.stack === undefined ? 'DEVOPS_AGENT_STACK' : '--stack', stack);
  const given = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const region =
    given === undefined
      ? undefined
      : check(
          RegionSchema,
          values.region !== undefined
            ? '--region'
            : env.AWS_REGION !== undefined
              ? 'AWS_REGION'
              : 'AWS_DEFAULT_REGION',
          given,
        );
  const config =
    values.config === undefined
      ? DEFAULT_CONFIG
      : check(z.string().trim().min(1, { error: 'give the configuration file' }), '--config', values.config);
  return {
    kind: 'stack',
    stack: stackName,
    ...(region ? { region } : {}),
    config,
    flag: [
      values.stack === undefined ? '' : ` --stack ${stackName}`,
      values.region === undefined ? '' : ` --region ${region}`,
      values.config === undefined ? '' : ` --config ${config}`,
    ].join(''),
  };
};

/** Builds the client of a target; the operating commands take one so tests can pass their own. */
export type AgentConnector = (target: AgentTarget, io: CliIo) => AgentClient | Promise<AgentClient>;

/**
 * The client of the target: `localAgent` over HTTP, or `stackAgent` over the stack's AWS resources (loaded
 * only then: the AWS SDK clients stay out of the local path).
 */
export const connectAgent: AgentConnector = async (target, io) => {
  if (target.kind === 'local') return localAgent(target.url);
  const { stackAgent } = await import('./stack-agent.js');
  return stackAgent(target, io);
};

export interface DeployAnswer {
  started: boolean;
  deploymentId?: string;
  reason?: string;
  url?: string;
}

export interface DecisionAnswer {
  deploymentId: string;
  outcome: 'approved' | 'held' | 'pending';
  approvals: number;
  quorum: number;
  url: string;
}

export interface RollbackAnswer {
  deploymentId: string;
  approver: string;
  reason: string;
  url: string;
}

/**
 * What the operating commands (deploy, status, approve, hold, rollback, history) need from a running
 * agent. `localAgent` answers it over the local runtime's HTTP API; `stackAgent` (stack-agent.ts) over a
 * deployed stack's table and state machine, through the same cores.
 */
export interface AgentClient {
  /** where it talks to, for messages */
  readonly where: string;
  deploy(taskId: string, as?: string): Promise<DeployAnswer>;
  deployments(filter: { taskId?: string; service?: string; since?: string }): Promise<DeploymentsAnswer>;
  approve(taskId: string, as: string, comment?: string): Promise<DecisionAnswer>;
  hold(taskId: string, as: string, reason: string): Promise<DecisionAnswer>;
  rollback(taskId: string, as: string, reason?: string): Promise<RollbackAnswer>;
}

// The answers are checked for their shape (the agent at the URL may be another version, or not an agent);
// the fields the commands print are required, the rest passes through.
const DeploymentSchema = z.looseObject({
  deploymentId: z.string(),
  taskId: z.string(),
  service: z.string(),
  environment: z.string(),
  status: z.string(),
  stage: z.string(),
  finished: z.boolean(),
  createdAt: z.string(),
  durationSeconds: z.number(),
  steps: z.looseObject({ done: z.number(), total: z.number() }),
  url: z.string(),
});
const DeploymentsSchema = z.looseObject({ now: z.string(), deployments: z.array(DeploymentSchema) });
const DeploySchema = z.looseObject({ started: z.boolean(), deploymentId: z.string().optional() });
const DecisionSchema = z.looseObject({
  deploymentId: z.string(),
  outcome: z.enum(['approved', 'held', 'pending']),
  approvals: z.number(),
  quorum: z.number(),
  url: z.string(),
});
const RollbackSchema = z.looseObject({ deploymentId: z.string(), reason: z.string(), url: z.string() });
const ErrorSchema = z.object({ error: z.string() });

/** The message when nothing listens at the URL: what to start. */
export const notRunning = (url: string) =>
  `no devops-agent local runtime answers at ${url}; start it with \`npx devops-agent local\` or \`npm start\` (or pass --url / set DEVOPS_AGENT_URL)`;

/** The local runtime's `/api/…` routes (local/api-routes.ts), over fetch. */
export const localAgent = (baseUrl: string, fetcher: typeof fetch = fetch): AgentClient => {
  const call = async <T>(schema: z.ZodType, path: string, body?: unknown): Promise<T> => {
    let response: Response;
    try {
      response = await fetcher(`${baseUrl}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new CliError(notRunning(baseUrl), 1, { cause: error });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(
        `${baseUrl} answered ${path} with HTTP ${response.status} but not JSON: it is not a devops-agent local runtime (or an older one); check --url`,
      );
    }
    if (!response.ok) {
      const error = ErrorSchema.safeParse(json);
      throw new CliError(
        error.success ? error.data.error : `${baseUrl} answered ${path} with HTTP ${response.status}`,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new CliError(
        `${baseUrl} answered ${path} with something else than a devops-agent answer (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}); check --url and that the runtime is this version`,
      );
    }
    // the schema checked what the commands read; the rest of the answer is the agent's own types
    return parsed.data as T;
  };
  const task = (taskId: string, action: string) => `/api/tasks/${encodeURIComponent(taskId)}/${action}`;
  return {
    where: baseUrl,
    deploy: (taskId, as) => call(DeploySchema, task(taskId, 'deploy'), as ? { as } : {}),
    deployments: (filter) => {
      const query = new URLSearchParams(
        Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ).toString();
      return call(DeploymentsSchema, `/api/deployments${query ? `?${query}` : ''}`);
    },
    approve: (taskId, as, comment) =>
      call(DecisionSchema, task(taskId, 'approve'), { as, ...(comment ? { comment } : {}) }),
    hold: (taskId, as, reason) => call(DecisionSchema, task(taskId, 'hold'), { as, reason }),
    rollback: (taskId, as, reason) =>
      call(RollbackSchema, task(taskId, 'rollback'), {
        as,
        ...(reason ? { reason } : {}),
      }),
  };
};

export type { ApiDeployment, DeploymentsAnswer };
