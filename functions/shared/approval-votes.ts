import { AGENT_METRICS } from './agent-metrics.js';
import { BadRequestError, ConflictError, ErrorNames, ForbiddenError } from './errors.js';
import type {
  ApprovalDecision,
  ApprovalRecord,
  ApprovalVote,
  DeploymentRecord,
} from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';

/** A configured approver as the approval stores them: lower-case email, else ClickUp user id. */
export const approverId = (a: { email?: string; clickup_user_id?: string }): string | undefined =>
  a.email?.toLowerCase() ?? a.clickup_user_id;

/** Every identity a configured approver is known by (email and ClickUp id). */
export const identitiesOf = (a: { email?: string; clickup_user_id?: string }): string[] =>
  [a.email?.toLowerCase(), a.clickup_user_id].filter((v): v is string => v !== undefined);

/** Where a vote came from, for the audit log. */
export interface VoteMeta {
  sourceIp?: string;
  userAgent?: string;
  /** e.g. `comment 123`: names the ClickUp comment so a redelivery is recognised */
  reference?: string;
}

export type VotePorts = Pick<Ports, 'store' | 'clock' | 'workflow' | 'tracker' | 'telemetry'>;

export interface VoteResult {
  approval: ApprovalRecord;
  /** approved or held: the workflow was answered; pending: more approvals are needed */
  outcome: 'approved' | 'held' | 'pending';
  /** approvals recorded so far, and how many are needed */
  approvals: number;
  quorum: number;
}

const channelName = (channel: ApprovalVote['channel']) =>
  channel === 'clickup' ? 'comment' : channel === 'link' ? 'link' : 'cli';

const describeDecided = (a: ApprovalRecord): string =>
  a.status === 'expired'
    ? `this approval request expired at ${a.expiresAt}`
    : `this deployment was already ${a.status}${a.decidedBy ? ` by ${a.decidedBy}` : ''}${a.decidedAt ? ` at ${a.decidedAt}` : ''}`;

/**
 * Why a vote must not count, or undefined when it may: the approval must be pending and unexpired, the voter
 * an allowed approver (or, with a reason, a break-glass identity), not the person who asked when
 * self-approval is forbidden, voting once; a hold needs a reason.
 */
export const refusalOf = (approval: ApprovalRecord, vote: ApprovalVote, now: Date): Error | undefined => {
  if (approval.status !== 'pending')
    return new ConflictError(`${describeDecided(approval)}; nothing changed`);
  if (new Date(approval.expiresAt) <= now)
    return new ConflictError(`this approval request expired at ${approval.expiresAt}; nothing changed`);
  if (vote.breakGlass) {
    if (!approval.breakGlass.includes(vote.by))
      return new ForbiddenError(`${vote.by} may not approve under break-glass; nothing changed`);
    if (vote.decision !== 'approve') return new BadRequestError('break-glass can only approve');
    if (!vote.comment?.trim())
      return new BadRequestError('a break-glass approval needs a reason; nothing changed');
  } else if (!approval.approvers.includes(vote.by)) {
    return new ForbiddenError(`${vote.by} is not an approver of this deployment; nothing changed`);
  }
  if ((approval.requester ?? []).includes(vote.by))
    return new ForbiddenError(
      `${vote.by} asked for this deployment and may not approve it (self-approval is forbidden); nothing changed`,
    );
  const earlier = approval.votes.find((v) => v.by === vote.by);
  if (earlier)
    return new ConflictError(
      `${vote.by} already decided "${earlier.decision}" at ${earlier.at}; a decision counts once and nothing changed`,
    );
  if (vote.decision === 'hold' && !vote.comment?.trim())
    return new BadRequestError('a hold needs a reason; say why in the comment');
  return undefined;
};

const audit = (
  ports: VotePorts,
  approval: ApprovalRecord,
  action: string,
  actor: string,
  channel: string,
  parts: (string | undefined)[],
  meta: VoteMeta,
) =>
  ports.store.appendAudit({
    at: ports.clock.now().toISOString(),
    deploymentId: approval.deploymentId,
    action,
    actor,
    channel,
    detail: [
      ...parts,
      `plan ${approval.planHash.slice(0, 16)}`,
      meta.reference,
      meta.sourceIp && `ip ${meta.sourceIp}`,
      meta.userAgent && `ua ${meta.userAgent.slice(0, 160)}`,
    ]
      .filter(Boolean)
      .join('; '),
  });

/** Audits a refused attempt (a bad link, a forged form, a non-approver) and returns the error to throw. */
export const auditRefusal = async (
  ports: VotePorts,
  approval: ApprovalRecord,
  actor: string,
  channel: string,
  reason: string,
  meta: VoteMeta,
): Promise<void> => {
  await audit(ports, approval, 'decision-refused', actor, channel, [reason], meta);
};

/**
 * Records one approver's vote and, when it settles the request, answers the waiting workflow: a hold at
 * once (SendTaskFailure ApprovalHeldError), approval once `quorum` approvals are in or a break-glass
 * approval is given (SendTaskSuccess with the decision). Every vote and every refusal is audited; a refused
 * vote changes nothing else and throws the reason (Conflict / Forbidden / BadRequest).
 */
export const castVote = async (
  approvalId: string,
  vote: ApprovalVote,
  meta: VoteMeta,
  ports: VotePorts,
): Promise<VoteResult> => {
  const approval = await ports.store.getApproval(approvalId);
  if (!approval) throw new ConflictError('this approval request is unknown; nothing changed');
  const channel = channelName(vote.channel);
  const refusal = refusalOf(approval, vote, ports.clock.now());
  if (refusal) {
    await auditRefusal(ports, approval, vote.by, channel, refusal.message, meta);
    throw refusal;
  }
  const recorded = await ports.store.addApprovalVote(approvalId, vote);
  if (!recorded) {
    // lost a race: a twin of this vote, or the decision that closed the request, came first
    const now = await ports.store.getApproval(approvalId);
    const error =
      (now && refusalOf(now, vote, ports.clock.now())) ??
      new ConflictError('this approval changed while deciding; nothing changed');
    await auditRefusal(ports, approval, vote.by, channel, error.message, meta);
    throw error;
  }
  const approvals = recorded.votes.filter((v) => v.decision === 'approve');
  await audit(
    ports,
    recorded,
    vote.breakGlass ? 'break-glass-approved' : vote.decision === 'approve' ? 'approved' : 'held',
    vote.by,
    channel,
    [
      vote.decision === 'approve' && !vote.breakGlass
        ? `${approvals.length} of ${recorded.quorum}`
        : undefined,
      vote.comment,
    ],
    meta,
  );
  const settled = vote.decision === 'hold' ? 'held' : vote.breakGlass || approvals.length >= recorded.quorum;
  if (settled === false) {
    await ports.tracker.comment(
      recorded.taskId,
      `✅ Approved by ${vote.by} (${approvals.length} of ${recorded.quorum} approvals needed)${vote.comment ? `: ${vote.comment}` : ''}. Waiting for ${recorded.quorum - approvals.length} more.`,
    );
    return { approval: recorded, outcome: 'pending', approvals: approvals.length, quorum: recorded.quorum };
  }
  const status = settled === 'held' ? 'held' : 'approved';
  const deciders = status === 'held' ? [vote.by] : approvals.map((v) => v.by);
  const at = ports.clock.now().toISOString();
  const won = await ports.store.decideApproval(approvalId, {
    status,
    decidedBy: deciders.join(', '),
    decidedAt: at,
    ...(vote.comment ? { comment: vote.comment } : {}),
  });
  if (!won) {
    // an expiry or another settling vote closed it first: the recorded vote stays in the audit trail
    const now = await ports.store.getApproval(approvalId);
    throw new ConflictError(
      `${now ? describeDecided(now) : 'this approval was decided'}; nothing more changed`,
    );
  }
  ports.telemetry?.duration(
    AGENT_METRICS.names.approvalWait,
    Date.parse(at) - Date.parse(recorded.createdAt),
  );
  const decision: ApprovalDecision = {
    decision: status,
    by: deciders.join(', '),
    channel: vote.channel === 'clickup' ? 'comment' : vote.channel,
    at,
    ...(vote.comment ? { comment: vote.comment } : {}),
    ...(vote.breakGlass ? { breakGlass: true } : {}),
    votes: recorded.votes,
    planHash: recorded.planHash,
  };
  const patch: Partial<DeploymentRecord> = { approval: decision };
  await ports.store.updateDeployment(recorded.deploymentId, patch);
  if (vote.breakGlass)
    await ports.tracker.comment(
      recorded.taskId,
      `🚨 BREAK-GLASS APPROVAL by ${vote.by}\n\nReason: ${vote.comment}\n\nThe normal approvers and quorum were bypassed. This is recorded in the audit log and the deployment record; review it afterwards.`,
    );
  if (status === 'approved') {
    await ports.workflow.sendTaskSuccess(approval.taskToken, decision);
  } else {
    await ports.workflow.sendTaskFailure(
      approval.taskToken,
      ErrorNames.approvalHeld,
      `held by ${vote.by}: ${vote.comment ?? ''}`,
    );
  }
  return {
    approval: { ...recorded, status, decidedBy: deciders.join(', '), decidedAt: at },
    outcome: status,
    approvals: approvals.length,
    quorum: recorded.quorum,
  };
};
