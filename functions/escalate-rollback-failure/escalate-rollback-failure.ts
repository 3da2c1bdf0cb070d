import { recordFinished } from '../shared/agent-metrics.js';
import { contextFor, requireRecord } from '../shared/deployment.js';
import { describeFailure } from '../shared/failure.js';
import type { Ports } from '../shared/ports/index.js';
import { writeRecord } from '../shared/record.js';

/**
 * The rollback itself failed: the environment is in an unknown state. Says so loudly on the task and by
 * mail, never as success, and keeps the lock so no other deployment lands on top of it.
 */
export const escalateRollbackFailure = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'artifacts' | 'notifier' | 'clock' | 'telemetry'>,
): Promise<void> => {
  const { state, service, settings } = contextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const failure = describeFailure(record, state.error);
  const rollbackError =
    state.rollbackError?.Cause ?? state.rollbackError?.Error ?? record.rollback?.error ?? 'unknown';
  const now = ports.clock.now().toISOString();
  await ports.store.updateDeployment(state.deploymentId, {
    status: 'rollback-failed',
    stage: 'EscalateRollbackFailure',
    finishedAt: now,
    rollback: { ...(record.rollback ?? { reason: failure.rootCause, steps: [] }), error: rollbackError },
  });
  recordFinished(ports.telemetry, 'rollback-failed', { startedAt: record.createdAt, finishedAt: now });
  if (settings.failureStatus) await ports.tracker.setStatus(state.taskId, settings.failureStatus);
  const key = await writeRecord(state.deploymentId, ports);
  const text = [
    '🚨 ROLLBACK FAILED: HUMAN ACTION NEEDED NOW',
    '',
    `Deployment failed at: ${failure.failedAt} (${failure.error})`,
    `Rollback error: ${rollbackError}`,
    '',
    `${service.name}/${service.environment} may be running a mix of versions.`,
    'The deployment lock is kept: no deployment starts until someone restores the service and releases it.',
    '',
    `Deployment record: ${ports.artifacts.link(key)}`,
  ].join('\n');
  await ports.tracker.comment(state.taskId, `@human ${text}`);
  const emails = service.approvers.map((a) => a.email).filter((e): e is string => e !== undefined);
  if (emails.length) {
    await ports.notifier.send({
      to: emails,
      subject: `URGENT: rollback failed for ${record.taskName} (${service.environment})`,
      text,
    });
  }
};
