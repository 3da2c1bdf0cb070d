import { z } from 'zod';
import {
  BadRequestError,
  ConflictError,
  ErrorNames,
  ForbiddenError,
  NotFoundError,
} from '../shared/errors.js';
import type { ApprovalDecision, ApprovalRecord, DeploymentRecord } from '../shared/ports/deployment-store.js';
import type { Ports } from '../shared/ports/index.js';

export const DecisionFormSchema = z.object({
  decision: z.enum(['approve', 'hold'], { error: 'decision must be "approve" or "hold"' }),
  approver: z.string().trim().min(1, { error: 'say who you are (your approver email)' }).max(200),
  comment: z.string().trim().max(2000).optional(),
});
export type DecisionForm = z.infer<typeof DecisionFormSchema>;

export interface ApprovalView {
  approval: Omit<ApprovalRecord, 'taskToken'>;
  deployment: DeploymentRecord;
  expired: boolean;
}

type ApprovalPorts = Pick<Ports, 'store' | 'clock'>;

const loadApproval = async (approvalId: string, ports: ApprovalPorts) => {
  const approval = /^[A-Za-z0-9_-]{10,64}$/.test(approvalId)
    ? await ports.store.getApproval(approvalId)
    : undefined;
  if (!approval)
    throw new NotFoundError('this approval link is unknown; use the newest link from the request');
  const deployment = await ports.store.getDeployment(approval.deploymentId);
  if (!deployment) throw new NotFoundError(`deployment ${approval.deploymentId} no longer exists`);
  return { approval, deployment };
};

/** What the confirm page shows. Reading changes nothing, so link scanners cannot approve. */
export const getApprovalView = async (approvalId: string, ports: ApprovalPorts): Promise<ApprovalView> => {
  const { approval, deployment } = await loadApproval(approvalId, ports);
  const { taskToken: _token, ...visible } = approval;
  return { approval: visible, deployment, expired: new Date(approval.expiresAt) <= ports.clock.now() };
};

/**
 * Records an approver's decision once and answers the waiting workflow: approve → SendTaskSuccess,
 * hold → SendTaskFailure(ApprovalHeldError). Late, repeated or unauthorised decisions change nothing.
 */
export const submitApprovalDecision = async (
  approvalId: string,
  form: unknown,
  meta: { channel: ApprovalDecision['channel']; sourceIp?: string; userAgent?: string },
  ports: Pick<Ports, 'store' | 'clock' | 'workflow'>,
): Promise<ApprovalDecision> => {
  const parsed = DecisionFormSchema.safeParse(form);
  if (!parsed.success) throw new BadRequestError(parsed.error.issues.map((i) => i.message).join('; '));
  const { decision, approver, comment } = parsed.data;
  const { approval, deployment } = await loadApproval(approvalId, ports);
  const now = ports.clock.now();
  const audit = (action: string, detail?: string) =>
    ports.store.appendAudit({
      at: now.toISOString(),
      deploymentId: approval.deploymentId,
      action,
      actor: approver,
      channel: meta.channel,
      detail: [
        detail,
        meta.sourceIp && `ip ${meta.sourceIp}`,
        meta.userAgent && `ua ${meta.userAgent.slice(0, 120)}`,
      ]
        .filter(Boolean)
        .join('; '),
    });

  if (approval.status !== 'pending') {
    await audit('decision-refused', `already ${approval.status}`);
    throw new ConflictError(
      `this deployment was already ${approval.status}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}${approval.decidedAt ? ` at ${approval.decidedAt}` : ''}; nothing changed`,
    );
  }
  if (new Date(approval.expiresAt) <= now) {
    await audit('decision-refused', 'expired');
    throw new ConflictError(`this approval request expired at ${approval.expiresAt}; nothing changed`);
  }
  const allowed = approval.approvers.map((a) => a.toLowerCase());
  if (allowed.length > 0 && !allowed.includes(approver.toLowerCase())) {
    await audit('decision-refused', 'not an approver');
    throw new ForbiddenError(
      `${approver} is not an approver of ${deployment.service}/${deployment.environment}`,
    );
  }
  if (decision === 'hold' && !comment) throw new BadRequestError('a hold needs a reason in the comment');

  const status = decision === 'approve' ? 'approved' : 'held';
  const won = await ports.store.decideApproval(approvalId, {
    status,
    decidedBy: approver,
    decidedAt: now.toISOString(),
    ...(comment ? { comment } : {}),
  });
  if (!won) {
    const current = await ports.store.getApproval(approvalId);
    throw new ConflictError(
      `this deployment was already ${current?.status ?? 'decided'}${current?.decidedBy ? ` by ${current.decidedBy}` : ''}; nothing changed`,
    );
  }
  const record: ApprovalDecision = {
    decision: status,
    by: approver,
    channel: meta.channel,
    at: now.toISOString(),
    ...(comment ? { comment } : {}),
  };
  await ports.store.updateDeployment(approval.deploymentId, { approval: record });
  await audit(
    decision === 'approve' ? 'approved' : 'held',
    `plan ${approval.planHash.slice(0, 16)}${comment ? `: ${comment}` : ''}`,
  );
  if (decision === 'approve') {
    await ports.workflow.sendTaskSuccess(approval.taskToken, record);
  } else {
    await ports.workflow.sendTaskFailure(
      approval.taskToken,
      ErrorNames.approvalHeld,
      `held by ${approver}: ${comment}`,
    );
  }
  return record;
};

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** The confirm page: the plan, its hash and risk, the gates, and a POST form (GET never decides). */
export const renderApprovalPage = (view: ApprovalView, formAction: string, notice?: string): string => {
  const { approval, deployment } = view;
  const decided = approval.status !== 'pending';
  const gates = (deployment.gates ?? [])
    .map((g) => `<li>${g.passed ? '✓' : '✗'} ${escapeHtml(g.name)}: ${escapeHtml(g.evidence)}</li>`)
    .join('');
  const form =
    decided || view.expired
      ? `<p class="closed"><strong>${decided ? `Already ${escapeHtml(approval.status)}${approval.decidedBy ? ` by ${escapeHtml(approval.decidedBy)}` : ''}` : `Expired at ${escapeHtml(approval.expiresAt)}`}</strong>: nothing more to decide.</p>`
      : `<form method="post" action="${escapeHtml(formAction)}">
  <label>Your approver email <input name="approver" type="email" required></label>
  <label>Comment (required for Hold) <textarea name="comment" rows="2"></textarea></label>
  <button name="decision" value="approve" type="submit">Approve</button>
  <button name="decision" value="hold" type="submit">Hold</button>
</form>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Approve ${escapeHtml(deployment.taskName)}</title>
<meta name="referrer" content="no-referrer">
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:1rem;white-space:pre-wrap}label{display:block;margin:.5rem 0}button{margin-right:1rem;padding:.5rem 1.5rem}.notice{background:#fff3cd;padding:.5rem 1rem}</style>
</head><body>
<h1>Approve deployment: ${escapeHtml(deployment.taskName)}</h1>
${notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : ''}
<p>${escapeHtml(deployment.service)} → <strong>${escapeHtml(deployment.environment)}</strong> · deployment <code>${escapeHtml(deployment.deploymentId)}</code> · requested by ${escapeHtml(approval.requestedBy ?? `the ${deployment.trigger} trigger`)}</p>
<p>Risk: <strong>${escapeHtml(deployment.plan?.risk ?? 'unknown')}</strong> · Plan hash <code>${escapeHtml(approval.planHash)}</code> · expires ${escapeHtml(approval.expiresAt)}</p>
<h2>Gates</h2><ul>${gates}</ul>
${form}
<h2>Plan</h2><pre>${escapeHtml(deployment.plan?.markdown ?? '(no plan)')}</pre>
</body></html>`;
};
