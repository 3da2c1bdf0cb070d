import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  createConfiguration,
  type KubeConfig,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
  type V1LabelSelector,
} from '@kubernetes/client-node';
import * as z from 'zod';
import { StepFailedError, TransientDependencyError } from '../../errors.js';
import type { ClusterAccess } from './cluster-access.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const POD_TEMPLATE_HASH = 'pod-template-hash';
/** who the API server records as the writer of the fields the agent sets (`managedFields`) */
export const FIELD_MANAGER = 'devops-agent';

export interface KubeApis {
  apps: AppsV1Api;
  core: CoreV1Api;
  batch: BatchV1Api;
}

export interface RetryOptions {
  /** tries of one call, the first included (default 4) */
  attempts: number;
  /** the first wait; it doubles after each failure (default 500 ms: 0.5 s, 1 s, 2 s) */
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  /**
   * the longest one request may take, its answer included (default 30 s): an API server that accepts the
   * connection and never answers is a timeout the tries go on from, not a step that hangs until the
   * function's own timeout
   */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const MAX_RETRY_AFTER_MS = 10_000;
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const StatusSchema = z
  .object({ message: z.string().optional(), reason: z.string().optional(), code: z.number().optional() })
  .loose();

/** The `Status` a refused request answered with (a JSON text in `ApiException.body`), when there is one. */
const statusOf = (error: ApiException<unknown>): z.infer<typeof StatusSchema> => {
  let body: unknown = error.body;
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text);
    } catch {
      return { message: text.slice(0, 300) };
    }
  }
  const parsed = StatusSchema.safeParse(body);
  return parsed.success ? parsed.data : {};
};

/** The network error code behind a failed fetch (undici wraps it as `TypeError: fetch failed`). */
const networkCode = (error: unknown): string | undefined => {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
};

/** The client's own request path (`makeApiClient`), with every request bounded by `timeoutMs`. */
const boundedApi = <T>(
  config: KubeConfig,
  timeoutMs: number,
  api: new (configuration: ReturnType<typeof createConfiguration>) => T,
): T => {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new StepFailedError('the kubeconfig has no current cluster (set current-context)');
  return new api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: config },
      promiseMiddleware: [
        {
          pre: async (context: RequestContext) => {
            context.setSignal(AbortSignal.timeout(timeoutMs));
            return context;
          },
          post: async (response: ResponseContext) => response,
        },
      ],
    }),
  );
};

const apisByConfig = new WeakMap<KubeConfig, Map<number, KubeApis>>();
const apisFor = (config: KubeConfig, timeoutMs: number): KubeApis => {
  let byTimeout = apisByConfig.get(config);
  if (!byTimeout) {
    byTimeout = new Map();
    apisByConfig.set(config, byTimeout);
  }
  let apis = byTimeout.get(timeoutMs);
  if (!apis) {
    apis = {
      apps: boundedApi(config, timeoutMs, AppsV1Api),
      core: boundedApi(config, timeoutMs, CoreV1Api),
      batch: boundedApi(config, timeoutMs, BatchV1Api),
    };
    byTimeout.set(timeoutMs, apis);
  }
  return apis;
};

/** Answers for a refusal the caller expects (a 404 it can say more about, a 409 it can adopt). */
export type StatusHandlers<T> = Partial<
  Record<number, (status: { message?: string; reason?: string }) => T | Promise<T>>
>;

/**
 * One cluster's API for the runners: every call gets the current `KubeConfig` from the cluster access (so an
 * EKS token is refreshed), is retried with exponential backoff on 429, 5xx and connection failures (a 429's
 * `Retry-After` is honoured up to 10 s), and fails with `TransientDependencyError` once the tries run out, or
 * with `StepFailedError` naming what was asked and the API server's reason. Messages never carry the
 * credentials: the client's own error text (which lists response headers) is kept only as `cause`.
 */
export class KubeApi {
  constructor(
    private readonly access: ClusterAccess,
    private readonly cluster: string | undefined,
    private readonly retry: RetryOptions,
  ) {}

  async call<T>(
    what: string,
    call: (apis: KubeApis) => Promise<T>,
    handlers: StatusHandlers<T> = {},
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const apis = apisFor(
        await this.access(this.cluster),
        this.retry.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      );
      try {
        return await call(apis);
      } catch (error) {
        if (error instanceof ApiException) {
          const status = statusOf(error);
          const handler = handlers[error.code];
          if (handler) return handler(status);
          const transient = error.code === 429 || error.code >= 500;
          if (transient && attempt < this.retry.attempts) {
            await this.retry.sleep(this.delay(attempt, error));
            continue;
          }
          if (transient) {
            throw new TransientDependencyError(
              `Kubernetes API: ${what} failed ${attempt} times, last with ${error.code}${status.reason ? ` ${status.reason}` : ''}${status.message ? `: ${status.message}` : ''}`,
              { cause: error },
            );
          }
          throw new StepFailedError(`${what}: ${this.refusal(error.code, status)}`, { cause: error });
        }
        // the request bound (AbortSignal.timeout) rejects with a TimeoutError that carries no code
        const code =
          networkCode(error) ?? ((error as Error).name === 'TimeoutError' ? 'ETIMEDOUT' : undefined);
        if (code && TRANSIENT_CODES.has(code)) {
          if (attempt < this.retry.attempts) {
            await this.retry.sleep(this.delay(attempt));
            continue;
          }
          throw new TransientDependencyError(
            `Kubernetes API: ${what} failed ${attempt} times, last with ${code} (the API server could not be reached)`,
            { cause: error },
          );
        }
        if (error instanceof StepFailedError || error instanceof TransientDependencyError) throw error;
        throw new StepFailedError(
          `${what}: cannot reach the Kubernetes API (${code ?? (error instanceof Error ? error.message.slice(0, 200) : 'error')})`,
          { cause: error },
        );
      }
    }
  }

  private delay(attempt: number, error?: ApiException<unknown>): number {
    const retryAfter = Number(error?.headers?.['retry-after']);
    if (error?.code === 429 && Number.isFinite(retryAfter) && retryAfter > 0)
      return Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS);
    return this.retry.baseDelayMs * 2 ** (attempt - 1);
  }

  private refusal(code: number, status: { message?: string; reason?: string }): string {
    const said = `${code}${status.reason ? ` ${status.reason}` : ''}${status.message ? `: ${status.message}` : ''}`;
    if (code === 401)
      return `${said} — the cluster did not accept the credentials (locally: the kubeconfig's user; on AWS: the function role needs an EKS access entry or aws-auth mapping)`;
    if (code === 403) return `${said} — the agent's identity lacks this Kubernetes permission (RBAC)`;
    return said;
  }
}

// ---- what the runners read from the API (parsed: the client's models are typed, not checked) ---------------

const LabelsSchema = z.record(z.string(), z.string());

export const ContainerSchema = z.object({ name: z.string(), image: z.string().optional() }).loose();

export const PodTemplateSchema = z
  .object({
    metadata: z.object({ labels: LabelsSchema.optional() }).loose().optional(),
    spec: z.object({ containers: z.array(ContainerSchema).min(1) }).loose(),
  })
  .loose();

const ConditionSchema = z
  .object({
    type: z.string(),
    status: z.string(),
    reason: z.string().optional(),
    message: z.string().optional(),
  })
  .loose();

const MetadataSchema = z
  .object({
    name: z.string(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    creationTimestamp: z.string().nullish(),
    generation: z.number().optional(),
    labels: LabelsSchema.optional(),
    annotations: LabelsSchema.optional(),
    ownerReferences: z
      .array(z.object({ uid: z.string(), controller: z.boolean().optional() }).loose())
      .optional(),
  })
  .loose();

const LabelSelectorSchema = z
  .object({
    matchLabels: LabelsSchema.optional(),
    matchExpressions: z
      .array(
        z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() }).loose(),
      )
      .optional(),
  })
  .loose();

export const DeploymentSchema = z
  .object({
    metadata: MetadataSchema,
    spec: z
      .object({
        replicas: z.number().optional(),
        paused: z.boolean().optional(),
        revisionHistoryLimit: z.number().optional(),
        selector: LabelSelectorSchema,
        template: PodTemplateSchema,
      })
      .loose(),
    status: z
      .object({
        observedGeneration: z.number().optional(),
        replicas: z.number().optional(),
        updatedReplicas: z.number().optional(),
        availableReplicas: z.number().optional(),
        conditions: z.array(ConditionSchema).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type Deployment = z.infer<typeof DeploymentSchema>;

export const ReplicaSetSchema = z
  .object({ metadata: MetadataSchema, spec: z.object({ template: PodTemplateSchema }).loose() })
  .loose();
export type ReplicaSet = z.infer<typeof ReplicaSetSchema>;

const ContainerStateSchema = z
  .object({
    waiting: z.object({ reason: z.string().optional(), message: z.string().optional() }).loose().optional(),
    terminated: z
      .object({
        exitCode: z.number().optional(),
        reason: z.string().optional(),
        message: z.string().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

const ContainerStatusSchema = z
  .object({
    name: z.string(),
    state: ContainerStateSchema.optional(),
    lastState: ContainerStateSchema.optional(),
  })
  .loose();

export const PodSchema = z
  .object({
    metadata: MetadataSchema,
    status: z
      .object({
        phase: z.string().optional(),
        conditions: z.array(ConditionSchema).optional(),
        containerStatuses: z.array(ContainerStatusSchema).optional(),
        initContainerStatuses: z.array(ContainerStatusSchema).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type Pod = z.infer<typeof PodSchema>;

export const JobSchema = z
  .object({
    metadata: MetadataSchema,
    status: z
      .object({
        active: z.number().optional(),
        succeeded: z.number().optional(),
        failed: z.number().optional(),
        conditions: z.array(ConditionSchema).optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type Job = z.infer<typeof JobSchema>;

/** Parses what the API answered; a shape the runner cannot read is a failure of the step, named. */
export const parseAnswer = <S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> => {
  // the client's model instances hold Dates and undefined fields: read them as the JSON the server sent
  const parsed = schema.safeParse(JSON.parse(JSON.stringify(value ?? null)));
  if (!parsed.success) {
    throw new StepFailedError(
      `${what}: unexpected answer from the Kubernetes API (${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')})`,
    );
  }
  return parsed.data;
};

/** The selector as a `labelSelector` query (`app=web,tier in (a,b)`), as kubectl writes it. */
export const selectorText = (selector: V1LabelSelector | z.infer<typeof LabelSelectorSchema>): string => {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
};

export type RolloutState = { state: 'done' | 'waiting' | 'failed'; message: string };

/**
 * Whether a rollout is complete, decided as `kubectl rollout status` decides it (kubectl
 * `DeploymentStatusViewer.Status`; external-apis.md §5.2), in the same order: the controller must have seen
 * the spec; a `Progressing` condition with reason `ProgressDeadlineExceeded` is a failure; then all replicas
 * updated, no old ones left, and every updated one available. Missing counts read as 0.
 */
export const rolloutState = (deployment: Deployment): RolloutState => {
  const generation = deployment.metadata.generation ?? 0;
  const status = deployment.status ?? {};
  if (generation > (status.observedGeneration ?? 0))
    return { state: 'waiting', message: 'waiting for the deployment spec update to be observed' };
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return {
      state: 'failed',
      message: `exceeded its progress deadline${progressing.message ? ` (${progressing.message})` : ''}`,
    };
  const want = deployment.spec.replicas;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (want !== undefined && updated < want)
    return { state: 'waiting', message: `${updated} of ${want} new replicas updated` };
  if (replicas > updated)
    return { state: 'waiting', message: `${replicas - updated} old replicas pending termination` };
  if (available < updated)
    return { state: 'waiting', message: `${available} of ${updated} updated replicas available` };
  return { state: 'done', message: `${available}/${want ?? available} available` };
};

const BENIGN_WAITING = new Set(['ContainerCreating', 'PodInitializing']);

/**
 * Why pods are not running, in one line: waiting reasons (ImagePullBackOff, CrashLoopBackOff with the last
 * exit), failed exits and unschedulable pods, each with how many pods show it; empty when none.
 */
export const podProblems = (pods: Pod[], maxLength = 600): string => {
  const counts = new Map<string, number>();
  const add = (problem: string) => counts.set(problem, (counts.get(problem) ?? 0) + 1);
  for (const pod of pods) {
    const status = pod.status ?? {};
    const seen = new Set<string>();
    const note = (problem: string) => {
      if (!seen.has(problem)) {
        seen.add(problem);
        add(problem);
      }
    };
    for (const c of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated;
      const last = c.lastState?.terminated;
      if (waiting?.reason && !BENIGN_WAITING.has(waiting.reason)) {
        note(
          `${c.name}: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}${last ? `, last exit ${last.exitCode ?? '?'}${last.reason ? ` ${last.reason}` : ''}` : ''}`,
        );
      } else if (terminated && (terminated.exitCode ?? 0) !== 0) {
        note(`${c.name}: exited ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}`);
      }
    }
    const unscheduled = status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unscheduled)
      note(
        `${unscheduled.reason ?? 'not scheduled'}${unscheduled.message ? ` (${unscheduled.message})` : ''}`,
      );
  }
  const text = [...counts.entries()].map(([problem, n]) => `${problem}${n > 1 ? ` ×${n}` : ''}`).join('; ');
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
};
