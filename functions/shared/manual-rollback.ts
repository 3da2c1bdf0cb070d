import { approverId, identitiesOf } from './approval-votes.js';
import type { Service } from './config/schema.js';
import { ConflictError, ErrorNames, ForbiddenError, NotFoundError } from './errors.js';
import { failMonitor } from './fail-monitor.js';
import { type DeploymentRecord, FINISHED_STATUSES } from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';
import { type DeploymentRequest, DeploymentRequestSchema } from './workflow.js';

/**
 * Who asks for the rollback: `name` is for people (the audit, the reason on the task); `ids` are the
 * identities that authorise (a ClickUp user id from a comment, an email or ClickUp id given to the CLI).
 */
export interface RollbackActor {
  name: string;
  ids: string[];
}

export interface RollbackRequest {
  /** the task whose newest deployment is rolled back */
  taskId: string;
  actor: RollbackActor;
  /** where it was asked: the audit's channel, and how the answers tell to ask again */
  channel: 'comment' | 'cli';
  reason?: string;
  /** where it was asked, for the rollback reason (default: said by the channel) */
  origin?: string;
  /** names the request in the audit (`comment 123`), so a redelivered comment is recognised */
  reference?: string;
}

export type RollbackPorts = Pick<Ports, 'config' | 'store' | 'workflow' | 'clock' | 'logger'>;

export interface RollbackAccepted {
  deploymentId: string;
  /** the configured approver the actor was recognised as */
  approver: string;
  /** the reason the workflow's rollback branch and the task are given */
  reason: string;
}

/** The same identity however it was typed: emails compare without case, ClickUp ids as given. */
export const normalizeIdentity = (id: string): string => {
  const trimmed = id.trim();
  return trimmed.includes('@') ? trimmed.toLowerCase() : trimmed;
};

const newestFirst = (records: DeploymentRecord[]) =>
  [...records].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt) || b.deploymentId.localeCompare(a.deploymentId),
  );

const serviceOf = (ports: RollbackPorts, record: DeploymentRecord): Service | undefined =>
  ports.config.services.find((s) => s.name === record.service && s.environment === record.environment);

/**
 * The configured approver of the deployment's service the actor is (by any of their identities), as the
 * approvals name them (lower-case email, else ClickUp id).
 */
const approverOf = (ports: RollbackPorts, record: DeploymentRecord, actor: RollbackActor) => {
  const ids = new Set(actor.ids.map(normalizeIdentity));
  const approver = serviceOf(ports, record)?.approvers.find((a) =>
    identitiesOf(a).some((id) => ids.has(normalizeIdentity(id))),
  );
  return approver && approverId(approver);
};

/** The command of the request's channel, so an answer tells how to ask again in the same place. */
const commandOf = (request: RollbackRequest) =>
  request.channel === 'comment' ? '/deploy rollback' : 'devops-agent rollback';

const askAgain = (request: RollbackRequest) =>
  `${request.channel === 'comment' ? 'send' : 'run'} \`${commandOf(request)} ${request.taskId}\``;

const defaultOrigin = (request: RollbackRequest) =>
  request.channel === 'comment' ? 'in a ClickUp comment' : 'from the devops-agent command line';

/**
 * After Deployed there is no bake to fail: a rollback run starts (the same workflow with `rollbackOf`),
 * which waits for the service/environment lock, skips gates, plan and approval, undoes the deployment's
 * steps newest first from what each recorded, verifies and reports. Its id is `<deployment>-rollback`, so a
 * repeated request starts nothing twice.
 */
const startRollbackRun = async (
  deployment: DeploymentRecord,
  approver: string,
  request: RollbackRequest,
  ports: RollbackPorts,
  audit: (deploymentId: string, action: string, detail: string) => Promise<void>,
): Promise<RollbackAccepted> => {
  const reason = `rollback of ${deployment.deploymentId} requested by ${approver} ${request.origin ?? defaultOrigin(request)}${request.reason ? `: ${request.reason}` : ''}`;
  const run: DeploymentRequest = DeploymentRequestSchema.parse({
    deploymentId: `${deployment.deploymentId}-rollback`.slice(0, 80),
    taskId: deployment.taskId,
    service: deployment.service,
    environment: deployment.environment,
    trigger: request.channel === 'comment' ? 'comment' : 'cli',
    requestedBy: approver,
    requestedAt: ports.clock.now().toISOString(),
    rollbackOf: deployment.deploymentId,
    reason,
  });
  const started = await ports.workflow.start(run);
  if (started.started) {
    await ports.store.updateDeployment(deployment.deploymentId, {
      rolledBackBy: { deploymentId: run.deploymentId, at: run.requestedAt, by: approver },
    });
    await audit(deployment.deploymentId, 'rollback-requested', `${reason}; run ${run.deploymentId}`);
  }
  return { deploymentId: run.deploymentId, approver, reason };
};

/**
 * A person asks to roll back a task's newest deployment. Only a configured approver of its service may;
 * during the bake the current bake interval is failed with RollbackRequestedError, which sends the workflow
 * into the same rollback branch an alarm does; after Deployed a rollback run starts (`startRollbackRun`).
 * Every answer, accepted or refused, is in the audit log.
 * Refusals throw: ForbiddenError (not an approver), NotFoundError (no deployment), ConflictError (not
 * baking now: between two intervals, still deploying, or finished), each saying what to do instead.
 */
export const requestRollback = async (
  request: RollbackRequest,
  ports: RollbackPorts,
): Promise<RollbackAccepted> => {
  const audit = (deploymentId: string, action: string, detail: string) =>
    ports.store.appendAudit({
      at: ports.clock.now().toISOString(),
      deploymentId,
      action,
      actor: request.actor.name,
      channel: request.channel,
      detail: [detail, request.reference].filter(Boolean).join('; '),
    });
  const refuse = async (deploymentId: string, error: Error): Promise<never> => {
    await audit(deploymentId, 'rollback-refused', error.message);
    throw error;
  };

  const [latest] = newestFirst(await ports.store.listDeployments({ taskId: request.taskId }));
  if (!latest)
    return refuse(
      `task:${request.taskId}`,
      new NotFoundError(`Task ${request.taskId} has no deployment to roll back.`),
    );
  const approver = approverOf(ports, latest, request.actor);
  if (!approver) {
    return refuse(
      latest.deploymentId,
      new ForbiddenError(
        `${request.actor.name} is not a configured approver of ${latest.service}/${latest.environment}; only approvers may roll back. Nothing changed.`,
      ),
    );
  }
  if (latest.status === 'monitoring') {
    const reason = `rollback requested by ${approver} ${request.origin ?? defaultOrigin(request)}${request.reason ? `: ${request.reason}` : ''}`;
    if (await failMonitor(latest.deploymentId, reason, ports, ErrorNames.rollbackRequested)) {
      await audit(latest.deploymentId, 'rollback-requested', reason);
      return { deploymentId: latest.deploymentId, approver, reason };
    }
    // the workflow is between two bake intervals: no token to fail until the next one starts
    return refuse(
      latest.deploymentId,
      new ConflictError(
        `${latest.deploymentId} is between two bake intervals right now; ${askAgain(request)} again in a moment.`,
      ),
    );
  }
  if (latest.status === 'deployed' && !latest.rollbackOf) {
    return startRollbackRun(latest, approver, request, ports, audit);
  }
  if (FINISHED_STATUSES.includes(latest.status)) {
    return refuse(
      latest.deploymentId,
      new ConflictError(
        latest.rollbackOf
          ? `${latest.deploymentId} already rolled back ${latest.rollbackOf} (${latest.status}); deploy the release you want next by moving the task to its input status again.`
          : `${latest.deploymentId} ended ${latest.status}: nothing of it is live to roll back. Nothing changed.`,
      ),
    );
  }
  return refuse(
    latest.deploymentId,
    new ConflictError(
      `${latest.deploymentId} is ${latest.status}, not baking; \`${commandOf(request)}\` interrupts a deployment during its bake. A failing step or check rolls back by itself.`,
    ),
  );
};
