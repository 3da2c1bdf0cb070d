import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ClickUpTracker } from './adapters/clickup-tracker.js';
import { CloudWatchAlarmSource } from './adapters/cloudwatch-alarm-source.js';
import { CloudWatchMetricReader } from './adapters/cloudwatch-metric-reader.js';
import { DynamoDeploymentStore } from './adapters/dynamo-deployment-store.js';
import { GitHubSourceControl } from './adapters/github-source-control.js';
import { S3ArtifactStore } from './adapters/s3-artifact-store.js';
import { SesNotifier } from './adapters/ses-notifier.js';
import { StepFunctionsWorkflowControl } from './adapters/sfn-workflow-control.js';
import { StoredApprovalKeys } from './approval-links.js';
import { clients } from './clients.js';
import { loadConfigFile, parseConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { type Env, parseEnv } from './env.js';
import { DomainError } from './errors.js';
import { systemClock } from './ports/clock.js';
import type { CheckRunners, Logger, Ports, StepRunners } from './ports/index.js';
import { logger, telemetry } from './powertools.js';
import { parseWebhookSecrets } from './webhook-secrets.js';

/** A port was used by a function the stack gave no resource for (a wiring bug, not bad input). */
export class NotConfiguredError extends DomainError {}

const SECRET_TTL_MS = 5 * 60_000;

/** Reads a Secrets Manager secret (plain text, or JSON with one value) and caches it for a few minutes. */
export const secretReader = (client: () => SecretsManagerClient, now: () => number = Date.now) => {
  const cache = new Map<string, { value: string; until: number }>();
  return async (secretId: string): Promise<string> => {
    const hit = cache.get(secretId);
    if (hit && hit.until > now()) return hit.value;
    const { SecretString } = await client().send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!SecretString) throw new NotConfiguredError(`secret ${secretId} has no text value`);
    let value = SecretString;
    try {
      const parsed: unknown = JSON.parse(SecretString);
      const values = parsed && typeof parsed === 'object' ? Object.values(parsed) : [];
      if (values.length === 1 && typeof values[0] === 'string') value = values[0];
    } catch {
      // plain text
    }
    cache.set(secretId, { value, until: now() + SECRET_TTL_MS });
    return value;
  };
};
/** Secrets Manager reads of this function, cached (the check runners use it for check credentials). */
export const readSecret = secretReader(clients.secrets);

export const loadConfig = (env: Env): Config => {
  if (env.CONFIG_YAML) return parseConfig(env.CONFIG_YAML, 'CONFIG_YAML');
  if (env.CONFIG_PATH) return loadConfigFile(env.CONFIG_PATH);
  throw new NotConfiguredError('set CONFIG_PATH (the bundled devops-agent.yaml) or CONFIG_YAML');
};

const required = <K extends keyof Env>(env: Env, name: K): NonNullable<Env[K]> => {
  const value = env[name];
  if (value === undefined)
    throw new NotConfiguredError(`${name} is not set for this function; the stack must grant and pass it`);
  return value as NonNullable<Env[K]>;
};

/** A port whose resource this function was not given: every call fails naming the missing variable. */
export const lazy = <T extends object>(build: () => T): T => {
  let port: T | undefined;
  return new Proxy({} as T, {
    get: (_target, property) => {
      port ??= build();
      const value = (port as Record<PropertyKey, unknown>)[property];
      return typeof value === 'function' ? value.bind(port) : value;
    },
  });
};

/** The cores' Logger port over the Powertools logger. */
const portLogger: Logger = {
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
};

/** The step kinds the AWS functions run (`awsStepRunners`); the runtime gate reads the kinds only. */
export const AWS_STEP_KINDS = ['kubernetes', 'migration', 's3-sync', 'cloudfront-invalidation'] as const;

/** Placeholders for a function without the step runners: present for the gate, failing if ever called. */
const stepKindsOnly = (): StepRunners => {
  const missing = (): never => {
    throw new NotConfiguredError(
      'this function has no step runners; only ExecuteStep, Rollback and CreatePlan are built with them',
    );
  };
  return Object.fromEntries(
    AWS_STEP_KINDS.map((kind) => [kind, { run: missing, undo: missing, current: missing }]),
  );
};

/** The check kinds the AWS functions run (`awsChecks`, `awsRolloutChecks`); the runtime gate reads them. */
export const AWS_CHECK_KINDS = ['http', 'sql', 'rollout'] as const;

/** Placeholders for a function without the check runners: present for the gate, failing if ever called. */
const checkKindsOnly = (): CheckRunners => {
  const missing = (): never => {
    throw new NotConfiguredError(
      'this function has no check runners; only Verify, VerifyRollback and ExecuteStep are built with them',
    );
  };
  return Object.fromEntries(AWS_CHECK_KINDS.map((kind) => [kind, { run: missing }]));
};

export interface AwsPortsOptions {
  /** the real step runners (`awsStepRunners`), for the functions that run, undo or describe steps */
  steps?: (env: Env) => StepRunners;
  /** the check runners (`awsChecks`, `awsRolloutChecks`), for the functions that run checks */
  checks?: (env: Env) => CheckRunners;
}

/** The production ports, from the function's environment. */
export const buildAwsPorts = (env: Env, options: AwsPortsOptions = {}): Ports => {
  const config = loadConfig(env);
  const publicUrl = env.PUBLIC_URL?.replace(/\/$/, '');
  const workflow = lazy(
    () =>
      new StepFunctionsWorkflowControl({
        client: clients.sfn(),
        stateMachineArn: required(env, 'STATE_MACHINE_ARN'),
      }),
  );
  const consoleUrl = `https://${env.AWS_REGION}.console.aws.amazon.com/states/home?region=${env.AWS_REGION}`;
  return {
    config,
    tracker: lazy(() => {
      const secretArn = required(env, 'CLICKUP_TOKEN_SECRET_ARN');
      return new ClickUpTracker({
        token: () => readSecret(secretArn),
        ...(env.CLICKUP_API_URL ? { baseUrl: env.CLICKUP_API_URL } : {}),
      });
    }),
    store: lazy(
      () => new DynamoDeploymentStore({ client: clients.dynamo(), tableName: required(env, 'TABLE_NAME') }),
    ),
    notifier: lazy(() => new SesNotifier({ client: clients.ses(), from: required(env, 'MAIL_FROM') })),
    artifacts: lazy(
      () =>
        new S3ArtifactStore({
          client: clients.s3(),
          bucket: required(env, 'ARTIFACT_BUCKET'),
          region: env.AWS_REGION,
        }),
    ),
    sourceControl: lazy(() => {
      const secretArn = required(env, 'GITHUB_TOKEN_SECRET_ARN');
      return new GitHubSourceControl({
        token: () => readSecret(secretArn),
        ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
      });
    }),
    alarms: lazy(() => new CloudWatchAlarmSource({ client: clients.cloudwatch() })),
    readings: lazy(() => new CloudWatchMetricReader({ client: clients.cloudwatch() })),
    // the runners themselves (the Kubernetes client, the S3 sync) are bundled only into the functions that
    // run, undo or describe steps, which pass them in; the others know the kinds (the runtime gate)
    steps: options.steps?.(env) ?? stepKindsOnly(),
    // the runners (and their database drivers) are bundled only into the functions that run checks, which
    // pass them in (`awsChecks`, `awsRolloutChecks`); the others know the kinds (the runtime gate)
    checks: { ...checkKindsOnly(), ...options.checks?.(env) },
    workflow,
    approvalKeys: lazy(() => {
      const secretArn = required(env, 'APPROVAL_KEYS_SECRET_ARN');
      return new StoredApprovalKeys(() => readSecret(secretArn), `secret ${secretArn}`);
    }),
    clock: systemClock,
    logger: portLogger,
    telemetry,
    links: {
      approval: (id, token) =>
        `${publicUrl ?? required(env, 'PUBLIC_URL')}/approvals/${id}?t=${encodeURIComponent(token)}`,
      deployment: (id) =>
        env.STATE_MACHINE_ARN
          ? `${consoleUrl}#/v2/executions/details/${env.STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${id}`
          : `${consoleUrl}#/statemachines`,
    },
  };
};

let cached: Ports | undefined;
/** Built once per execution environment (the config is parsed at the first invocation). */
export const awsPorts = (options: AwsPortsOptions = {}): Ports => {
  cached ??= buildAwsPorts(parseEnv(), options);
  return cached;
};

/**
 * The ClickUp webhook secrets (one per list's webhook, as `clickup setup` stores them); on AWS every
 * delivery is verified, so a missing secret is a wiring error.
 */
export const webhookSecret = async (env: Env = parseEnv()): Promise<string[]> =>
  parseWebhookSecrets(await readSecret(required(env, 'WEBHOOK_SECRET_ARN')));
