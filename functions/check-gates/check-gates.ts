import type { Service } from '../shared/config/schema.js';
import { contextFor } from '../shared/deployment.js';
import { errorMessage, NotFoundError } from '../shared/errors.js';
import type { GateResult } from '../shared/ports/deployment-store.js';
import type { Ports } from '../shared/ports/index.js';
import type { TrackerTask } from '../shared/ports/tracker.js';

const APPROVED = /^(approved|yes|passed|done|✓)$/i;

/** Where the release's pull request is found on the task (custom fields). */
export const PR_FIELD = 'PR';
export const REPOSITORY_FIELD = 'Repository';

type GatePorts = Pick<Ports, 'sourceControl' | 'alarms' | 'steps' | 'checks'>;

const runnableGate = (service: Service, ports: GatePorts): GateResult => {
  const missing = [
    ...service.steps.filter((s) => !ports.steps[s.kind]).map((s) => `step "${s.name}" (${s.kind})`),
    ...service.verification.filter((c) => !ports.checks[c.kind]).map((c) => `check "${c.name}" (${c.kind})`),
  ];
  return missing.length === 0
    ? {
        name: 'Runtime can run every step',
        passed: true,
        evidence: `${service.steps.length} steps, ${service.verification.length} checks`,
      }
    : {
        name: 'Runtime can run every step',
        passed: false,
        evidence: missing.join(', '),
        reason: `this runtime has no runner for ${missing.join(', ')}; use a supported kind or run where it is available`,
      };
};

const signOffGate = (field: string, task: TrackerTask): GateResult => {
  const value = task.customFields[field];
  return value !== undefined && APPROVED.test(value.trim())
    ? { name: `${field} approved`, passed: true, evidence: `${field}: ${value}` }
    : {
        name: `${field} approved`,
        passed: false,
        evidence: `${field}: ${value ?? '(not set)'}`,
        reason: `set the task's "${field}" field to Approved once the review is done`,
      };
};

const sourceGates = async (service: Service, task: TrackerTask, ports: GatePorts): Promise<GateResult[]> => {
  const { ci, pr_merged } = service.gates;
  if (!ci && !pr_merged) return [];
  const repository = task.customFields[REPOSITORY_FIELD];
  const number = Number(task.customFields[PR_FIELD]);
  if (!repository || !Number.isInteger(number) || number <= 0) {
    const reason = `set the task's "${PR_FIELD}" (pull request number) and "${REPOSITORY_FIELD}" (owner/name) fields`;
    return [
      ...(pr_merged
        ? [{ name: 'PR merged', passed: false, evidence: 'no pull request on the task', reason }]
        : []),
      ...(ci ? [{ name: 'CI green', passed: false, evidence: 'no release commit known', reason }] : []),
    ];
  }
  let pr: Awaited<ReturnType<GatePorts['sourceControl']['getPullRequest']>>;
  try {
    pr = await ports.sourceControl.getPullRequest(repository, number);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const reason = `pull request ${repository}#${number} does not exist; fix the task's "${PR_FIELD}" field`;
    return [
      ...(pr_merged
        ? [{ name: 'PR merged', passed: false, evidence: `${repository}#${number}`, reason }]
        : []),
      ...(ci ? [{ name: 'CI green', passed: false, evidence: `${repository}#${number}`, reason }] : []),
    ];
  }
  const gates: GateResult[] = [];
  if (pr_merged) {
    gates.push(
      pr.merged
        ? { name: 'PR merged', passed: true, evidence: `${pr.url} merged into ${pr.baseBranch}` }
        : {
            name: 'PR merged',
            passed: false,
            evidence: pr.url,
            reason: `merge ${repository}#${number} into ${pr.baseBranch} first`,
          },
    );
  }
  if (ci) {
    if (!pr.mergeCommitSha) {
      gates.push({
        name: 'CI green',
        passed: false,
        evidence: pr.url,
        reason: 'the pull request has no merge commit yet',
      });
    } else {
      const status = await ports.sourceControl.getCommitStatus(repository, pr.mergeCommitSha);
      const failing = status.checks.filter((c) => c.state !== 'success').map((c) => `${c.name}: ${c.state}`);
      gates.push(
        status.state === 'success'
          ? {
              name: 'CI green',
              passed: true,
              evidence: `${status.checks.length} checks passed on ${pr.mergeCommitSha.slice(0, 7)}`,
            }
          : {
              name: 'CI green',
              passed: false,
              evidence: `${status.state} on ${pr.mergeCommitSha.slice(0, 7)}${failing.length ? ` (${failing.join(', ')})` : ' (no checks reported)'}`,
              reason: 'wait for CI to pass on the release commit, or fix the failing checks',
            },
      );
    }
  }
  return gates;
};

/**
 * Checks the quality gates and records their evidence. A failed gate is an answer (`passed: false`), not an
 * error; a dependency that cannot answer throws, so the workflow retries it and reports it if it persists.
 */
export const checkGates = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'clock'> & GatePorts,
): Promise<{ passed: boolean; failed: string[] }> => {
  const { state, service, settings } = contextFor(input, ports);
  await ports.store.updateDeployment(state.deploymentId, { stage: 'CheckGates', status: 'checking' });
  const task = await ports.tracker.getTask(state.taskId);
  const gates: GateResult[] = [
    runnableGate(service, ports),
    ...(await sourceGates(service, task, ports)),
    ...service.gates.sign_off.map((field) => signOffGate(field, task)),
  ];
  if (service.gates.alarms_clear) {
    try {
      const check = await ports.alarms.check({
        service: service.name,
        environment: service.environment,
        triggers: settings.triggers,
        alarms: service.monitoring.alarms,
        since: new Date(0).toISOString(),
      });
      gates.push(
        check.breached
          ? {
              name: 'No alarms firing',
              passed: false,
              evidence: check.reasons.join('; '),
              reason: 'fix what is firing before deploying on top of it',
            }
          : { name: 'No alarms firing', passed: true, evidence: 'all triggers within targets' },
      );
    } catch (error) {
      gates.push({
        name: 'No alarms firing',
        passed: false,
        evidence: `cannot read alarms: ${errorMessage(error)}`,
        reason: 'the alarm source must answer before a deploy',
      });
    }
  }
  await ports.store.updateDeployment(state.deploymentId, { gates });
  const failed = gates.filter((g) => !g.passed).map((g) => g.name);
  return { passed: failed.length === 0, failed };
};
