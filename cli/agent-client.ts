import { z } from 'zod';
import type { ApiDeployment, DeploymentsAnswer } from '../local/api-routes.js';
import { CliError } from './io.js';

/** Where the commands find the agent when neither --url nor DEVOPS_AGENT_URL says: `devops-agent local`'s default. */
export const DEFAULT_URL = 'http://127.0.0.1:4000';

/** The `--url` option of the commands that talk to a running agent. */
export const URL_OPTION = { url: { type: 'string' } } as const;

export const UrlSchema = z.url({
  protocol: /^https?$/,
  error: 'expected an http URL such as http://127.0.0.1:4000',
});

/** --url, else DEVOPS_AGENT_URL, else the local default; without a trailing slash. */
export const agentUrl = (given: unknown, env: Record<string, string | undefined>): string =>
  String(given ?? env.DEVOPS_AGENT_URL ?? DEFAULT_URL).replace(/\/+$/, '');

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
 * agent. `localAgent` answers it over the local runtime's HTTP API; a deployed stack would be a second
 * implementation behind the same interface.
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
