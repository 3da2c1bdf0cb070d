import { lockKey } from '../shared/deployment.js';
import type { Ports } from '../shared/ports/index.js';
import { DeploymentStateSchema } from '../shared/workflow.js';

/** Releases the service/environment lock held by this deployment (a no-op when it holds none). */
export const releaseLock = async (input: unknown, ports: Pick<Ports, 'store'>): Promise<void> => {
  const state = DeploymentStateSchema.parse(input);
  await ports.store.releaseLock(lockKey(state.service, state.environment), state.deploymentId);
};
