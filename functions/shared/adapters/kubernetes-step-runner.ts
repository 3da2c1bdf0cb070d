import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import * as z from 'zod';
import type { Step } from '../config/schema.js';
import { BadRequestError, StepFailedError, StepKindUnsupportedError } from '../errors.js';
import type { StepContext, StepOutcome, StepRunner } from '../ports/step-runner.js';
import type { ClusterAccess } from './kubernetes/cluster-access.js';
import {
  type Deployment,
  DeploymentSchema,
  defaultSleep,
  FIELD_MANAGER,
  KubeApi,
  POD_TEMPLATE_HASH,
  PodSchema,
  parseAnswer,
  podProblems,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  type ReplicaSet,
  ReplicaSetSchema,
  type RetryOptions,
  rolloutState,
  selectorText,
} from './kubernetes/kube-api.js';
import { fillVars, fillVarsDeep, seconds } from './kubernetes/vars.js';

type KubernetesStep = Extract<Step, { kind: 'kubernetes' }>;

export interface KubernetesStepRunnerOptions {
  /** how to reach the step's `cluster` (a kubeconfig locally, EKS on AWS) */
  access: ClusterAccess;
  /**
   * where a step's `manifest` path resolves (a manifest may not be outside it); without it manifest steps are
   * refused: the functions on AWS get only the configuration file, no manifests
   */
  baseDir?: string;
  /** between two reads of a rollout's status (default 2000 ms) */
  pollIntervalMs?: number;
  retry?: Partial<RetryOptions>;
  /** milliseconds, for the step's deadline (default `Date.now`) */
  now?: () => number;
}

const ImagesSchema = z.record(z.string(), z.string());

/**
 * What a run writes on the Deployment with its change, so the record survives a Lambda that is stopped before
 * it can hand the record back: the deployment id, and the revision and images before it.
 */
const MARK_DEPLOYMENT = 'devops-agent/deployment-id';
const MARK_REVISION = 'devops-agent/previous-revision';
const MARK_IMAGES = 'devops-agent/previous-images';

const ManifestSchema = z
  .object({
    apiVersion: z.literal('apps/v1', { error: 'expected apiVersion apps/v1' }),
    kind: z.literal('Deployment'),
    metadata: z.object({ name: z.string(), namespace: z.string().optional() }).loose(),
    spec: z
      .object({
        template: z
          .object({
            spec: z
              .object({
                containers: z.array(z.object({ name: z.string(), image: z.string() }).loose()).min(1),
              })
              .loose(),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();

/** `{"web": "registry/web:1.4"}` as `web=registry/web:1.4`, for messages and summaries. */
const imagesText = (images: Record<string, string>) =>
  Object.entries(images)
    .map(([c, i]) => `${c}=${i}`)
    .join(', ');

const imagesOf = (deployment: Deployment): Record<string, string> =>
  Object.fromEntries(deployment.spec.template.spec.containers.map((c) => [c.name, c.image ?? '']));

/** JSON as the server sent it (the client's models hold Dates and undefined fields). */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value));

const sameJson = (a: unknown, b: unknown): boolean => {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([x], [y]) => x.localeCompare(y))
              .map(([k, value]) => [k, sort(value)]),
          )
        : v;
  return JSON.stringify(sort(a)) === JSON.stringify(sort(b));
};

/** Attaches what the step recorded to an error thrown after the change may have started (rollback needs it). */
const withUndo = (error: unknown, undo: Record<string, string>): unknown =>
  error instanceof Error ? Object.assign(error, { undo }) : error;

/**
 * Runs `kubernetes` steps with `@kubernetes/client-node`: before changing anything it records the
 * Deployment's revision (`deployment.kubernetes.io/revision`) and images for the undo; then it sets the image
 * of one container (a strategic merge patch, as `kubectl set image` does) or server-side applies the
 * Deployment of a manifest file (field manager `devops-agent`, conflicts forced: the manifest approved in the
 * plan is the desired state, and a field someone changed by hand in between must not stop a release half-way;
 * the recorded template restores the old state), and waits for the rollout as `kubectl rollout status` decides
 * it, within the step's `timeout`. A failure names what happened (deadline exceeded, timeout) and why the new
 * pods do not run (ImagePullBackOff, CrashLoopBackOff, …), and carries the undo record.
 *
 * `undo` does what `kubectl rollout undo --to-revision=<recorded>` does: it finds the ReplicaSet the
 * Deployment owns with the recorded revision (or with it in its revision history, if a later rollback renumbered
 * it), writes that ReplicaSet's pod template, without its `pod-template-hash` label, back into the
 * Deployment and waits for the rollout. `current` reads the running image.
 */
export class KubernetesStepRunner implements StepRunner {
  private readonly pollIntervalMs: number;
  private readonly retry: RetryOptions;
  private readonly now: () => number;
  private readonly baseDir: string | undefined;

  constructor(private readonly options: KubernetesStepRunnerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.retry = { attempts: 4, baseDelayMs: 500, sleep: defaultSleep, ...options.retry };
    this.now = options.now ?? Date.now;
    this.baseDir = options.baseDir === undefined ? undefined : resolve(options.baseDir);
  }

  async run(step: Step, context: StepContext): Promise<StepOutcome> {
    const k = this.kubernetesStep(step);
    const started = this.now();
    const where = `deployment ${k.namespace}/${k.deployment}`;
    if (k.image && k.manifest)
      throw new BadRequestError(`${k.name}: give either image or manifest, not both`);
    if (!k.image && !k.manifest)
      throw new BadRequestError(`${k.name}: a kubernetes step needs an image or a manifest to deploy`);
    // Placeholders and the manifest are read before anything changes: a typo must not leave half a release.
    const image = k.image ? fillVars(k.image, context.vars, `${k.name}: image`) : undefined;
    const manifest = k.manifest ? this.manifest(k, context.vars) : undefined;

    const api = this.api(k);
    const before = await this.readDeployment(api, k);
    if (before.spec.paused)
      throw new StepFailedError(`${k.name}: ${where} is paused; resume it (kubectl rollout resume) first`);
    const annotations = before.metadata.annotations ?? {};
    // A second run of the same deployment (a retried invocation) finds its own mark: what was there before
    // the first run is what undo must restore, not what the first run left.
    const rerun = annotations[MARK_DEPLOYMENT] === context.deploymentId;
    const revision = rerun ? annotations[MARK_REVISION] : annotations[REVISION_ANNOTATION];
    const images = rerun ? (annotations[MARK_IMAGES] ?? '{}') : JSON.stringify(imagesOf(before));
    const undo: Record<string, string> = { ...(revision ? { revision } : {}), images };
    await context.saveUndo?.(undo);
    const mark = {
      [MARK_DEPLOYMENT]: context.deploymentId,
      ...(revision ? { [MARK_REVISION]: revision } : {}),
      [MARK_IMAGES]: images,
    };
    try {
      let change: string;
      if (image) {
        const container = this.container(k, before);
        await api.call(`${where}: set image`, (apis) =>
          apis.apps.patchNamespacedDeployment(
            {
              name: k.deployment,
              namespace: k.namespace,
              body: {
                metadata: { annotations: mark },
                spec: { template: { spec: { containers: [{ name: container, image }] } } },
              },
              fieldManager: FIELD_MANAGER,
            },
            setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
          ),
        );
        change = `${container}: ${imagesOf(before)[container] ?? '(none)'} → ${image}`;
      } else {
        const metadata = (manifest?.metadata ?? {}) as { annotations?: Record<string, string> };
        await api.call(`${where}: apply ${k.manifest}`, (apis) =>
          apis.apps.patchNamespacedDeployment(
            {
              name: k.deployment,
              namespace: k.namespace,
              body: {
                ...manifest,
                metadata: { ...metadata, annotations: { ...metadata.annotations, ...mark } },
              },
              fieldManager: FIELD_MANAGER,
              force: true,
            },
            setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
          ),
        );
        change = `applied ${k.manifest}`;
      }
      const after = await this.waitForRollout(api, k, started, 'rollout');
      const newRevision = after.metadata.annotations?.[REVISION_ANNOTATION];
      return {
        summary: `${where}: ${change}; revision ${newRevision ?? '?'}${revision && revision !== newRevision ? ` (was ${revision})` : ''}, ${rolloutState(after).message} after ${seconds(this.now() - started)}`,
        undo,
      };
    } catch (error) {
      throw withUndo(error, undo);
    }
  }

  async undo(
    step: Step,
    undo: Record<string, string> | undefined,
    context: StepContext,
  ): Promise<{ summary: string; kept?: boolean }> {
    const k = this.kubernetesStep(step);
    const started = this.now();
    const where = `deployment ${k.namespace}/${k.deployment}`;
    const api = this.api(k);
    const found = await this.findDeployment(api, k);
    // a run whose deployment does not exist changed nothing (it failed on reading it)
    if (!found && !undo) return { summary: `nothing to undo: ${where} does not exist`, kept: true };
    const deployment = found ?? (await this.readDeployment(api, k));
    // Without a record (the run was stopped before it could hand one back) the mark the run wrote with its
    // change says what was there; no mark of this deployment means the run changed nothing.
    const annotations = deployment.metadata.annotations ?? {};
    const recorded =
      undo ??
      (annotations[MARK_DEPLOYMENT] === context.deploymentId
        ? {
            ...(annotations[MARK_REVISION] ? { revision: annotations[MARK_REVISION] } : {}),
            images: annotations[MARK_IMAGES] ?? '{}',
          }
        : undefined);
    if (!recorded)
      return { summary: `nothing to undo: ${where} was not changed by this deployment`, kept: true };
    const images = ImagesSchema.safeParse(safeJson(recorded.images));
    const recordedImages = images.success ? imagesText(images.data) : 'unknown';
    if (!recorded.revision) {
      throw new StepFailedError(
        `${k.name}: ${where} had no revision before the change, so there is none to go back to; restore by hand (images then: ${recordedImages})`,
      );
    }
    if (deployment.spec.paused)
      throw new StepFailedError(`${k.name}: ${where} is paused; resume it (kubectl rollout resume) first`);
    const owned = await this.ownedReplicaSets(api, k, deployment);
    const target =
      owned.find((rs) => rs.metadata.annotations?.[REVISION_ANNOTATION] === recorded.revision) ??
      owned.find((rs) =>
        (rs.metadata.annotations?.[REVISION_HISTORY_ANNOTATION] ?? '')
          .split(',')
          .includes(recorded.revision ?? ''),
      );
    if (!target) {
      const kept = owned
        .map((rs) => Number(rs.metadata.annotations?.[REVISION_ANNOTATION]))
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      throw new StepFailedError(
        `${k.name}: the ReplicaSet of revision ${recorded.revision} of ${where} is gone (revisionHistoryLimit ${deployment.spec.revisionHistoryLimit ?? 10}; revisions kept: ${kept.join(', ') || 'none'}), so it cannot be restored automatically; the images then were ${recordedImages}`,
      );
    }
    const template = plain(target.spec.template) as Record<string, unknown> & {
      metadata?: { labels?: Record<string, string> };
    };
    if (template.metadata?.labels) {
      delete template.metadata.labels[POD_TEMPLATE_HASH];
    }
    const targetImages = imagesText(
      Object.fromEntries(target.spec.template.spec.containers.map((c) => [c.name, c.image ?? ''])),
    );
    if (sameJson(template, plain(deployment.spec.template))) {
      const settled = await this.waitForRollout(api, k, started, 'rollout');
      return {
        summary: `${where} already runs revision ${recorded.revision}'s template (${targetImages}); ${rolloutState(settled).message}`,
      };
    }
    await api.call(`${where}: restore revision ${recorded.revision}`, (apis) =>
      apis.apps.patchNamespacedDeployment(
        {
          name: k.deployment,
          namespace: k.namespace,
          body: [{ op: 'replace', path: '/spec/template', value: template }],
          fieldManager: FIELD_MANAGER,
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    const after = await this.waitForRollout(api, k, started, 'rollback');
    return {
      summary: `${where} back to revision ${recorded.revision}'s template (${targetImages}) as revision ${after.metadata.annotations?.[REVISION_ANNOTATION] ?? '?'}, ${rolloutState(after).message} after ${seconds(this.now() - started)}`,
    };
  }

  /** The running image of the step's container (`container`, else the only or first one). */
  async current(step: Step, _context: StepContext): Promise<string | undefined> {
    const k = this.kubernetesStep(step);
    const deployment = await this.readDeployment(this.api(k), k);
    return imagesOf(deployment)[this.container(k, deployment)] || undefined;
  }

  private api(k: KubernetesStep): KubeApi {
    return new KubeApi(this.options.access, k.cluster, this.retry);
  }

  private kubernetesStep(step: Step): KubernetesStep {
    if (step.kind !== 'kubernetes') {
      throw new StepKindUnsupportedError(
        `KubernetesStepRunner runs kubernetes steps, not ${step.kind} ("${step.name}")`,
      );
    }
    return step;
  }

  private async readDeployment(api: KubeApi, k: KubernetesStep): Promise<Deployment> {
    const found = await this.findDeployment(api, k);
    if (!found) {
      throw new StepFailedError(
        `${k.name}: deployment ${k.namespace}/${k.deployment} not found (namespace "${k.namespace}", deployment "${k.deployment}"${k.cluster ? `, cluster "${k.cluster}"` : ''}); check the step's namespace and deployment`,
      );
    }
    return found;
  }

  /** The Deployment, or undefined when the API answers 404. */
  private async findDeployment(api: KubeApi, k: KubernetesStep): Promise<Deployment | undefined> {
    const where = `deployment ${k.namespace}/${k.deployment}`;
    const found = await api.call(
      `read ${where}`,
      (apis) => apis.apps.readNamespacedDeployment({ name: k.deployment, namespace: k.namespace }),
      { 404: () => undefined },
    );
    return found === undefined ? undefined : parseAnswer(DeploymentSchema, found, `read ${where}`);
  }

  private container(k: KubernetesStep, deployment: Deployment): string {
    const names = deployment.spec.template.spec.containers.map((c) => c.name);
    if (k.container) {
      if (!names.includes(k.container)) {
        throw new StepFailedError(
          `${k.name}: deployment ${k.namespace}/${k.deployment} has no container "${k.container}" (containers: ${names.join(', ')})`,
        );
      }
      return k.container;
    }
    return names[0] as string;
  }

  private async ownedReplicaSets(
    api: KubeApi,
    k: KubernetesStep,
    deployment: Deployment,
  ): Promise<ReplicaSet[]> {
    const where = `deployment ${k.namespace}/${k.deployment}`;
    const list = await api.call(`list the ReplicaSets of ${where}`, (apis) =>
      apis.apps.listNamespacedReplicaSet({
        namespace: k.namespace,
        labelSelector: selectorText(deployment.spec.selector),
      }),
    );
    const items = parseAnswer(
      z.object({ items: z.array(ReplicaSetSchema) }).loose(),
      list,
      `list the ReplicaSets of ${where}`,
    ).items;
    const uid = deployment.metadata.uid;
    return items.filter((rs) =>
      rs.metadata.ownerReferences?.some((o) => o.controller === true && o.uid === uid),
    );
  }

  /** Polls the Deployment until the rollout is done, failed, or the step's time is up. */
  private async waitForRollout(
    api: KubeApi,
    k: KubernetesStep,
    started: number,
    what: 'rollout' | 'rollback',
  ): Promise<Deployment> {
    const where = `deployment ${k.namespace}/${k.deployment}`;
    const deadline = started + k.timeout * 1000;
    for (;;) {
      const deployment = await this.readDeployment(api, k);
      const state = rolloutState(deployment);
      if (state.state === 'done') return deployment;
      if (state.state === 'failed') {
        throw new StepFailedError(
          `${k.name}: ${what} of ${where} ${state.message}${await this.whyPods(api, k, deployment)}`,
        );
      }
      if (this.now() >= deadline) {
        throw new StepFailedError(
          `${k.name}: ${what} of ${where} did not finish within ${k.timeout} s (${state.message})${await this.whyPods(api, k, deployment)}`,
        );
      }
      await this.retry.sleep(Math.min(this.pollIntervalMs, Math.max(1, deadline - this.now())));
    }
  }

  /** Why the new ReplicaSet's pods are not available, as `; new pods: …`; empty when unknown. */
  private async whyPods(api: KubeApi, k: KubernetesStep, deployment: Deployment): Promise<string> {
    try {
      const revision = deployment.metadata.annotations?.[REVISION_ANNOTATION];
      const owned = await this.ownedReplicaSets(api, k, deployment);
      const newest = owned.find((rs) => rs.metadata.annotations?.[REVISION_ANNOTATION] === revision);
      const hash = newest?.metadata.labels?.[POD_TEMPLATE_HASH];
      const selector = `${selectorText(deployment.spec.selector)}${hash ? `,${POD_TEMPLATE_HASH}=${hash}` : ''}`;
      const list = await api.call(`list the pods of deployment ${k.namespace}/${k.deployment}`, (apis) =>
        apis.core.listNamespacedPod({ namespace: k.namespace, labelSelector: selector }),
      );
      const pods = parseAnswer(z.object({ items: z.array(PodSchema) }).loose(), list, 'list pods').items;
      const problems = podProblems(pods);
      return problems ? `; new pods: ${problems}` : '';
    } catch {
      // the rollout's own failure is the message; the pods only explain it
      return '';
    }
  }

  /** The Deployment of the step's manifest file, its `{{vars}}` filled in, for server-side apply. */
  private manifest(k: KubernetesStep, vars: Record<string, string>): Record<string, unknown> {
    const file = this.insideBaseDir(k, k.manifest ?? '');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new BadRequestError(
        `${k.name}: cannot read manifest ${k.manifest} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    const documents = parseAllDocuments(text);
    if (!Array.isArray(documents)) throw new BadRequestError(`${k.name}: manifest ${k.manifest} is empty`);
    const objects: unknown[] = [];
    for (const document of documents) {
      const error = document.errors[0];
      if (error) {
        throw new BadRequestError(
          `${k.name}: manifest ${k.manifest} is not valid YAML (line ${error.linePos?.[0]?.line ?? '?'}: ${error.code})`,
        );
      }
      const value = document.toJS();
      if (value !== null && value !== undefined) objects.push(value);
    }
    const described = objects.map((o) => {
      const object = o as { kind?: unknown; metadata?: { name?: unknown } };
      return `${String(object.kind)}/${String(object.metadata?.name)}`;
    });
    if (objects.length !== 1 || described[0] !== `Deployment/${k.deployment}`) {
      throw new BadRequestError(
        `${k.name}: manifest ${k.manifest} must hold exactly the Deployment ${k.deployment} (it holds ${described.join(', ') || 'nothing'}); a kubernetes step applies one Deployment, so apply other objects with a command step`,
      );
    }
    const parsed = ManifestSchema.safeParse(objects[0]);
    if (!parsed.success) {
      throw new BadRequestError(
        `${k.name}: manifest ${k.manifest}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    if (parsed.data.metadata.namespace !== undefined && parsed.data.metadata.namespace !== k.namespace) {
      throw new BadRequestError(
        `${k.name}: manifest ${k.manifest} is for namespace "${parsed.data.metadata.namespace}", the step for "${k.namespace}"`,
      );
    }
    const filled = fillVarsDeep(objects[0], vars, `${k.name}: manifest ${k.manifest}`) as Record<
      string,
      unknown
    >;
    const { status: _status, ...desired } = filled;
    return { ...desired, metadata: { ...(desired.metadata as object), namespace: k.namespace } };
  }

  private insideBaseDir(k: KubernetesStep, path: string): string {
    if (this.baseDir === undefined) {
      throw new BadRequestError(
        `${k.name}: this runtime has no manifest files (on AWS the functions get only the configuration); deploy with image instead`,
      );
    }
    const file = resolve(this.baseDir, path);
    const inside = (base: string, target: string) => {
      const rel = relative(base, target);
      return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
    };
    let real = file;
    let realBase = this.baseDir;
    try {
      real = realpathSync(file);
      realBase = realpathSync(this.baseDir);
    } catch {
      // a missing file is reported when it is read; the lexical check still applies
    }
    if (!inside(this.baseDir, file) || !inside(realBase, real)) {
      throw new BadRequestError(
        `${k.name}: manifest "${path}" is outside ${this.baseDir}; use a file inside it`,
      );
    }
    return file;
  }
}

const safeJson = (text: string | undefined): unknown => {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
};
