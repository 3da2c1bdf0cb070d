import { formatChecks, runChecks } from '../shared/checks.js';
import { contextFor, requireRecord } from '../shared/deployment.js';
import { RollbackFailedError } from '../shared/errors.js';
import type { Ports } from '../shared/ports/index.js';

/** Proves the previous version serves again: the verification checks must pass after the rollback. */
export const verifyRollback = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'checks' | 'clock'>,
): Promise<void> => {
  const { state, service, settings } = contextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  await ports.store.updateDeployment(state.deploymentId, { stage: 'VerifyRollback' });
  // a rollout check names the release's image, which the rollback just replaced: the undo of the kubernetes
  // step waited for the previous revision's rollout itself
  const results = await runChecks(
    service.verification.filter((c) => c.kind !== 'rollout'),
    settings.verificationTimeoutSeconds,
    ports,
    record.baselines,
  );
  const rollback = record.rollback ?? { reason: 'unknown', steps: [] };
  await ports.store.updateDeployment(state.deploymentId, {
    rollback: { ...rollback, verification: results },
  });
  const failed = results.filter((r) => !r.passed);
  if (results.length) {
    await ports.tracker.comment(
      state.taskId,
      `${failed.length ? '❌ Rollback verification failed' : '✓ Rollback verified'}\n${formatChecks(results)}`,
    );
  }
  if (failed.length) {
    throw new RollbackFailedError(
      `after the rollback: ${failed.map((r) => `${r.name}: ${r.detail}`).join('; ')}`,
    );
  }
};
