import type { ServiceSettings } from './config/resolve.js';
import type { Service } from './config/schema.js';
import { errorMessage } from './errors.js';
import type { AlarmCheck } from './ports/alarm-source.js';
import type { MetricsSnapshot } from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';
import { watchedAlarms } from './service-alarms.js';

/**
 * Reads the service's rollback triggers; only what fired after `since` (the bake start) counts, unless the
 * service's `alarms_firing_at_start` says otherwise. A source that cannot be read at all throws (fail safe:
 * the caller rolls back), unless the service's `unreadable_alarms` is `notBreaching`: then the read is not a
 * breach but a warning the caller logs and reports, so the blind spot is never silent.
 */
export const readTriggers = async (
  service: Service,
  settings: ServiceSettings,
  since: string,
  ports: Pick<Ports, 'alarms'>,
): Promise<AlarmCheck> => {
  try {
    return await ports.alarms.check({
      service: service.name,
      environment: service.environment,
      triggers: settings.triggers,
      alarms: watchedAlarms(service),
      since,
      firingAtStart: service.monitoring.alarms_firing_at_start,
      unreadable: service.monitoring.unreadable_alarms,
    });
  } catch (error) {
    if (service.monitoring.unreadable_alarms !== 'notBreaching') throw error;
    return {
      breached: false,
      reasons: [],
      metrics: { alarms: [] },
      warnings: [
        `cannot read the rollback triggers (${errorMessage(error)}); baking on (unreadable_alarms: notBreaching)`,
      ],
    };
  }
};

/** The states a source gives an alarm it could not read (CloudWatchAlarmSource). */
const UNREAD_STATES = new Set(['MISSING', 'UNREADABLE']);

const fmt = (value: number | undefined, unit: string, digits = 2) =>
  value === undefined ? 'no data' : `${value.toFixed(digits)}${unit}`;

export const formatMetrics = (metrics: MetricsSnapshot, settings: ServiceSettings): string[] => {
  const t = settings.triggers;
  const ok = (good: boolean) => (good ? '✓' : '✗');
  return [
    `- Error rate: ${fmt(metrics.errorRate, '%')} ${ok((metrics.errorRate ?? 0) <= t.error_rate)} (rollback above ${t.error_rate}%)`,
    `- Response time (p99): ${fmt(metrics.p99Ms, ' ms', 0)} ${ok((metrics.p99Ms ?? 0) <= t.response_time_p99)} (rollback above ${t.response_time_p99} ms)`,
    `- Failed health checks: ${metrics.healthFailures ?? 0} ${ok((metrics.healthFailures ?? 0) < t.health_check_failures)} (rollback at ${t.health_check_failures})`,
    ...(metrics.requests !== undefined ? [`- Requests observed: ${metrics.requests}`] : []),
    // a missing or unreadable alarm is no ✓ even when unreadable_alarms (notBreaching) lets the bake go on
    ...metrics.alarms.map(
      (a) =>
        `- Alarm ${a.name}: ${a.state} ${UNREAD_STATES.has(a.state) ? '⚠ (could not be read)' : ok(a.state !== 'ALARM')}`,
    ),
  ];
};

/** Seconds until the next status report, never past the end of the bake; 1 when the bake is over. */
export const nextWait = (
  endsAt: string,
  now: Date,
  reportIntervalSeconds: number,
): { waitSeconds: number; done: boolean } => {
  const remaining = Math.ceil((new Date(endsAt).getTime() - now.getTime()) / 1000);
  if (remaining <= 0) return { waitSeconds: 1, done: true };
  return { waitSeconds: Math.max(1, Math.min(reportIntervalSeconds, remaining)), done: false };
};
