import { createHash } from 'node:crypto';
import * as z from 'zod';
import { CommandStepSchema, type Step } from '../config/schema.js';
import { StepFailedError, StepKindUnsupportedError } from '../errors.js';
import type { StepContext, StepOutcome, StepRunner } from '../ports/step-runner.js';
import type { ClusterAccess } from './kubernetes/cluster-access.js';
import {
  defaultSleep,
  type Job,
  JobSchema,
  KubeApi,
  PodSchema,
  parseAnswer,
  podProblems,
  type RetryOptions,
} from './kubernetes/kube-api.js';
import { fillVars, seconds } from './kubernetes/vars.js';

type MigrationStep = Extract<Step, { kind: 'migration' }>;

export interface MigrationStepRunnerOptions {
  /** how to reach the step's `cluster`; without it a migration with an `image` cannot run here */
  access?: ClusterAccess;
  /** runs a migration without `image` as a command (the CommandStepRunner); without it such a step fails */
  commands?: StepRunner;
  /** between two reads of a Job's status (default 2000 ms) */
  pollIntervalMs?: number;
  retry?: Partial<RetryOptions>;
  now?: () => number;
  /** how long a finished Job and its pod stay for people to inspect (default one day) */
  ttlSecondsAfterFinished?: number;
}

const CONTAINER = 'migration';
/** lines of the pod's log read (the API's `tailLines`), and bytes at most (`limitBytes`) */
const LOG_TAIL_LINES = 40;
const LOG_LIMIT_BYTES = 64 * 1024;
/** what of the log goes into the summary (shown on the task) and into a failure's message */
const SUMMARY_LOG_CHARS = 800;
const FAILURE_LOG_CHARS = 1000;
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'devops-agent' };

const tail = (text: string, max: number): string => {
  const trimmed = text.trimEnd();
  return trimmed.length > max ? `…${trimmed.slice(trimmed.length - max + 1)}` : trimmed;
};

/** A DNS-1123 label (a Job's name is also its pods' `job-name` label, so at most 63 characters). */
const labelValue = (text: string, max: number): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, max)
    .replace(/-$/, '');

/**
 * The Job of a deployment's migration step: readable (`<deployment id>-<step>`), unique (a hash of both,
 * as slugging may merge names) and a valid name whatever the step is called.
 */
export const migrationJobName = (deploymentId: string, stepName: string, suffix = ''): string => {
  const hash = createHash('sha256')
    .update(`${deploymentId}\n${stepName}\n${suffix}`)
    .digest('hex')
    .slice(0, 6);
  const readable = labelValue(
    `${deploymentId}-${stepName}${suffix ? `-${suffix}` : ''}`,
    63 - hash.length - 1,
  );
  return `${readable || 'migration'}-${hash}`;
};

/**
 * Runs `migration` steps. With an `image` and a cluster, as a Kubernetes Job: `<deployment id>-<step>` in the
 * step's namespace, the image with the step's `run` as its command (and `env`, `env_from_secrets`), no retry
 * (`backoffLimit: 0`: a half-applied migration must not run again by itself), stopped by the cluster at the
 * step's `timeout` (`activeDeadlineSeconds`) and removed a day after it ends (`ttlSecondsAfterFinished`). The
 * runner waits for it within the timeout and puts the tail of the pod's log in the summary, or in the error
 * when the Job fails. A retried invocation finds the Job it started and waits for it instead of migrating
 * twice. Without an `image` (the local runtime) `run` is a command, run by the command runner.
 *
 * `undo` follows the database policy: kept when `rollback.keep_database` (or when the gate found an
 * irreversible migration: no automatic database rollback), else the step's `down` (a Job with the same image,
 * or a command), else refused: irreversible.
 */
export class MigrationStepRunner implements StepRunner {
  private readonly pollIntervalMs: number;
  private readonly retry: RetryOptions;
  private readonly now: () => number;
  private readonly ttlSeconds: number;

  constructor(private readonly options: MigrationStepRunnerOptions = {}) {
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.retry = { attempts: 4, baseDelayMs: 500, sleep: defaultSleep, ...options.retry };
    this.now = options.now ?? Date.now;
    this.ttlSeconds = options.ttlSecondsAfterFinished ?? 86_400;
  }

  async run(step: Step, context: StepContext): Promise<StepOutcome> {
    const m = this.migrationStep(step);
    if (!m.image) {
      const outcome = await this.commands(m).run(this.asCommand(m), context);
      return { summary: outcome.summary };
    }
    const image = fillVars(m.image, context.vars, `${m.name}: image`);
    const name = migrationJobName(context.deploymentId, m.name);
    const undo = { image, job: name };
    try {
      const summary = await this.runJob(m, name, image, m.run, context, 'migration');
      return { summary, undo };
    } catch (error) {
      throw error instanceof Error ? Object.assign(error, { undo }) : error;
    }
  }

  async undo(
    step: Step,
    undo: Record<string, string> | undefined,
    context: StepContext,
  ): Promise<{ summary: string; kept?: boolean }> {
    const m = this.migrationStep(step);
    if (context.keepDatabase === true) {
      return { summary: 'keep database: the migration stays (rollback.keep_database)', kept: true };
    }
    const irreversible = (context.migrations ?? []).filter((f) => f.irreversible);
    if (irreversible.length > 0) {
      // the same answer as the rollback core: a down migration after data was dropped cannot bring it back
      return {
        summary: `irreversible migration (${irreversible.map((f) => f.path).join(', ')}): no automatic database rollback; restore the data from a backup by hand if the previous release needs it`,
        kept: true,
      };
    }
    if (!m.down) {
      throw new StepFailedError(
        `${m.name}: irreversible: no automatic database rollback (the step has no down command and rollback.keep_database is false); restore the database by hand`,
      );
    }
    const image = undo?.image ?? (m.image ? fillVars(m.image, context.vars, `${m.name}: image`) : undefined);
    if (!image) {
      const undone = await this.commands(m).undo(this.asCommand(m), undefined, context);
      return { summary: undone.summary };
    }
    const name = migrationJobName(context.deploymentId, m.name, 'down');
    return { summary: await this.runJob(m, name, image, m.down, context, 'down migration') };
  }

  private migrationStep(step: Step): MigrationStep {
    if (step.kind !== 'migration') {
      throw new StepKindUnsupportedError(
        `MigrationStepRunner runs migration steps, not ${step.kind} ("${step.name}")`,
      );
    }
    return step;
  }

  private commands(m: MigrationStep): StepRunner {
    if (!this.options.commands) {
      throw new StepFailedError(
        `${m.name}: a migration without an image runs as a local command, which this runtime cannot do; give the step an image (it then runs as a Kubernetes Job)`,
      );
    }
    return this.options.commands;
  }

  /** The step as the command runner runs it: `run`, `down` as its undo, the same env and timeout. */
  private asCommand(m: MigrationStep): Step {
    return CommandStepSchema.parse({
      name: m.name,
      kind: 'command',
      run: m.run,
      ...(m.down ? { undo: m.down } : {}),
      env: m.env,
      timeout: m.timeout,
    });
  }

  private api(m: MigrationStep): KubeApi {
    if (!this.options.access) {
      throw new StepFailedError(
        `${m.name}: runs ${m.image} as a Kubernetes Job, but no cluster is configured here (locally: set KUBECONFIG)`,
      );
    }
    return new KubeApi(this.options.access, m.cluster, this.retry);
  }

  /** Starts (or finds) the Job, waits for it within the step's timeout, and returns the summary. */
  private async runJob(
    m: MigrationStep,
    name: string,
    image: string,
    command: string[],
    context: StepContext,
    what: string,
  ): Promise<string> {
    const api = this.api(m);
    const started = this.now();
    const where = `Job ${m.namespace}/${name}`;
    const argv = command.map((arg) => fillVars(arg, context.vars, `${m.name}: ${what} command`));
    const env = Object.entries(m.env).map(([key, value]) => ({
      name: key,
      value: fillVars(value, context.vars, `${m.name}: env ${key}`),
    }));
    const body = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: m.namespace,
        labels: { ...MANAGED_BY, 'devops-agent/deployment': labelValue(context.deploymentId, 63) },
        annotations: { 'devops-agent/deployment-id': context.deploymentId, 'devops-agent/step': m.name },
      },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: Math.max(1, Math.ceil(m.timeout)),
        ttlSecondsAfterFinished: this.ttlSeconds,
        template: {
          metadata: { labels: { ...MANAGED_BY } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: CONTAINER,
                image,
                command: argv,
                ...(env.length ? { env } : {}),
                ...(m.env_from_secrets.length
                  ? { envFrom: m.env_from_secrets.map((secret) => ({ secretRef: { name: secret } })) }
                  : {}),
              },
            ],
          },
        },
      },
    };
    await api.call(
      `create ${where}`,
      async (apis) => {
        await apis.batch.createNamespacedJob({ namespace: m.namespace, body });
      },
      {
        // a retried invocation: the Job is already there; wait for it rather than migrate twice
        409: async () => {
          const existing = await this.readJob(api, m, name);
          if (existing.metadata.annotations?.['devops-agent/step'] !== m.name) {
            throw new StepFailedError(
              `${m.name}: a Job named ${name} already exists in ${m.namespace} and was not started by this step`,
            );
          }
        },
      },
    );

    const deadline = started + m.timeout * 1000;
    for (;;) {
      const job = await this.readJob(api, m, name);
      const outcome = this.outcome(job);
      if (outcome === 'succeeded') {
        const logs = await this.logs(api, m, name);
        return `${what} ${where} (${image}) succeeded after ${seconds(this.now() - started)}${logs ? `; log: ${tail(logs, SUMMARY_LOG_CHARS)}` : ''}`;
      }
      if (outcome) {
        const logs = await this.logs(api, m, name);
        const problems = await this.pods(api, m, name);
        throw new StepFailedError(
          `${m.name}: ${what} ${where} failed (${outcome})${problems ? `; pods: ${problems}` : ''}${logs ? `; log: ${tail(logs, FAILURE_LOG_CHARS)}` : '; no log'}`,
        );
      }
      if (this.now() >= deadline) {
        const problems = await this.pods(api, m, name);
        throw new StepFailedError(
          `${m.name}: ${what} ${where} did not finish within ${m.timeout} s${problems ? `; pods: ${problems}` : ''} (the cluster stops it at activeDeadlineSeconds)`,
        );
      }
      await this.retry.sleep(Math.min(this.pollIntervalMs, Math.max(1, deadline - this.now())));
    }
  }

  private async readJob(api: KubeApi, m: MigrationStep, name: string): Promise<Job> {
    const where = `Job ${m.namespace}/${name}`;
    const job = await api.call(`read ${where}`, (apis) =>
      apis.batch.readNamespacedJob({ name, namespace: m.namespace }),
    );
    return parseAnswer(JobSchema, job, `read ${where}`);
  }

  /** `succeeded`, the failure's reason, or undefined while it runs (Job conditions, then counts). */
  private outcome(job: Job): 'succeeded' | string | undefined {
    const conditions = job.status?.conditions ?? [];
    const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
    if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return 'succeeded';
    if (failed) return `${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}`;
    if ((job.status?.succeeded ?? 0) > 0) return 'succeeded';
    if ((job.status?.failed ?? 0) > 0) return 'a pod failed';
    return undefined;
  }

  private async jobPods(api: KubeApi, m: MigrationStep, name: string) {
    const list = await api.call(`list the pods of Job ${m.namespace}/${name}`, (apis) =>
      apis.core.listNamespacedPod({ namespace: m.namespace, labelSelector: `job-name=${name}` }),
    );
    return parseAnswer(z.object({ items: z.array(PodSchema) }).loose(), list, 'list pods').items;
  }

  private async pods(api: KubeApi, m: MigrationStep, name: string): Promise<string> {
    try {
      return podProblems(await this.jobPods(api, m, name));
    } catch {
      return '';
    }
  }

  /** The tail of the (newest) pod's log; empty when there is none or it cannot be read. */
  private async logs(api: KubeApi, m: MigrationStep, name: string): Promise<string> {
    try {
      const pods = await this.jobPods(api, m, name);
      const pod = pods
        .sort((a, b) =>
          (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
        )
        .at(-1);
      if (!pod) return '';
      const text = await api.call(`read the log of pod ${m.namespace}/${pod.metadata.name}`, (apis) =>
        apis.core.readNamespacedPodLog({
          name: pod.metadata.name,
          namespace: m.namespace,
          container: CONTAINER,
          tailLines: LOG_TAIL_LINES,
          limitBytes: LOG_LIMIT_BYTES,
        }),
      );
      return typeof text === 'string' ? text : '';
    } catch {
      return '';
    }
  }
}
