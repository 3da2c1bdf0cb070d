import { recordFinished } from '../shared/agent-metrics.js';
import { contextFor, formatDuration, requireRecord } from '../shared/deployment.js';
import { describeFailure } from '../shared/failure.js';
import type { Ports } from '../shared/ports/index.js';
import { writeRecord } from '../shared/record.js';
import type { Outcome } from '../shared/workflow.js';

/** "42s", "3 min": how long the bake took to react to a breach. */
const reaction = (ms: number): string => formatDuration(Math.max(0, Math.round(ms / 1000)));

const failureOf = (state: { error?: { Error: string; Cause?: string } }) =>
  state.error?.Cause ?? state.error?.Error ?? 'requested';

/** Reports the failure with its root cause after a verified rollback (or when rollback is disabled). */
export const reportFailure = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'artifacts' | 'notifier' | 'clock' | 'telemetry'>,
): Promise<Outcome> => {
  const { state, service, settings } = contextFor(input, ports);
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
  // a requested rollback run is not a deployment, and it ends in a Succeed state: counting it among the
  // finished deployments would offset a real failure in the workflow-failed alarm (docs/observability.md)
  if (!state.rollbackOf)
    recordFinished(ports.telemetry, outcome, { startedAt: record.createdAt, finishedAt: now });
  if (settings.failureStatus) await ports.tracker.setStatus(state.taskId, settings.failureStatus);
  const key = await writeRecord(state.deploymentId, ports);
  if (state.rollbackOf) {
    // a requested rollback run after a finished deployment: undone on purpose, not a failed release
    const text = [
      rolledBack && !record.rollback?.error
        ? `↩️ ROLLED BACK: ${state.rollbackOf} was undone on request.`
        : `❌ ROLLBACK OF ${state.rollbackOf} DID NOT COMPLETE`,
      '',
      `Reason: ${failureOf(state)}`,
      ...(record.rollback?.steps ?? []).map(
        (s) =>
          `- ${s.name}: ${s.status}${s.summary ? ` (${s.summary})` : ''}${s.error ? `: ${s.error}` : ''}`,
      ),
      '',
      `Deployment record: ${ports.artifacts.link(key)}`,
    ].join('\n');
    await ports.tracker.comment(state.taskId, text);
    return outcome;
  }
  const text = [
    '❌ DEPLOYMENT FAILED',
    '',
    `Failed at: ${failure.failedAt}`,
    `Error: ${failure.error}`,
    '',
    ...(rolledBack
      ? [
          'Automatic rollback completed successfully.',
          'Application restored to previous state.',
          ...(record.rollback?.reactionMs !== undefined
            ? [
                `Rollback started ${reaction(record.rollback.reactionMs)} after the first breaching datapoint.`,
              ]
            : []),
        ]
      : [
          'Automatic rollback is disabled: the release is still live. A human must decide now (`/deploy rollback` to undo).',
        ]),
    '',
    `Root cause: ${failure.rootCause}`,
    `Action: ${failure.action}`,
    '',
    `Deployment record: ${ports.artifacts.link(key)}`,
  ].join('\n');
  await ports.tracker.comment(state.taskId, text);
  // with automatic rollback disabled the failed release is still serving: a task comment alone may go
  // unread, so the approvers get an urgent mail too
  const emails = service.approvers.map((a) => a.email).filter((e): e is string => e !== undefined);
  if (!rolledBack && emails.length) {
    await ports.notifier.send({
      to: emails,
      subject: `URGENT: ${record.taskName} failed in ${service.environment}; automatic rollback is disabled`,
      text,
    });
  }
  return outcome;
};
