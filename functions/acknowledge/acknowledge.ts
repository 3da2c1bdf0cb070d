import type { z } from 'zod';
import { contextFor, displayName, requireRecord } from '../shared/deployment.js';
import type { Ports } from '../shared/ports/index.js';
import type { WorkflowSettingsSchema } from '../shared/workflow.js';

/**
 * Acknowledges the request on the task and opens the deployment record. A retried or duplicated start
 * finds the record and comments nothing twice.
 * @returns the settings the workflow's Choice and timeout fields read
 */
export const acknowledge = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'clock'>,
): Promise<z.infer<typeof WorkflowSettingsSchema>> => {
  const { state, service, settings } = contextFor(input, ports);
  const task = await ports.tracker.getTask(state.taskId);
  const now = ports.clock.now().toISOString();
  // a rollback run undoes what the original's steps recorded: it starts from a copy of them
  const original = state.rollbackOf ? await requireRecord(ports.store, state.rollbackOf) : undefined;
  const created = await ports.store.createDeployment({
    deploymentId: state.deploymentId,
    taskId: state.taskId,
    taskName: task.name,
    service: state.service,
    environment: state.environment,
    trigger: state.trigger,
    requestedBy: state.requestedBy,
    ...(state.sourceEvent ? { sourceEvent: state.sourceEvent } : {}),
    status: 'queued',
    stage: 'Acknowledge',
    createdAt: now,
    updatedAt: now,
    steps: original?.steps ?? [],
    ...(original
      ? {
          rollbackOf: original.deploymentId,
          ...(original.migrations ? { migrations: original.migrations } : {}),
          ...(original.release ? { release: original.release } : {}),
        }
      : {}),
  });
  if (created) {
    await ports.tracker.comment(
      state.taskId,
      original
        ? `↩️ DevOps: Rolling back ${original.deploymentId} of ${displayName(service)} in ${state.environment} (run ${state.deploymentId}).\nReason: ${state.reason ?? 'requested'}\nIt starts as soon as no other deployment holds ${state.service} in ${state.environment}.`
        : `🚀 DevOps: Preparing deployment of ${displayName(service)} to ${state.environment}... (deployment ${state.deploymentId})`,
    );
    await ports.store.appendAudit({
      at: now,
      deploymentId: state.deploymentId,
      action: original ? 'rollback-run-started' : 'deployment-requested',
      actor: state.requestedBy ?? 'unknown',
      channel: state.trigger,
    });
  }
  return {
    requireApproval: settings.requireApproval,
    approvalTimeoutSeconds: settings.approvalTimeoutSeconds,
    autoRollback: settings.autoRollback,
    stepCount: service.steps.length,
  };
};
