import { callbackContextFor, requireRecord } from '../shared/deployment.js';
import { AlarmBreachedError } from '../shared/errors.js';
import { readTriggers } from '../shared/monitoring.js';
import type { Ports } from '../shared/ports/index.js';

/**
 * Starts one bake interval: registers the task token so an alarm event or the sweep can fail it at once
 * (and the sweep can end the interval when the report is due), and fails straight away when a trigger is
 * already breached.
 */
export const monitor = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'store' | 'alarms' | 'clock'>,
): Promise<void> => {
  const { state, service, settings, token } = callbackContextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const now = ports.clock.now();
  const monitoring = record.monitoring ?? {
    startedAt: now.toISOString(),
    endsAt: now.toISOString(),
    reports: [],
  };
  const waitSeconds = state.monitor?.waitSeconds ?? settings.reportIntervalSeconds;
  const current = {
    ...monitoring,
    intervalEndsAt: new Date(now.getTime() + waitSeconds * 1000).toISOString(),
  };
  await ports.store.updateDeployment(state.deploymentId, { stage: 'Monitor', monitoring: current });
  await ports.store.setMonitorToken(state.deploymentId, token);
  const check = await readTriggers(service, settings, monitoring.startedAt, ports);
  if (check.breached) {
    await ports.store.setMonitorToken(state.deploymentId, undefined);
    await ports.store.updateDeployment(state.deploymentId, {
      monitoring: {
        ...current,
        breach: check.reasons.join('; '),
        ...(check.firstBreachAt ? { firstBreachAt: check.firstBreachAt } : {}),
      },
    });
    throw new AlarmBreachedError(check.reasons.join('; '));
  }
};
