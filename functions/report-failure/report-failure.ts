import { contextFor, requireRecord } from '../shared/deployment.js';
import { describeFailure } from '../shared/failure.js';
import type { Ports } from '../shared/ports/index.js';
import { writeRecord } from '../shared/record.js';
import type { Outcome } from '../shared/workflow.js';

/** Reports the failure with its root cause after a verified rollback (or when rollback is disabled). */
export const reportFailure = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'artifacts' | 'clock'>,
): Promise<Outcome> => {
  const { state, settings } = contextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const failure = describeFailure(record, state.error);
  const rolledBack = record.rollback !== undefined;
  const outcome: Outcome = rolledBack ? 'rolled-back' : 'failed';
  const now = ports.clock.now().toISOString();
  await ports.store.updateDeployment(state.deploymentId, {
    status: rolledBack ? 'rolled-back' : 'blocked',
    stage: 'ReportFailure',
    outcome,
    finishedAt: now,
  });
  if (settings.failureStatus) await ports.tracker.setStatus(state.taskId, settings.failureStatus);
  const key = await writeRecord(state.deploymentId, ports);
  await ports.tracker.comment(
    state.taskId,
    [
      '❌ DEPLOYMENT FAILED',
      '',
      `Failed at: ${failure.failedAt}`,
      `Error: ${failure.error}`,
      '',
      ...(rolledBack
        ? ['Automatic rollback completed successfully.', 'Application restored to previous state.']
        : [
            'Automatic rollback is disabled: the release is still live. A human must decide now (`/deploy rollback` to undo).',
          ]),
      '',
      `Root cause: ${failure.rootCause}`,
      `Action: ${failure.action}`,
      '',
      `Deployment record: ${ports.artifacts.link(key)}`,
    ].join('\n'),
  );
  return outcome;
};
