import { contextFor, elapsedSeconds, requireRecord } from '../shared/deployment.js';
import { AlarmBreachedError } from '../shared/errors.js';
import { formatMetrics, nextWait, readTriggers } from '../shared/monitoring.js';
import type { Ports } from '../shared/ports/index.js';

/** After each bake interval: reads the triggers, posts the seed's status update, and says how long to wait next. */
export const reportStatus = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'alarms' | 'clock' | 'logger' | 'readings'>,
): Promise<{ waitSeconds: number; done: boolean }> => {
  const { state, service, settings } = contextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const now = ports.clock.now();
  const monitoring = record.monitoring ?? {
    startedAt: record.createdAt,
    endsAt: now.toISOString(),
    reports: [],
  };
  await ports.store.setMonitorToken(state.deploymentId, undefined);
  const check = await readTriggers(service, settings, monitoring.startedAt, ports);
  // the alarms decide; the readings only show the numbers, so one that fails leaves "no data", not a rollback
  const readings = ports.readings
    ? await ports.readings.read(service, settings.triggers, now).catch((error: unknown) => {
        ports.logger.warn('cannot read the service metrics for the status report', { error: `${error}` });
        return {};
      })
    : {};
  const metrics = { ...check.metrics, ...readings };
  const elapsed = Math.round(elapsedSeconds(monitoring.startedAt, now));
  const report = {
    at: now.toISOString(),
    elapsedSeconds: elapsed,
    metrics,
    withinTargets: !check.breached,
  };
  await ports.store.updateDeployment(state.deploymentId, {
    stage: 'ReportStatus',
    monitoring: {
      ...monitoring,
      reports: [...monitoring.reports, report],
      ...(check.breached ? { breach: check.reasons.join('; ') } : {}),
      ...(check.breached && check.firstBreachAt ? { firstBreachAt: check.firstBreachAt } : {}),
    },
  });
  if (check.breached) throw new AlarmBreachedError(check.reasons.join('; '));
  const minutes = elapsed >= 120 ? `${Math.round(elapsed / 60)} minutes` : `${elapsed} seconds`;
  await ports.tracker.comment(
    state.taskId,
    [
      `📊 Deployment Status Update (${minutes})`,
      '',
      '**Metrics**:',
      ...formatMetrics(metrics, settings),
      '',
      // alarms ignored under unreadable_alarms: notBreaching are said out loud, not hidden behind "normal"
      ...(check.warnings?.length
        ? [...check.warnings.map((w) => `⚠️ ${w}`), 'All other metrics within normal range.']
        : ['All metrics within normal range.']),
    ].join('\n'),
  );
  return nextWait(monitoring.endsAt, now, settings.reportIntervalSeconds);
};
