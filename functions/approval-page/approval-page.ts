import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import {
  type ApprovalKeys,
  ApprovalLinkError,
  csrfToken,
  type LinkClaims,
  verifyCsrf,
  verifyLink,
} from '../shared/approval-links.js';
import { auditRefusal, castVote, type VoteMeta, type VotePorts } from '../shared/approval-votes.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../shared/errors.js';
import { escapeHtml } from '../shared/html.js';
import { toHttpError } from '../shared/http-errors.js';
import type { ApprovalRecord, DeploymentRecord } from '../shared/ports/deployment-store.js';

/** The browser's random anti-forgery cookie (HttpOnly, SameSite=Strict); the form carries its HMAC. */
export const CSRF_COOKIE = 'da_csrf';
const APPROVAL_ID = /^[A-Za-z0-9_-]{10,64}$/;

export const DecisionFormSchema = z.object({
  t: z.string({ error: 'the form has no link token; open the link from your mail again' }).min(1).max(1024),
  csrf: z.string().max(200).default(''),
  plan_hash: z.string({ error: 'the form does not say which plan it approves' }).regex(/^[0-9a-f]{64}$/, {
    error: 'the form does not say which plan it approves',
  }),
  decision: z.enum(['approve', 'hold'], { error: 'decision must be "approve" or "hold"' }),
  comment: z
    .string()
    .trim()
    .max(2000, { error: 'the comment is longer than 2000 characters' })
    .optional()
    .transform((c) => (c ? c : undefined)),
});

/** One request to the approval page, from API Gateway or the local server. */
export interface ApprovalRequest {
  method: string;
  approvalId: string;
  /** the query string (`t` is the signed link token) */
  query: Record<string, string | undefined>;
  /** the urlencoded form of a POST */
  form?: Record<string, string | undefined>;
  cookies: Record<string, string | undefined>;
  sourceIp?: string;
  userAgent?: string;
  /** where the form posts back to (API Gateway puts the stage in the path) */
  formAction: string;
  /** served over https: the cookie gets `Secure` */
  secure: boolean;
}

export interface ApprovalResponse {
  statusCode: number;
  html: string;
  headers: Record<string, string>;
}

export type ApprovalPagePorts = VotePorts & { approvalKeys: ApprovalKeys };

interface PageState {
  approval: ApprovalRecord;
  deployment: DeploymentRecord;
  claims: LinkClaims;
  expired: boolean;
}

const loadApproval = async (approvalId: string, ports: ApprovalPagePorts) => {
  const approval = APPROVAL_ID.test(approvalId) ? await ports.store.getApproval(approvalId) : undefined;
  if (!approval)
    throw new NotFoundError('this approval link is unknown; use the newest link from the request');
  const deployment = await ports.store.getDeployment(approval.deploymentId);
  if (!deployment) throw new NotFoundError(`deployment ${approval.deploymentId} no longer exists`);
  return { approval, deployment };
};

const parseCookies = (header: string | undefined): Record<string, string> =>
  Object.fromEntries(
    (header ?? '')
      .split(';')
      .map((part) => part.trim().split('='))
      .filter((kv): kv is [string, string] => kv.length === 2 && !!kv[0] && !!kv[1]),
  );

/** Cookies from a `Cookie` header (or API Gateway's `cookies` list joined). */
export const cookiesFrom = (header: string | undefined) => parseCookies(header);

/**
 * The approval page's HTTP flow, the same on AWS and locally. GET checks the signed link, audits the view
 * and shows the plan, its hash, the gates, who asked and who approved already, with a form; it never
 * decides (link scanners open links). POST decides once, for the approver the link was made for, only with
 * the form's anti-forgery token and cookie, and only for the plan hash shown. Every refusal is audited.
 */
export const handleApprovalRequest = async (
  request: ApprovalRequest,
  ports: ApprovalPagePorts,
): Promise<ApprovalResponse> => {
  const meta: VoteMeta = {
    ...(request.sourceIp ? { sourceIp: request.sourceIp } : {}),
    ...(request.userAgent ? { userAgent: request.userAgent } : {}),
  };
  const cookie = request.cookies[CSRF_COOKIE] ?? randomBytes(18).toString('base64url');
  const headers = {
    'set-cookie': `${CSRF_COOKIE}=${cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age=604800${request.secure ? '; Secure' : ''}`,
    'cache-control': 'no-store',
  };
  const page = (statusCode: number, html: string): ApprovalResponse => ({ statusCode, html, headers });

  let loaded: { approval: ApprovalRecord; deployment: DeploymentRecord };
  try {
    loaded = await loadApproval(request.approvalId, ports);
  } catch (error) {
    const { statusCode, message } = toHttpError(error);
    if (statusCode >= 500) throw error;
    return page(statusCode, renderNotice('Approval link', message));
  }
  const { approval, deployment } = loaded;
  const token = request.method === 'POST' ? request.form?.t : request.query.t;
  let claims: LinkClaims;
  try {
    if (!token) throw new ApprovalLinkError('malformed', 'this page needs the personal link from your mail');
    claims = verifyLink(await ports.approvalKeys.all(), token, approval.approvalId, ports.clock.now());
  } catch (error) {
    if (!(error instanceof ApprovalLinkError)) throw error;
    await auditRefusal(ports, approval, 'unknown', 'link', `link ${error.problem}`, meta);
    return page(error.problem === 'expired' ? 410 : 403, renderNotice('Approval link', error.message));
  }
  const state: PageState = {
    approval,
    deployment,
    claims,
    expired: new Date(approval.expiresAt) <= ports.clock.now(),
  };
  const key = await ports.approvalKeys.current();
  const csrf = csrfToken(key, claims.linkId, cookie);

  if (request.method === 'GET' || request.method === 'HEAD') {
    await ports.store.appendAudit({
      at: ports.clock.now().toISOString(),
      deploymentId: approval.deploymentId,
      action: 'approval-viewed',
      actor: claims.approver,
      channel: 'link',
      detail: [
        `plan ${approval.planHash.slice(0, 16)}`,
        meta.sourceIp && `ip ${meta.sourceIp}`,
        meta.userAgent && `ua ${meta.userAgent.slice(0, 160)}`,
      ]
        .filter(Boolean)
        .join('; '),
    });
    const notice = request.query.decision
      ? 'Opening a link never decides anything: review the plan and use the buttons below.'
      : undefined;
    return page(200, renderApprovalPage(state, request.formAction, token, csrf, notice));
  }
  if (request.method !== 'POST')
    return page(405, renderNotice('Approval', `${request.method} is not supported here`));

  const refuse = async (error: Error) => {
    const { statusCode, message } = toHttpError(error);
    await auditRefusal(ports, approval, claims.approver, 'link', message, meta);
    const now = (await ports.store.getApproval(approval.approvalId)) ?? approval;
    return page(
      statusCode,
      renderApprovalPage({ ...state, approval: now }, request.formAction, token, csrf, message),
    );
  };
  const form = DecisionFormSchema.safeParse(request.form ?? {});
  if (!form.success) return refuse(new BadRequestError(form.error.issues.map((i) => i.message).join('; ')));
  if (
    !verifyCsrf(
      await ports.approvalKeys.all(),
      form.data.csrf,
      claims.linkId,
      request.cookies[CSRF_COOKIE] ?? '',
    )
  )
    return refuse(
      new ForbiddenError(
        'the form was not sent from the confirm page in this browser (anti-forgery check failed); open your link again and decide there',
      ),
    );
  if (
    form.data.plan_hash !== approval.planHash ||
    (deployment.plan && deployment.plan.hash !== approval.planHash)
  )
    return refuse(
      new ConflictError(
        `the plan changed since this page was shown (you saw ${form.data.plan_hash.slice(0, 16)}, the request is for ${approval.planHash.slice(0, 16)}); reload the page and review it again`,
      ),
    );
  try {
    const result = await castVote(
      approval.approvalId,
      {
        by: claims.approver,
        decision: form.data.decision,
        at: ports.clock.now().toISOString(),
        channel: 'link',
        linkId: claims.linkId,
        ...(form.data.comment ? { comment: form.data.comment } : {}),
      },
      meta,
      ports,
    );
    const notice =
      result.outcome === 'pending'
        ? `Recorded: approved by ${claims.approver} (${result.approvals} of ${result.quorum} approvals needed).`
        : `Recorded: ${result.outcome} by ${claims.approver}.`;
    return page(
      200,
      renderApprovalPage({ ...state, approval: result.approval }, request.formAction, token, csrf, notice),
    );
  } catch (error) {
    const { statusCode, message } = toHttpError(error);
    if (statusCode >= 500) throw error;
    // castVote audited the refusal already
    const now = (await ports.store.getApproval(approval.approvalId)) ?? approval;
    return page(
      statusCode,
      renderApprovalPage({ ...state, approval: now }, request.formAction, token, csrf, message),
    );
  }
};

const STYLE = `*{box-sizing:border-box}body{font-family:system-ui,-apple-system,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;line-height:1.45;color:#1b1f23}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}pre{background:#f4f4f4;padding:1rem;white-space:pre-wrap;word-break:break-word;font-size:.85rem}
code{word-break:break-all}label{display:block;margin:.75rem 0}textarea{width:100%;font:inherit}
.actions{display:flex;flex-wrap:wrap;gap:.75rem}button{padding:.75rem 1.5rem;font-size:1rem;border-radius:.4rem;border:1px solid #888;cursor:pointer}
button[value=approve]{background:#1a7f37;color:#fff;border-color:#1a7f37}button[value=hold]{background:#fff}
.notice{background:#fff3cd;padding:.5rem 1rem;border-radius:.3rem}.closed{background:#eef;padding:.5rem 1rem}
ul{padding-left:1.2rem}@media (max-width:30rem){button{width:100%}}`;

const shell = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">
<style>${STYLE}</style></head><body>
${body}
</body></html>`;

/** A page with one message (a bad, unknown or expired link). */
export const renderNotice = (title: string, message: string): string =>
  shell(title, `<h1>${escapeHtml(title)}</h1><p class="notice" role="status">${escapeHtml(message)}</p>`);

const closedLine = (approval: ApprovalRecord): string => {
  if (approval.status === 'approved')
    return `Already approved by ${approval.decidedBy ?? 'the approvers'}${approval.decidedAt ? ` at ${approval.decidedAt}` : ''}`;
  if (approval.status === 'held')
    return `Held by ${approval.decidedBy ?? 'an approver'}${approval.comment ? `: ${approval.comment}` : ''}`;
  return `Expired at ${approval.expiresAt}`;
};

/** The confirm page: the plan, its hash and risk, the gates, the votes so far and the decision form. */
export const renderApprovalPage = (
  state: PageState,
  formAction: string,
  token: string,
  csrf: string,
  notice?: string,
): string => {
  const { approval, deployment, claims } = state;
  const gates = (deployment.gates ?? [])
    .map(
      (g) =>
        `<li>${g.error ? '?' : g.passed ? '✓' : '✗'} ${escapeHtml(g.name)}: ${escapeHtml(g.evidence)}${g.override ? ` <strong>(override: ${escapeHtml(g.override)})</strong>` : ''}</li>`,
    )
    .join('');
  const approvals = approval.votes.filter((v) => v.decision === 'approve');
  const votes = approval.votes.length
    ? `<ul>${approval.votes
        .map(
          (v) =>
            `<li>${v.decision === 'approve' ? '✓ approved' : '⏸ held'} by ${escapeHtml(v.by)} at ${escapeHtml(v.at)} via ${escapeHtml(v.channel)}${v.breakGlass ? ' <strong>(BREAK-GLASS)</strong>' : ''}${v.comment ? `: “${escapeHtml(v.comment)}”` : ''}</li>`,
        )
        .join('')}</ul>`
    : '<p>No decisions yet.</p>';
  const mine = approval.votes.find((v) => v.by === claims.approver);
  const form =
    approval.status !== 'pending' || state.expired
      ? `<p class="closed"><strong>${escapeHtml(approval.status === 'pending' ? `Expired at ${approval.expiresAt}` : closedLine(approval))}</strong>: nothing more to decide.</p>`
      : mine
        ? `<p class="closed"><strong>You already ${mine.decision === 'approve' ? 'approved' : 'held'} at ${escapeHtml(mine.at)}</strong>; waiting for ${approval.quorum - approvals.length} more approval(s).</p>`
        : `<form method="post" action="${escapeHtml(formAction)}">
  <input type="hidden" name="t" value="${escapeHtml(token)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <input type="hidden" name="plan_hash" value="${escapeHtml(approval.planHash)}">
  <label>Comment (required for Hold)<textarea name="comment" rows="3" maxlength="2000"></textarea></label>
  <div class="actions"><button name="decision" value="approve" type="submit">Approve</button>
  <button name="decision" value="hold" type="submit">Hold</button></div>
</form>`;
  return shell(
    `Approve ${deployment.taskName}`,
    `<h1>Approve deployment: ${escapeHtml(deployment.taskName)}</h1>
${notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : ''}
<p>${escapeHtml(deployment.service)} → <strong>${escapeHtml(deployment.environment)}</strong> · deployment <code>${escapeHtml(deployment.deploymentId)}</code></p>
<p>You are <strong>${escapeHtml(claims.approver)}</strong>. Requested by ${escapeHtml(approval.requestedBy ?? `the ${deployment.trigger} trigger`)} · expires ${escapeHtml(approval.expiresAt)}</p>
<p>Risk: <strong>${escapeHtml(deployment.plan?.risk ?? 'unknown')}</strong> · Plan hash <code data-testid="plan-hash">${escapeHtml(approval.planHash)}</code></p>
<h2>Decisions (${approvals.length} of ${approval.quorum} approvals needed)</h2>
${votes}
${form}
<h2>Gates</h2><ul>${gates}</ul>
<h2>Plan</h2><pre>${escapeHtml(deployment.plan?.markdown ?? '(no plan)')}</pre>`,
  );
};
