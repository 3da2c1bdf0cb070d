import type { Check } from '../config/schema.js';
import { errorMessage, StepKindUnsupportedError } from '../errors.js';
import type { CheckResult } from '../ports/deployment-store.js';
import type { CheckRunner, CheckRunOptions } from '../ports/step-runner.js';
import type { ClusterAccess } from './kubernetes/cluster-access.js';
import {
  DeploymentSchema,
  defaultSleep,
  KubeApi,
  parseAnswer,
  type RetryOptions,
  rolloutState,
} from './kubernetes/kube-api.js';
import { fillVars } from './kubernetes/vars.js';

export interface RolloutCheckRunnerOptions {
  access: ClusterAccess;
  retry?: Partial<RetryOptions>;
}

/**
 * `rollout` checks: the Kubernetes Deployment runs the release's image (`{{vars}}` filled) in its pod
 * template and its rollout is complete as `kubectl rollout status` decides it (every replica updated and
 * available, no old ones left). A miss is an answer (`passed: false`), never a throw.
 */
export class RolloutCheckRunner implements CheckRunner {
  private readonly retry: RetryOptions;

  constructor(private readonly options: RolloutCheckRunnerOptions) {
    this.retry = { attempts: 4, baseDelayMs: 500, sleep: defaultSleep, ...options.retry };
  }

  async run(check: Check, options: CheckRunOptions = {}): Promise<CheckResult> {
    if (check.kind !== 'rollout')
      throw new StepKindUnsupportedError(`RolloutCheckRunner runs rollout checks, not ${check.kind}`);
    const started = performance.now();
    const result = (passed: boolean, detail: string): CheckResult => ({
      name: check.name,
      kind: check.kind,
      passed,
      detail,
      durationMs: Math.round(performance.now() - started),
    });
    const where = `deployment ${check.namespace}/${check.deployment}`;
    try {
      const expected = fillVars(check.image, options.vars ?? {}, `check "${check.name}"`);
      const api = new KubeApi(this.options.access, check.cluster, this.retry);
      const raw = await api.call(
        `read ${where}`,
        (apis) => apis.apps.readNamespacedDeployment({ name: check.deployment, namespace: check.namespace }),
        { 404: () => undefined },
      );
      if (raw === undefined) return result(false, `${where} not found`);
      const deployment = parseAnswer(DeploymentSchema, raw, `read ${where}`);
      const containers = deployment.spec.template.spec.containers;
      const container = check.container ? containers.find((c) => c.name === check.container) : containers[0];
      if (!container)
        return result(
          false,
          `${where} has no container "${check.container}" (containers: ${containers.map((c) => c.name).join(', ')})`,
        );
      if (container.image !== expected)
        return result(false, `${where} runs ${container.image ?? '(no image)'}, expected ${expected}`);
      const state = rolloutState(deployment);
      if (state.state !== 'done') return result(false, `${expected} not everywhere yet: ${state.message}`);
      return result(true, `${expected} everywhere (${state.message})`);
    } catch (error) {
      return result(false, `${where} could not be read: ${errorMessage(error)}`);
    }
  }
}
