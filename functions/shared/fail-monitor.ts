import { ErrorNames } from './errors.js';
import type { Ports } from './ports/index.js';

/** Fails the deployment's current bake interval, which sends the workflow into rollback at once. */
export const failMonitor = async (
  deploymentId: string,
  reason: string,
  ports: Pick<Ports, 'store' | 'workflow' | 'logger'>,
  error: string = ErrorNames.alarmBreached,
): Promise<boolean> => {
  const token = await ports.store.getMonitorToken(deploymentId);
  if (!token) return false;
  await ports.store.setMonitorToken(deploymentId, undefined);
  await ports.workflow.sendTaskFailure(token, error, reason);
  ports.logger.warn('bake interval failed', { deploymentId, reason });
  return true;
};
