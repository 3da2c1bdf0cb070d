import { contextFor, formatDuration, requireRecord } from '../shared/deployment.js';
import { nextWait } from '../shared/monitoring.js';
import type { Ports } from '../shared/ports/index.js';

/** Opens the bake period (the seed's post-deploy monitoring) and says on the task what is watched. */
export const startMonitoring = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'clock'>,
): Promise<{ waitSeconds: number; done: boolean }> => {
  const { state, service, settings } = contextFor(input, ports);
  const now = ports.clock.now();
  const record = await requireRecord(ports.store, state.deploymentId);
  const monitoring = record.monitoring ?? {
    startedAt: now.toISOString(),
    endsAt: new Date(now.getTime() + settings.monitoringPeriodSeconds * 1000).toISOString(),
    reports: [],
  };
  await ports.store.updateDeployment(state.deploymentId, {
    stage: 'StartMonitoring',
    status: 'monitoring',
    monitoring,
  });
  if (!record.monitoring) {
    const t = settings.triggers;
    await ports.tracker.comment(
      state.taskId,
      [
        `📈 Monitoring ${service.display_name ?? service.name} for ${formatDuration(settings.monitoringPeriodSeconds)}; status report every ${formatDuration(settings.reportIntervalSeconds)}.`,
        `${settings.autoRollback ? 'Automatic rollback' : 'Alert (automatic rollback disabled)'} if: error rate > ${t.error_rate}% for ${formatDuration(t.error_rate_for)}, p99 > ${t.response_time_p99} ms for ${formatDuration(t.response_time_p99_for)}, ${t.health_check_failures} failed health checks${service.monitoring.alarms.length ? `, or alarm ${service.monitoring.alarms.join(', ')}` : ''}.`,
      ].join('\n'),
    );
  }
  return nextWait(monitoring.endsAt, now, settings.reportIntervalSeconds);
};
