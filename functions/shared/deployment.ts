import { createHash } from 'node:crypto';
import { findService, type ServiceSettings, settingsFor } from './config/resolve.js';
import type { Service } from './config/schema.js';
import { NotFoundError } from './errors.js';
import type { DeploymentRecord, DeploymentStore } from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';
import type { StepContext } from './ports/step-runner.js';
import type { Tracker } from './ports/tracker.js';
import {
  type CallbackPayload,
  CallbackPayloadSchema,
  type DeploymentState,
  DeploymentStateSchema,
} from './workflow.js';

export interface DeploymentContext {
  state: DeploymentState;
  service: Service;
  settings: ServiceSettings;
}

/** Parses a Task's input and finds the service block it deploys. */
export const contextFor = (input: unknown, ports: Pick<Ports, 'config'>): DeploymentContext => {
  const state = DeploymentStateSchema.parse(input);
  const service = findService(ports.config, state.service, state.environment);
  return { state, service, settings: settingsFor(ports.config, service) };
};

export const callbackContextFor = (
  input: unknown,
  ports: Pick<Ports, 'config'>,
): DeploymentContext & { token: string } => {
  const payload: CallbackPayload = CallbackPayloadSchema.parse(input);
  return { ...contextFor(payload.state, ports), token: payload.token };
};

export const requireRecord = async (
  store: DeploymentStore,
  deploymentId: string,
): Promise<DeploymentRecord> => {
  const record = await store.getDeployment(deploymentId);
  if (!record) throw new NotFoundError(`deployment ${deploymentId} has no record; it was not acknowledged`);
  return record;
};

/** One deployment per service and environment at a time. */
export const lockKey = (service: string, environment: string): string => `${service}/${environment}`;

export const displayName = (service: Service): string => service.display_name ?? service.name;

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Values a step may use as `{{name}}`: ids plus the task's custom fields by slug ("Release" → release). */
export const stepVars = (
  state: DeploymentState,
  customFields: Record<string, string>,
): Record<string, string> => {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(customFields)) {
    vars[
      name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '_')
        .replace(/^_|_$/g, '')
    ] = value;
  }
  return {
    ...vars,
    deploymentId: state.deploymentId,
    taskId: state.taskId,
    service: state.service,
    environment: state.environment,
  };
};

/** What a step runs with: ids and the task's custom fields as `{{vars}}`. */
export const stepContextFor = async (state: DeploymentState, tracker: Tracker): Promise<StepContext> => {
  const task = await tracker.getTask(state.taskId);
  return {
    deploymentId: state.deploymentId,
    service: state.service,
    environment: state.environment,
    vars: stepVars(state, task.customFields),
  };
};

export const formatDuration = (seconds: number): string => {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1).replace(/\.0$/, '')} h`;
};

export const elapsedSeconds = (from: string, to: Date): number =>
  (to.getTime() - new Date(from).getTime()) / 1000;
