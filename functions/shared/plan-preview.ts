import { checkGates } from '../check-gates/check-gates.js';
import { planFor } from '../create-plan/create-plan.js';
import { servicesForList, settingsFor } from './config/resolve.js';
import { BadRequestError, TransientDependencyError } from './errors.js';
import type { DeploymentPlan } from './plan.js';
import type { GateResult } from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';
import type { DeploymentState } from './workflow.js';

export interface PlanPreview {
  plan: DeploymentPlan;
  markdown: string;
  hash: string;
  gates: GateResult[];
  /** every gate passed: a deployment now would reach the approval */
  ready: boolean;
}

type PreviewPorts = Pick<
  Ports,
  'config' | 'tracker' | 'sourceControl' | 'alarms' | 'steps' | 'checks' | 'clock' | 'store'
>;

/**
 * The dry run behind `devops-agent plan <task>`: runs the gates and builds the plan a deployment of the task
 * would show its approver, and changes nothing outside `ports.store`, which the caller makes a throwaway
 * one (nothing is commented, moved, started or stored for real).
 */
export const previewPlan = async (taskId: string, ports: PreviewPorts): Promise<PlanPreview> => {
  const task = await ports.tracker.getTask(taskId);
  const services = servicesForList(ports.config, task.listId);
  const [service] = services;
  if (!service || services.length > 1) {
    const known = ports.config.services.map((s) => `${s.name} (list ${s.tracker.list_id})`).join(', ');
    throw new BadRequestError(
      services.length > 1
        ? `list ${task.listId} is configured for ${services.length} services; give each service its own list`
        : `task ${task.id} is in list ${task.listId}, which no service is configured for (services: ${known})`,
    );
  }
  const now = ports.clock.now().toISOString();
  const state: DeploymentState = {
    deploymentId: `${task.id}-preview`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80),
    taskId: task.id,
    service: service.name,
    environment: service.environment,
    trigger: 'cli',
    requestedAt: now,
  };
  await ports.store.createDeployment({
    deploymentId: state.deploymentId,
    taskId: task.id,
    taskName: task.name,
    service: service.name,
    environment: service.environment,
    trigger: 'cli',
    status: 'queued',
    stage: 'Preview',
    createdAt: now,
    updatedAt: now,
    steps: [],
  });
  try {
    await checkGates(state, ports);
  } catch (error) {
    // a dependency that stays down: the gates it touched are recorded as not evaluated; show them
    if (!(error instanceof TransientDependencyError)) throw error;
  }
  const record = await ports.store.getDeployment(state.deploymentId);
  const gates = record?.gates ?? [];
  const settings = settingsFor(ports.config, service);
  const { plan, markdown, hash } = await planFor(state, task, service, settings, record, ports);
  return { plan, markdown, hash, gates, ready: gates.every((g) => g.passed) };
};
