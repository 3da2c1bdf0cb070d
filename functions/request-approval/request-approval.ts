import { randomBytes } from 'node:crypto';
import { callbackContextFor, displayName, formatDuration, requireRecord } from '../shared/deployment.js';
import type { Ports } from '../shared/ports/index.js';

/** The email addresses (or ClickUp ids) allowed to decide, as stored on the approval. */
export const approverIds = (approvers: { email?: string; clickup_user_id?: string }[]): string[] =>
  approvers.flatMap((a) =>
    [a.email?.toLowerCase(), a.clickup_user_id].filter((v): v is string => v !== undefined),
  );

/**
 * Stores the task token with an approval record (never in a URL or comment), mails each approver a link
 * to the confirm page and asks on the task. The workflow waits until a decision answers the token.
 */
export const requestApproval = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'notifier' | 'links' | 'clock'>,
): Promise<void> => {
  const { state, service, settings, token } = callbackContextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const existing = await ports.store.findApprovalByDeployment(state.deploymentId);
  if (existing && existing.status === 'pending' && existing.taskToken === token) return;

  const now = ports.clock.now();
  const approvalId = randomBytes(18).toString('base64url');
  const expiresAt = new Date(now.getTime() + settings.approvalTimeoutSeconds * 1000).toISOString();
  const planHash = state.plan?.hash ?? record.plan?.hash ?? '';
  await ports.store.putApproval({
    approvalId,
    deploymentId: state.deploymentId,
    taskId: state.taskId,
    taskToken: token,
    planHash,
    approvers: approverIds(service.approvers),
    requestedBy: state.requestedBy,
    status: 'pending',
    createdAt: now.toISOString(),
    expiresAt,
  });
  await ports.store.updateDeployment(state.deploymentId, {
    stage: 'RequestApproval',
    status: 'awaiting-approval',
  });
  await ports.store.appendAudit({
    at: now.toISOString(),
    deploymentId: state.deploymentId,
    action: 'approval-requested',
    actor: 'devops-agent',
    channel: 'workflow',
    detail: `plan ${planHash.slice(0, 16)}, expires ${expiresAt}`,
  });

  const risk = record.plan?.risk ?? state.plan?.risk ?? 'medium';
  const riskLabel = `${risk[0]?.toUpperCase()}${risk.slice(1)}`;
  const duration = formatDuration(service.steps.length * 60 + settings.monitoringPeriodSeconds);
  const link = ports.links.approval(approvalId);
  const summary = [
    'All gates passed. Deployment plan ready.',
    `Risk: ${riskLabel} | Window: Now | Duration: ~${duration}`,
    '',
    `Approve to deploy ${displayName(service)} to ${service.environment}.`,
  ];
  const emails = service.approvers.map((a) => a.email).filter((e): e is string => e !== undefined);
  if (emails.length > 0) {
    await ports.notifier.send({
      to: emails,
      subject: `Approve deployment: ${record.taskName} → ${service.environment}`,
      text: [
        ...summary,
        '',
        `Review the plan (hash ${planHash.slice(0, 16)}) and decide: ${link}`,
        `The request expires ${expiresAt}.`,
      ].join('\n'),
      html: `<p>${summary.filter(Boolean).join('<br>')}</p><p><a href="${link}">Review the plan and decide</a> (plan hash <code>${planHash.slice(0, 16)}</code>; expires ${expiresAt})</p>`,
    });
  }
  await ports.tracker.comment(
    state.taskId,
    [
      `🚀 @human ${service.environment.toUpperCase()} DEPLOY READY`,
      '',
      ...summary,
      '',
      `Approvers were sent a link to the confirm page${emails.length ? ` (${emails.join(', ')})` : ''}. Approval expires in ${formatDuration(settings.approvalTimeoutSeconds)}.`,
      'Reply `/deploy approve` to deploy or `/deploy hold` to wait.',
    ].join('\n'),
  );
};
