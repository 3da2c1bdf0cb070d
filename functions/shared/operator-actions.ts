import { approverId, castVote, identitiesOf, type VoteResult } from './approval-votes.js';
import { ConflictError } from './errors.js';
import { normalizeIdentity } from './manual-rollback.js';
import { type DeploymentRecord, FINISHED_STATUSES } from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';
import { type StartResult, startDeployment } from './start-deployment.js';

/**
 * What an operator does from the command line, over the same cores ClickUp uses: starting a deployment
 * (`startDeployment`, idempotent per task) and deciding an approval (`castVote`: quorum, self-approval,
 * audit). The manual rollback is `requestRollback` in manual-rollback.ts.
 */
export type OperatorPorts = Pick<Ports, 'config' | 'tracker' | 'store' | 'workflow' | 'clock' | 'logger'>;

const newestFirst = (records: DeploymentRecord[]) =>
  [...records].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt) || b.deploymentId.localeCompare(a.deploymentId),
  );

/**
 * Starts a deployment of the task as if it had moved to the input status (whatever its status is), with
 * trigger `cli`. `by` is who asked: recorded as the requester, so self-approval rules apply to them.
 */
export const requestDeployment = async (
  request: { taskId: string; by?: string },
  ports: OperatorPorts,
): Promise<StartResult> => {
  const by = request.by ? normalizeIdentity(request.by) : undefined;
  const result = await startDeployment(
    {
      taskId: request.taskId,
      trigger: 'cli',
      ...(by ? { requestedBy: by, requesterIds: [by] } : {}),
      requireInputStatus: false,
    },
    ports,
  );
  if (result.started) {
    await ports.store.appendAudit({
      at: ports.clock.now().toISOString(),
      deploymentId: result.deploymentId,
      action: 'deploy-requested',
      actor: by ?? 'devops-agent command line',
      channel: 'cli',
      detail: 'started by devops-agent deploy',
    });
  }
  return result;
};

export interface TaskDecision {
  taskId: string;
  /** an approver's email or ClickUp user id */
  as: string;
  decision: 'approve' | 'hold';
  /** the approval's comment, or the hold's reason (required for a hold by the rules) */
  comment?: string;
}

/**
 * One approver's vote on the task's deployment waiting for approval, through `castVote`: the rules decide
 * whether `as` may vote (configured approver, not the requester, once), and audit the vote or the refusal.
 * `as` is matched against the service's approvers by email or ClickUp id and voted as the approval names
 * them; an identity that is no approver is voted as given, so the rules refuse and audit it.
 */
export const decideTask = async (
  request: TaskDecision,
  ports: OperatorPorts,
): Promise<VoteResult & { deploymentId: string }> => {
  const running = newestFirst(await ports.store.listDeployments({ taskId: request.taskId })).find(
    (d) => !FINISHED_STATUSES.includes(d.status),
  );
  const approval = running && (await ports.store.findApprovalByDeployment(running.deploymentId));
  if (!running || approval?.status !== 'pending') {
    throw new ConflictError(
      `nothing to ${request.decision}: no deployment of task ${request.taskId} is waiting for approval${
        running ? ` (${running.deploymentId} is ${running.status})` : ''
      }; devops-agent status ${request.taskId} shows where it is`,
    );
  }
  const given = normalizeIdentity(request.as);
  const service = ports.config.services.find(
    (s) => s.name === running.service && s.environment === running.environment,
  );
  const approver = service?.approvers.find((a) =>
    identitiesOf(a).some((id) => normalizeIdentity(id) === given),
  );
  const result = await castVote(
    approval.approvalId,
    {
      by: (approver && approverId(approver)) ?? given,
      decision: request.decision,
      at: ports.clock.now().toISOString(),
      channel: 'cli',
      ...(request.comment?.trim() ? { comment: request.comment.trim() } : {}),
    },
    { reference: 'devops-agent command line' },
    ports,
  );
  return { ...result, deploymentId: running.deploymentId };
};
