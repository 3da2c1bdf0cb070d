import { contextFor, lockKey } from '../shared/deployment.js';
import type { LockResult } from '../shared/ports/deployment-store.js';
import type { Ports } from '../shared/ports/index.js';

/** Extra lease beyond the longest the deployment can take, so a crashed run frees the lock eventually. */
const LEASE_MARGIN_SECONDS = 2 * 3600;

/**
 * Takes the lock of the service/environment. When another deployment holds it, says so on the task once
 * and returns `acquired: false`; the workflow waits and tries again.
 */
export const acquireLock = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'clock'>,
): Promise<LockResult> => {
  const { state, service, settings } = contextFor(input, ports);
  const now = ports.clock.now();
  const leaseSeconds =
    settings.approvalTimeoutSeconds +
    settings.monitoringPeriodSeconds +
    service.steps.length * 900 +
    LEASE_MARGIN_SECONDS;
  const expiresAt = new Date(now.getTime() + leaseSeconds * 1000).toISOString();
  const result = await ports.store.acquireLock(
    lockKey(state.service, state.environment),
    state.deploymentId,
    expiresAt,
    now.toISOString(),
  );
  const record = await ports.store.getDeployment(state.deploymentId);
  if (!result.acquired && record?.stage !== 'WaitForLock') {
    await ports.store.updateDeployment(state.deploymentId, {
      stage: 'WaitForLock',
      status: 'queued',
      queuePosition: result.position,
    });
    await ports.tracker.comment(
      state.taskId,
      `⏳ Queued: ${result.holder ?? 'another deployment'} is deploying ${state.service} to ${state.environment}. Position in queue: ${result.position}. This deployment starts when it finishes.`,
    );
  } else if (!result.acquired && record?.queuePosition !== result.position) {
    // the queue moved (one ahead finished or gave up): say so once per change, not on every retry
    await ports.store.updateDeployment(state.deploymentId, { queuePosition: result.position });
    await ports.tracker.comment(
      state.taskId,
      result.position === 1
        ? `⏳ Queue moved: next in line for ${state.service} in ${state.environment}${result.holder ? ` (after ${result.holder})` : ''}.`
        : `⏳ Queue moved: position ${result.position} for ${state.service} in ${state.environment}.`,
    );
  }
  if (result.acquired)
    await ports.store.updateDeployment(state.deploymentId, { stage: 'AcquireLock', status: 'checking' });
  return { acquired: result.acquired, position: result.position };
};
