import { servicesForList, settingsFor } from './config/resolve.js';
import { BadRequestError } from './errors.js';
import { type DeploymentRecord, FINISHED_STATUSES } from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';
import { type DeploymentRequest, DeploymentRequestSchema, type TRIGGERS } from './workflow.js';

export interface StartRequest {
  taskId: string;
  trigger: (typeof TRIGGERS)[number];
  requestedBy?: string;
  /** every identity of who asked (ClickUp user id, email) */
  requesterIds?: string[];
  /** for status-driven triggers: start only while the task is in the input status */
  requireInputStatus: boolean;
  /** the webhook delivery asking; one that already started a deployment starts nothing again */
  sourceEvent?: string;
}

/** Ends that leave the task where it was (in the input status, unless a failure status is configured). */
const ENDS_IN_PLACE: DeploymentRecord['status'][] = ['blocked', 'held'];
const ENDS_IN_FAILURE_STATUS: DeploymentRecord['status'][] = ['rolled-back', 'rollback-failed'];

export type StartResult =
  | { started: true; deploymentId: string }
  | { started: false; deploymentId?: string; reason: string };

/** A deployment of the task still running, or the one this very delivery started: nothing to start. */
const alreadyHandled = (previous: DeploymentRecord[], request: StartRequest): StartResult | undefined => {
  const running = previous.find((d) => !FINISHED_STATUSES.includes(d.status));
  if (running)
    return {
      started: false,
      deploymentId: running.deploymentId,
      reason: `deployment ${running.deploymentId} is already running for this task`,
    };
  const handled = request.sourceEvent
    ? previous.find((d) => d.sourceEvent === request.sourceEvent)
    : undefined;
  if (handled)
    return {
      started: false,
      deploymentId: handled.deploymentId,
      reason: `this delivery already started ${handled.deploymentId}`,
    };
  return undefined;
};

/**
 * Starts exactly one deployment for a task. The deployment id is `<task>-<attempt>`, where the attempt
 * counts the task's finished deployments: duplicated webhooks, retries and a polling pass racing them all
 * compute the same id, and the workflow starts an execution name only once.
 */
export const startDeployment = async (
  request: StartRequest,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'workflow' | 'clock' | 'logger'>,
): Promise<StartResult> => {
  // The store first: a delivery for a task that is already deploying (ClickUp redelivers, and a storm of
  // moves sends many) is answered without a ClickUp call, so duplicates cost none of the token's rate limit.
  const known = await ports.store.listDeployments({ taskId: request.taskId });
  const earlier = alreadyHandled(known, request);
  if (earlier) return earlier;
  // The task is read again before starting: the status it is in now is what counts.
  const task = await ports.tracker.getTask(request.taskId);
  const services = servicesForList(ports.config, task.listId);
  const service = services[0];
  if (!service)
    return {
      started: false,
      reason: `task ${task.id} is in list ${task.listId}, which no service is configured for`,
    };
  if (services.length > 1) {
    throw new BadRequestError(
      `list ${task.listId} is configured for ${services.length} services; give each service its own list`,
    );
  }
  const settings = settingsFor(ports.config, service);
  if (request.requireInputStatus && task.status.toLowerCase() !== settings.inputStatus.toLowerCase()) {
    return {
      started: false,
      reason: `task ${task.id} is in "${task.status}", not "${settings.inputStatus}"`,
    };
  }
  // the task may have been asked for by another id form than the one ClickUp answers with
  const previous =
    task.id === request.taskId ? known : await ports.store.listDeployments({ taskId: task.id });
  const handled = task.id === request.taskId ? undefined : alreadyHandled(previous, request);
  if (handled) return handled;
  // A blocked or held deployment leaves the task in the input status: a poll must not start it again every
  // interval (a fresh comment storm each time). A person retries by moving the task again or `/deploy`.
  const latest = previous.reduce<DeploymentRecord | undefined>(
    (last, d) => (!last || d.createdAt > last.createdAt ? d : last),
    undefined,
  );
  const stayedInPlace =
    latest &&
    (ENDS_IN_PLACE.includes(latest.status) ||
      (!settings.failureStatus && ENDS_IN_FAILURE_STATUS.includes(latest.status)));
  if (request.trigger === 'poll' && latest && stayedInPlace) {
    return {
      started: false,
      deploymentId: latest.deploymentId,
      reason: `deployment ${latest.deploymentId} ended ${latest.status} with the task left in "${task.status}"; move the task again or comment /deploy to retry`,
    };
  }
  const attempt = previous.length + 1;
  const deploymentRequest: DeploymentRequest = DeploymentRequestSchema.parse({
    deploymentId: `${task.id}-${attempt}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80),
    taskId: task.id,
    service: service.name,
    environment: service.environment,
    trigger: request.trigger,
    requestedBy: request.requestedBy,
    ...(request.requesterIds?.length ? { requesterIds: request.requesterIds } : {}),
    requestedAt: ports.clock.now().toISOString(),
    ...(request.sourceEvent ? { sourceEvent: request.sourceEvent } : {}),
  });
  const result = await ports.workflow.start(deploymentRequest);
  ports.logger.info(result.started ? 'deployment started' : 'deployment already started', {
    deploymentId: deploymentRequest.deploymentId,
    trigger: request.trigger,
  });
  return result.started
    ? { started: true, deploymentId: deploymentRequest.deploymentId }
    : { started: false, deploymentId: deploymentRequest.deploymentId, reason: 'already started' };
};
