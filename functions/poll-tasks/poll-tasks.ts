import { settingsFor } from '../shared/config/resolve.js';
import { errorMessage } from '../shared/errors.js';
import type { Ports } from '../shared/ports/index.js';
import { startDeployment } from '../shared/start-deployment.js';

/**
 * The seed's polling pickup (every `poll_interval`): starts a deployment for each task waiting in the input
 * status that has none running. Also recovers webhook deliveries ClickUp dropped.
 */
export const pollTasks = async (
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'workflow' | 'clock' | 'logger'>,
): Promise<{ started: string[]; errors: string[] }> => {
  const started: string[] = [];
  const errors: string[] = [];
  for (const service of ports.config.services) {
    const { inputStatus } = settingsFor(ports.config, service);
    const tasks = await ports.tracker.listTasks(service.tracker.list_id, inputStatus);
    for (const task of tasks) {
      try {
        const result = await startDeployment(
          { taskId: task.id, trigger: 'poll', requireInputStatus: true },
          ports,
        );
        if (result.started) started.push(result.deploymentId);
      } catch (error) {
        errors.push(`${task.id}: ${errorMessage(error)}`);
        ports.logger.error('could not start a polled task', { taskId: task.id, error: errorMessage(error) });
      }
    }
  }
  return { started, errors };
};
