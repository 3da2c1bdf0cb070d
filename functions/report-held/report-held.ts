import { recordFinished } from '../shared/agent-metrics.js';
import { contextFor, formatDuration } from '../shared/deployment.js';
import { ApprovalExpiredError } from '../shared/errors.js';
import type { Ports } from '../shared/ports/index.js';
import { writeRecord } from '../shared/record.js';
import type { Outcome } from '../shared/workflow.js';

/** Reports a held or expired approval; nothing was deployed. An expiry is recorded as such. */
export const reportHeld = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'artifacts' | 'clock' | 'telemetry'>,
): Promise<Outcome> => {
  const { state, settings } = contextFor(input, ports);
  const now = ports.clock.now().toISOString();
  const approval = await ports.store.findApprovalByDeployment(state.deploymentId);
  const expired = state.error?.Error === 'States.Timeout' || state.error?.Error === ApprovalExpiredError.name;
  if (expired && approval?.status === 'pending') {
    await ports.store.decideApproval(approval.approvalId, {
      status: 'expired',
      decidedBy: 'devops-agent',
      decidedAt: now,
    });
  }
  const after = approval;
  const text = expired
    ? `⌛ APPROVAL EXPIRED\n\nNo decision within ${formatDuration(settings.approvalTimeoutSeconds)}; nothing was deployed.\nMove the task to the input status again to ask anew.`
    : `⏸️ DEPLOYMENT HELD${after?.decidedBy ? ` by ${after.decidedBy}` : ''}\n\n${after?.comment ? `Reason: ${after.comment}\n\n` : ''}Nothing was deployed. Move the task to the input status again when it may go ahead.`;
  await ports.store.updateDeployment(state.deploymentId, {
    status: 'held',
    stage: 'ReportHeld',
    outcome: 'held',
    finishedAt: now,
    ...(expired
      ? { approval: { decision: 'expired' as const, by: 'devops-agent', channel: 'auto' as const, at: now } }
      : {}),
  });
  if (expired) {
    await ports.store.appendAudit({
      at: now,
      deploymentId: state.deploymentId,
      action: 'approval-expired',
      actor: 'devops-agent',
      channel: 'workflow',
    });
  }
  // the record keeps who held it and why (or that nobody decided), with the plan they were shown
  const key = await writeRecord(state.deploymentId, ports);
  await ports.tracker.comment(
    state.taskId,
    key ? `${text}\n\nDeployment record: ${ports.artifacts.link(key)}` : text,
  );
  // the deployment's request time: this core reads no record
  recordFinished(ports.telemetry, 'held', { startedAt: state.requestedAt, finishedAt: now });
  return 'held';
};
