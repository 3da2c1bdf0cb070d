import { settingsFor } from '../shared/config/resolve.js';
import { errorMessage } from '../shared/errors.js';
import { failMonitor } from '../shared/fail-monitor.js';
import { readTriggers } from '../shared/monitoring.js';
import type { Ports } from '../shared/ports/index.js';

/**
 * The safety net behind alarm events (every `check_interval`): reads the triggers of every baking
 * deployment and fails its bake interval on a breach. An alarm source that cannot be read counts as a
 * breach (fail safe), as the configuration says.
 */
export const sweepMonitors = async (
  ports: Pick<Ports, 'config' | 'store' | 'alarms' | 'workflow' | 'logger'>,
  filter?: { deploymentId?: string },
): Promise<{ checked: number; failed: string[] }> => {
  const failed: string[] = [];
  const baking = (await ports.store.listDeployments()).filter(
    (d) =>
      d.status === 'monitoring' &&
      d.monitoring &&
      (!filter?.deploymentId || d.deploymentId === filter.deploymentId),
  );
  for (const deployment of baking) {
    const service = ports.config.services.find(
      (s) => s.name === deployment.service && s.environment === deployment.environment,
    );
    if (!service || !deployment.monitoring) continue;
    let reason: string | undefined;
    try {
      const check = await readTriggers(
        service,
        settingsFor(ports.config, service),
        deployment.monitoring.startedAt,
        ports,
      );
      if (check.breached) reason = check.reasons.join('; ');
    } catch (error) {
      reason = `cannot read the rollback triggers (${errorMessage(error)}); failing safe`;
    }
    if (reason) {
      await ports.store.updateDeployment(deployment.deploymentId, {
        monitoring: { ...deployment.monitoring, breach: reason },
      });
      if (await failMonitor(deployment.deploymentId, reason, ports)) failed.push(deployment.deploymentId);
    }
  }
  return { checked: baking.length, failed };
};
