import { randomBytes } from 'node:crypto';
import { signLink } from '../shared/approval-links.js';
import { approverId, identitiesOf } from '../shared/approval-votes.js';
import type { Service } from '../shared/config/schema.js';
import { callbackContextFor, displayName, formatDuration, requireRecord } from '../shared/deployment.js';
import { escapeHtml } from '../shared/html.js';
import type { Ports } from '../shared/ports/index.js';

/** The identities allowed to decide, as stored on the approval (lower-case email, else ClickUp id). */
export const approverIds = (approvers: { email?: string; clickup_user_id?: string }[]): string[] =>
  approvers.flatMap((a) => {
    const id = approverId(a);
    return id ? [id] : [];
  });

/**
 * Who may not approve because they asked: the identities of the requester, widened to every identity of
 * the configured approver they are (so asking by ClickUp id and approving by email is still self-approval).
 */
export const requesterIdentities = (service: Service, requester: string[]): string[] => {
  const asked = new Set(requester.map((r) => r.toLowerCase()));
  const people = [...service.approvers, ...service.approval.break_glass];
  const widened = people
    .filter((p) => identitiesOf(p).some((id) => asked.has(id.toLowerCase())))
    .flatMap((p) => {
      const id = approverId(p);
      return id ? [id] : [];
    });
  return [...new Set([...requester.map((r) => (r.includes('@') ? r.toLowerCase() : r)), ...widened])];
};

/**
 * Stores the task token with an approval record (never in a URL, a mail or a comment), mails each approver
 * a personal signed link to the confirm page and asks on the task. The workflow waits until enough
 * approvers decide, one holds, or the request expires. A retried request supersedes the older one.
 */
export const requestApproval = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'notifier' | 'links' | 'clock' | 'approvalKeys'>,
): Promise<void> => {
  const { state, service, settings, token } = callbackContextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const existing = await ports.store.findApprovalByDeployment(state.deploymentId);
  if (existing && existing.status === 'pending' && existing.taskToken === token) return;

  const now = ports.clock.now();
  if (existing && existing.status === 'pending') {
    // a retried RequestApproval got a new token: the older request can no longer answer the workflow
    await ports.store.decideApproval(existing.approvalId, {
      status: 'expired',
      decidedBy: 'devops-agent',
      decidedAt: now.toISOString(),
      comment: 'superseded by a newer approval request',
    });
  }
  const approvalId = randomBytes(18).toString('base64url');
  const expiresAt = new Date(now.getTime() + settings.approvalTimeoutSeconds * 1000).toISOString();
  const planHash = state.plan?.hash ?? record.plan?.hash ?? '';
  const quorum = service.approval.quorum;
  const requester = service.approval.allow_self_approval
    ? []
    : requesterIdentities(service, state.requesterIds ?? (state.requestedBy ? [state.requestedBy] : []));
  await ports.store.putApproval({
    approvalId,
    deploymentId: state.deploymentId,
    taskId: state.taskId,
    taskToken: token,
    planHash,
    approvers: approverIds(service.approvers),
    quorum,
    breakGlass: approverIds(service.approval.break_glass),
    votes: [],
    requester,
    ...(state.requestedBy ? { requestedBy: state.requestedBy } : {}),
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
    detail: [
      `plan ${planHash.slice(0, 16)}`,
      `quorum ${quorum} of ${service.approvers.length}`,
      `expires ${expiresAt}`,
      requester.length
        ? `self-approval forbidden for ${requester.join(', ')}`
        : 'requester unknown or self-approval allowed',
    ].join('; '),
  });

  const risk = record.plan?.risk ?? state.plan?.risk ?? 'medium';
  const riskLabel = `${risk[0]?.toUpperCase()}${risk.slice(1)}`;
  const duration = formatDuration(service.steps.length * 60 + settings.monitoringPeriodSeconds);
  const summary = [
    'All gates passed. Deployment plan ready.',
    `Risk: ${riskLabel} | Window: Now | Duration: ~${duration}`,
    `Approvals needed: ${quorum} of ${service.approvers.length}`,
  ];
  const steps = planSection(record.plan?.markdown ?? '', 'Deployment Steps');
  const key = await ports.approvalKeys.current();
  const mailed: string[] = [];
  for (const approver of service.approvers) {
    if (!approver.email) continue;
    const identity = approverId(approver) ?? approver.email.toLowerCase();
    const { token: linkToken } = signLink(key, { approvalId, approver: identity, expiresAt });
    const link = ports.links.approval(approvalId, linkToken);
    await ports.notifier.send({
      to: [approver.email],
      subject: `Approve deployment: ${record.taskName} → ${service.environment}`,
      text: [
        `${displayName(service)} → ${service.environment}: ${record.taskName}`,
        '',
        ...summary,
        ...(steps.length ? ['', 'Steps:', ...steps] : []),
        '',
        `Plan hash: ${planHash}`,
        `Your personal link (opening it changes nothing; you decide on the page): ${link}`,
        `It works for you only, once, until ${expiresAt}. Do not forward it.`,
      ].join('\n'),
      html: `<p><strong>${escapeHtml(displayName(service))} → ${escapeHtml(service.environment)}</strong>: ${escapeHtml(record.taskName)}</p>
<p>${summary.map(escapeHtml).join('<br>')}</p>
${steps.length ? `<p>Steps:</p><p>${steps.map(escapeHtml).join('<br>')}</p>` : ''}
<p>Plan hash <code>${planHash}</code></p>
<p><a href="${escapeHtml(link)}">Review the plan and decide</a> (opening the link changes nothing; you decide on the page). It works for you only, once, until ${escapeHtml(expiresAt)}. Do not forward it.</p>`,
    });
    mailed.push(approver.email);
  }
  await ports.tracker.comment(
    state.taskId,
    [
      `🚀 @human ${service.environment.toUpperCase()} DEPLOY READY`,
      '',
      ...summary,
      '',
      `Approve to deploy ${displayName(service)} to ${service.environment}.`,
      mailed.length
        ? `Each approver was mailed a personal link to the confirm page (${mailed.join(', ')}).`
        : 'No approver has an email address: decide here.',
      `Approval expires in ${formatDuration(settings.approvalTimeoutSeconds)}.`,
      'Reply `/deploy approve` to deploy or `/deploy hold <reason>` to wait.',
    ].join('\n'),
  );
};

/** The lines of one `## …` section of the plan's Markdown (the mail lists the steps from it). */
export const planSection = (markdown: string, title: string): string[] => {
  const lines = markdown.split('\n');
  const start = lines.indexOf(`## ${title}`);
  if (start === -1) return [];
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start + 1, end === -1 ? undefined : end).filter((l) => l.trim() !== '');
};
