import { callbackContextFor, requireRecord } from '../shared/deployment.js';
import { AlarmBreachedError } from '../shared/errors.js';
import { readTriggers } from '../shared/monitoring.js';
import type { Ports } from '../shared/ports/index.js';

/**
 * Starts one bake interval: registers the task token so an alarm (event or sweep) can fail it at once,
 * and fails straight away when a trigger is already breached. The interval ends by the Task's timeout.
 */
export const monitor = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'store' | 'alarms'>,
): Promise<void> => {
  const { state, service, settings, token } = callbackContextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const since = record.monitoring?.startedAt ?? record.createdAt;
  await ports.store.setMonitorToken(state.deploymentId, token);
  await ports.store.updateDeployment(state.deploymentId, { stage: 'Monitor' });
  const check = await readTriggers(service, settings, since, ports);
  if (check.breached) {
    await ports.store.setMonitorToken(state.deploymentId, undefined);
    throw new AlarmBreachedError(check.reasons.join('; '));
  }
};
