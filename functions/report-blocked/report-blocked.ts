import { recordFinished } from '../shared/agent-metrics.js';
import { contextFor, requireRecord } from '../shared/deployment.js';
import type { Ports } from '../shared/ports/index.js';
import { writeRecord } from '../shared/record.js';
import type { Outcome } from '../shared/workflow.js';

/** Tells the task why nothing was deployed: the failed gates with what to do, or the error that stopped it. */
export const reportBlocked = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'artifacts' | 'clock' | 'telemetry'>,
): Promise<Outcome> => {
  const { state } = contextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const failedGates = (record.gates ?? []).filter((g) => !g.passed);
  const gateLine = (g: (typeof failedGates)[number]) =>
    g.error
      ? `? ${g.name}: could not be evaluated (${g.error})${g.reason ? `\n  → ${g.reason}` : ''}`
      : `✗ ${g.name}: ${g.evidence}${g.reason ? `\n  → ${g.reason}` : ''}`;
  const retry = 'comment `/deploy` (or move the task again) to retry.';
  const body = [
    ...(state.error
      ? [
          `Could not prepare the deployment: ${state.error.Cause ?? state.error.Error} (${state.error.Error})`,
          '',
        ]
      : []),
    ...failedGates.map(gateLine),
    ...(failedGates.length > 0 ? [''] : []),
    failedGates.length > 0
      ? `Cannot deploy until all gates pass. Then ${retry}`
      : `Nothing was deployed. Fix the cause, then ${retry}`,
  ];
  const now = ports.clock.now().toISOString();
  await ports.store.updateDeployment(state.deploymentId, {
    status: 'blocked',
    stage: 'ReportBlocked',
    outcome: 'blocked',
    finishedAt: now,
    ...(state.error
      ? { error: { name: state.error.Error, message: state.error.Cause ?? state.error.Error } }
      : {}),
  });
  // a blocked deployment has a record too: what the gates found is worth keeping (DORA skips it)
  const key = await writeRecord(state.deploymentId, ports);
  await ports.tracker.comment(
    state.taskId,
    [
      '⚠️ DEPLOYMENT BLOCKED - Quality gates not met',
      '',
      ...body,
      ...(key ? ['', `Deployment record: ${ports.artifacts.link(key)}`] : []),
    ].join('\n'),
  );
  recordFinished(ports.telemetry, 'blocked', { startedAt: record.createdAt, finishedAt: now });
  return 'blocked';
};
