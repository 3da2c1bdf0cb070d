import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretsClient } from './clients.js';
import { loadConfigJsonFile, parseConfigJson } from './config/bundled.js';
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
export const readSecret = /* @__PURE__ */ secretReader(secretsClient);

export const loadConfig = (env: Env): Config => {
  if (env.CONFIG_JSON) return parseConfigJson(env.CONFIG_JSON, 'CONFIG_JSON');
  if (env.CONFIG_PATH) return loadConfigJsonFile(env.CONFIG_PATH);
  throw new NotConfiguredError('set CONFIG_PATH (the bundled devops-agent.json) or CONFIG_JSON');
};

/** A variable the stack passes to the functions that use the port behind it. */
export const required = <K extends keyof Env>(env: Env, name: K): NonNullable<Env[K]> => {
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

/** The ports with an AWS service or an API behind them: each function names the adapters it uses. */
export type AdapterPort =
  | 'tracker'
  | 'store'
  | 'notifier'
  | 'artifacts'
  | 'sourceControl'
  | 'alarms'
  | 'readings'
  | 'workflow'
  | 'approvalKeys'
  | 'steps'
  | 'checks';

/**
 * How a function builds each port it uses, from its environment (`aws-adapters.ts`, `awsStepRunners`,
 * `awsChecks`). A handler lists only its own, so its bundle carries only those SDK clients and libraries.
 */
export type AwsAdapters = { [K in AdapterPort]?: (env: Env) => NonNullable<Ports[K]> };

/**
 * What every function has with no adapter: configuration, clock, logger, links, telemetry, and step and
 * check runners that know the kinds (the runtime gate reads them) but fail if called.
 */
type BasePorts = Pick<Ports, 'config' | 'clock' | 'logger' | 'links' | 'telemetry' | 'steps' | 'checks'>;

/** The ports a function built with `adapters` has: a core needing any other one does not type-check. */
export type AwsPortsOf<A extends AwsAdapters> = BasePorts & {
  [K in keyof A & AdapterPort]-?: NonNullable<Ports[K]>;
};

/** The production ports of one function, from its environment and its adapters (each built at first use). */
export const buildAwsPorts = <A extends AwsAdapters>(env: Env, adapters: A): AwsPortsOf<A> => {
  const config = loadConfig(env);
  const publicUrl = env.PUBLIC_URL?.replace(/\/$/, '');
  const consoleUrl = `https://${env.AWS_REGION}.console.aws.amazon.com/states/home?region=${env.AWS_REGION}`;
  const { steps, checks, ...services } = adapters as AwsAdapters;
  const base: BasePorts = {
    config,
    // the real runners (the Kubernetes client, the S3 sync, the database drivers) are bundled only into the
    // functions that run, undo or describe steps or run checks, which pass them in
    steps: steps?.(env) ?? stepKindsOnly(),
    checks: { ...checkKindsOnly(), ...checks?.(env) },
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
  const built = Object.fromEntries(
    Object.entries(services).map(([port, build]) => [port, lazy(() => build(env) as object)]),
  );
  return { ...base, ...built } as AwsPortsOf<A>;
};

/**
 * A handler's ports: built once per execution environment, at the first invocation (the configuration is
 * parsed then), from the function's environment and the adapters it names.
 */
export const awsPorts = <A extends AwsAdapters>(adapters: A): (() => AwsPortsOf<A>) => {
  let ports: AwsPortsOf<A> | undefined;
  return () => {
    ports ??= buildAwsPorts(parseEnv(), adapters);
    return ports;
  };
};

/**
 * The ClickUp webhook secrets (one per list's webhook, as `clickup setup` stores them); on AWS every
 * delivery is verified, so a missing secret is a wiring error.
 */
export const webhookSecret = async (env: Env = parseEnv()): Promise<string[]> =>
  parseWebhookSecrets(await readSecret(required(env, 'WEBHOOK_SECRET_ARN')));
