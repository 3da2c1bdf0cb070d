import { approverId, auditRefusal, castVote } from '../shared/approval-votes.js';
import type { Command, ParsedCommand } from '../shared/commands.js';
import { servicesForList } from '../shared/config/resolve.js';
import type { Service } from '../shared/config/schema.js';
import { ConflictError, DomainError, errorMessage, TransientDependencyError } from '../shared/errors.js';
import { requestRollback } from '../shared/manual-rollback.js';
import { oneLine } from '../shared/one-line.js';
import { type DeploymentRecord, FINISHED_STATUSES } from '../shared/ports/deployment-store.js';
import type { Ports } from '../shared/ports/index.js';
import { startDeployment } from '../shared/start-deployment.js';

export type CommandPorts = Pick<Ports, 'config' | 'tracker' | 'store' | 'workflow' | 'clock' | 'logger'>;

/** Who wrote the comment, as ClickUp says (the id is what authorises; the rest is for people). */
export interface Commenter {
  id?: string;
  email?: string;
  username?: string;
}

export interface CommentContext {
  taskId: string;
  commentId?: string;
  commenter: Commenter;
}

export type CommandOutcome =
  | { result: 'started'; deploymentId: string }
  | { result: 'accepted'; action: 'approve' | 'hold' | 'rollback'; deploymentId: string }
  | { result: 'refused'; reason: string; deploymentId?: string }
  | { result: 'ignored'; reason: string; deploymentId?: string };

/** A command was understood but is not allowed or not possible now: answered on the task, audited. */
class Refusal extends DomainError {
  constructor(
    message: string,
    readonly deploymentId?: string,
    /** the refusal is in the audit log already (the approval rules wrote it) */
    readonly audited = false,
  ) {
    super(message);
  }
}

const who = (c: Commenter): string =>
  oneLine(c.email ?? c.username ?? (c.id ? `ClickUp user ${c.id}` : '')) || 'someone';

const newestFirst = (records: DeploymentRecord[]) =>
  [...records].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt) || b.deploymentId.localeCompare(a.deploymentId),
  );

const serviceOf = (ports: CommandPorts, record: DeploymentRecord): Service | undefined =>
  ports.config.services.find((s) => s.name === record.service && s.environment === record.environment);

/** The configured approver (by ClickUp user id) of the deployment's service, as the approval stores them. */
const approverFor = (
  ports: CommandPorts,
  record: DeploymentRecord,
  commenter: Commenter,
): string | undefined => {
  if (!commenter.id) return undefined;
  const approver = serviceOf(ports, record)?.approvers.find((a) => a.clickup_user_id === commenter.id);
  return approver ? approverId(approver) : undefined;
};

/** The break-glass identity (by ClickUp user id) of the deployment's service, as the approval stores them. */
const breakGlassFor = (
  ports: CommandPorts,
  record: DeploymentRecord,
  commenter: Commenter,
): string | undefined => {
  if (!commenter.id) return undefined;
  const entry = serviceOf(ports, record)?.approval.break_glass.find(
    (a) => a.clickup_user_id === commenter.id,
  );
  return entry ? approverId(entry) : undefined;
};

const commentTag = (ctx: CommentContext) => (ctx.commentId ? `comment ${ctx.commentId}` : undefined);

/** A retried delivery of a comment already acted on (the audit names the comment). */
const alreadyHandled = async (ports: CommandPorts, deploymentId: string, ctx: CommentContext) => {
  const tag = commentTag(ctx);
  if (!tag) return false;
  const entries = await ports.store.listAudit(deploymentId);
  return entries.some((e) => e.channel === 'comment' && e.detail?.includes(tag));
};

const audit = (
  ports: CommandPorts,
  deploymentId: string,
  action: string,
  ctx: CommentContext,
  detail: string,
) =>
  ports.store.appendAudit({
    at: ports.clock.now().toISOString(),
    deploymentId,
    action,
    actor: who(ctx.commenter),
    channel: 'comment',
    detail: [detail, commentTag(ctx)].filter(Boolean).join('; '),
  });

/** Answers on the task; a failed answer is logged, never fails the delivery (ClickUp would resend it). */
const reply = async (ports: CommandPorts, taskId: string, text: string) => {
  try {
    await ports.tracker.comment(taskId, text);
  } catch (error) {
    ports.logger.warn('could not answer a /deploy command on the task', {
      taskId,
      error: errorMessage(error),
    });
  }
};

const runningDeployment = async (ports: CommandPorts, taskId: string) =>
  newestFirst(await ports.store.listDeployments({ taskId })).find(
    (d) => !FINISHED_STATUSES.includes(d.status),
  );

const startNow = async (ctx: CommentContext, ports: CommandPorts): Promise<CommandOutcome> => {
  // A retried delivery of a `/deploy` that already started a (maybe finished) deployment starts no other.
  for (const previous of await ports.store.listDeployments({ taskId: ctx.taskId })) {
    if (await alreadyHandled(ports, previous.deploymentId, ctx))
      return { result: 'ignored', reason: 'duplicate delivery', deploymentId: previous.deploymentId };
  }
  const result = await startDeployment(
    {
      taskId: ctx.taskId,
      trigger: 'comment',
      requestedBy: ctx.commenter.email ?? ctx.commenter.id,
      requesterIds: [ctx.commenter.id, ctx.commenter.email].filter((v): v is string => !!v),
      requireInputStatus: false,
    },
    ports,
  );
  if (result.started) {
    await audit(ports, result.deploymentId, 'deploy-requested', ctx, 'started by /deploy');
    return { result: 'started', deploymentId: result.deploymentId };
  }
  // The same execution name already exists: a duplicated delivery racing the first one.
  if (result.reason === 'already started' && result.deploymentId)
    return { result: 'ignored', reason: 'duplicate delivery', deploymentId: result.deploymentId };
  if (result.deploymentId && (await alreadyHandled(ports, result.deploymentId, ctx)))
    return { result: 'ignored', reason: 'duplicate delivery', deploymentId: result.deploymentId };
  throw new Refusal(`Not started: ${result.reason}.`, result.deploymentId);
};

const decide = async (
  command: Extract<Command, { kind: 'approve' | 'hold' | 'break-glass' }>,
  ctx: CommentContext,
  ports: CommandPorts,
): Promise<CommandOutcome> => {
  const action = command.kind === 'hold' ? 'hold' : 'approve';
  const running = await runningDeployment(ports, ctx.taskId);
  const approval = running && (await ports.store.findApprovalByDeployment(running.deploymentId));
  if (!running || !approval || approval.status !== 'pending') {
    if (running && approval && (await alreadyHandled(ports, running.deploymentId, ctx)))
      return { result: 'ignored', reason: 'duplicate delivery', deploymentId: running.deploymentId };
    throw new Refusal(
      `Nothing to ${action}: no deployment of this task is waiting for approval.`,
      running?.deploymentId,
    );
  }
  const breakGlass = command.kind === 'break-glass';
  const voter = breakGlass
    ? breakGlassFor(ports, running, ctx.commenter)
    : approverFor(ports, running, ctx.commenter);
  if (!voter) {
    await auditRefusal(
      ports,
      approval,
      who(ctx.commenter),
      'comment',
      breakGlass ? 'not in the break-glass role' : 'not an approver',
      { ...(commentTag(ctx) ? { reference: commentTag(ctx) } : {}) },
    );
    throw new Refusal(
      breakGlass
        ? `${who(ctx.commenter)} is not in the break-glass role of ${running.service}/${running.environment}; nothing changed.`
        : `${who(ctx.commenter)} is not a configured approver of ${running.service}/${running.environment}; nothing changed.`,
      running.deploymentId,
      true,
    );
  }
  if (await alreadyHandled(ports, running.deploymentId, ctx))
    return { result: 'ignored', reason: 'duplicate delivery', deploymentId: running.deploymentId };
  const comment = command.kind === 'approve' ? command.comment : command.reason;
  try {
    await castVote(
      approval.approvalId,
      {
        by: voter,
        decision: action,
        at: ports.clock.now().toISOString(),
        channel: 'clickup',
        ...(comment ? { comment } : {}),
        ...(breakGlass ? { breakGlass: true } : {}),
      },
      { ...(commentTag(ctx) ? { reference: commentTag(ctx) } : {}) },
      ports,
    );
  } catch (error) {
    const current = await ports.store.getApproval(approval.approvalId);
    // A duplicated delivery lost the race to its twin: the vote it carries is already recorded.
    if (error instanceof ConflictError && current?.votes.some((v) => v.by === voter && v.decision === action))
      return { result: 'ignored', reason: 'duplicate delivery', deploymentId: running.deploymentId };
    if (error instanceof DomainError && !(error instanceof TransientDependencyError))
      throw new Refusal(`Not recorded: ${error.message}`, running.deploymentId, true);
    throw error;
  }
  return { result: 'accepted', action, deploymentId: running.deploymentId };
};

/**
 * `/deploy rollback <task-id>`: the shared manual-rollback core decides and audits (with the comment's id,
 * so a redelivery is recognised here); its refusals are answered on the task.
 */
const rollback = async (
  command: Extract<Command, { kind: 'rollback' }>,
  ctx: CommentContext,
  ports: CommandPorts,
): Promise<CommandOutcome> => {
  const deployments = newestFirst(await ports.store.listDeployments({ taskId: command.taskId }));
  // A retried delivery of a rollback comment already answered (accepted or refused) does nothing again.
  for (const previous of deployments) {
    if (await alreadyHandled(ports, previous.deploymentId, ctx))
      return { result: 'ignored', reason: 'duplicate delivery', deploymentId: previous.deploymentId };
  }
  try {
    const accepted = await requestRollback(
      {
        taskId: command.taskId,
        actor: { name: who(ctx.commenter), ids: ctx.commenter.id ? [ctx.commenter.id] : [] },
        channel: 'comment',
        ...(command.reason ? { reason: command.reason } : {}),
        origin: `in a ClickUp comment on task ${ctx.taskId}`,
        ...(commentTag(ctx) ? { reference: commentTag(ctx) } : {}),
      },
      ports,
    );
    return { result: 'accepted', action: 'rollback', deploymentId: accepted.deploymentId };
  } catch (error) {
    if (error instanceof DomainError && !(error instanceof TransientDependencyError))
      throw new Refusal(error.message, deployments[0]?.deploymentId, true);
    throw error;
  }
};

/** A malformed `/deploy …`: answered with the usage, audited against the task. */
const refuse = async (
  ctx: CommentContext,
  ports: CommandPorts,
  reason: string,
  deploymentId: string | undefined,
  answer: string,
  audited = false,
): Promise<CommandOutcome> => {
  if (!audited) await audit(ports, deploymentId ?? `task:${ctx.taskId}`, 'command-refused', ctx, reason);
  await reply(ports, ctx.taskId, answer);
  return { result: 'refused', reason, ...(deploymentId ? { deploymentId } : {}) };
};

/**
 * Acts on one `/deploy` comment. Deciding and rolling back are for the service's configured approvers
 * (matched by ClickUp user id); refusals are answered on the task and written to the audit log.
 */
export const runCommentCommand = async (
  parsed: ParsedCommand,
  ctx: CommentContext,
  ports: CommandPorts,
): Promise<CommandOutcome> => {
  if (!parsed.ok) {
    const running = await runningDeployment(ports, ctx.taskId);
    return refuse(ctx, ports, parsed.error, running?.deploymentId, `⚠️ ${parsed.error}.\n${parsed.usage}`);
  }
  const { command } = parsed;
  try {
    switch (command.kind) {
      case 'deploy':
        return await startNow(ctx, ports);
      case 'approve':
      case 'hold':
      case 'break-glass':
        return await decide(command, ctx, ports);
      case 'rollback':
        return await rollback(command, ctx, ports);
    }
  } catch (error) {
    if (error instanceof Refusal)
      return refuse(ctx, ports, error.message, error.deploymentId, `⚠️ ${error.message}`, error.audited);
    // Bad input or state (an unknown task, a list configured twice): answer it; resending would not help.
    if (error instanceof DomainError && !(error instanceof TransientDependencyError))
      return refuse(ctx, ports, error.message, undefined, `⚠️ Not done: ${error.message}`);
    throw error;
  }
};

/** Whether the list a webhook names is one the configuration deploys (unknown lists are ignored). */
export const isKnownList = (ports: Pick<Ports, 'config'>, listId: string) =>
  servicesForList(ports.config, listId).length > 0;
