import { lockKey } from '../shared/deployment.js';
import type { Ports } from '../shared/ports/index.js';
import { DeploymentStateSchema } from '../shared/workflow.js';

/** What a caught error's cause is kept as in the record: enough to act on, not a whole stack. */
const MAX_CAUSE_CHARS = 1000;

/**
 * Releases the service/environment lock held by this deployment (a no-op when it holds none). Every end
 * passes here, also after a report that failed: that failure is written to the record, since the task
 * (the report's target) may be the one place that does not show how the deployment ended.
 */
export const releaseLock = async (input: unknown, ports: Pick<Ports, 'store'>): Promise<void> => {
  const state = DeploymentStateSchema.parse(input);
  await ports.store.releaseLock(lockKey(state.service, state.environment), state.deploymentId);
  if (state.reportError && (await ports.store.getDeployment(state.deploymentId))) {
    await ports.store.updateDeployment(state.deploymentId, {
      reportError: {
        name: state.reportError.Error,
        message: (state.reportError.Cause ?? '').slice(0, MAX_CAUSE_CHARS),
      },
    });
  }
};
