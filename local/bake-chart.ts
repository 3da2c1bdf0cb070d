import type { Triggers } from '../functions/shared/config/schema.js';
import type { DeploymentRecord } from '../functions/shared/ports/deployment-store.js';
import type { MonitorReading } from './adapters/local-monitor.js';

/** What the console draws for one deployment's bake: the readings, the thresholds and what happened. */
export interface BakeChart {
  /** the bake's start */
  from: string;
  /** the end of the chart: when the deployment finished, else now */
  to: string;
  /** still baking or rolling back: the chart grows */
  live: boolean;
  thresholds: { errorRate: number; p99Ms: number; healthCheckFailures: number };
  readings: MonitorReading[];
  /** the start of the first breaching datapoint */
  firstBreachAt?: string;
  /** why the bake failed (the breach, else the rollback's reason) */
  reason?: string;
  rollbackStartedAt?: string;
  /** how long after the first breaching datapoint the rollback started (ms) */
  reactionMs?: number;
}

/**
 * Shapes a deployment's bake for the console: the readings from the bake's start to its end (when the
 * deployment finished) or `now`, with the service's thresholds, the first breaching datapoint, the reason
 * and the rollback's start. `undefined` for a deployment that never baked.
 */
export const bakeChart = (
  record: Pick<DeploymentRecord, 'monitoring' | 'rollback' | 'finishedAt'>,
  readings: readonly MonitorReading[],
  triggers: Pick<Triggers, 'error_rate' | 'response_time_p99' | 'health_check_failures'>,
  now: Date,
): BakeChart | undefined => {
  const monitoring = record.monitoring;
  if (!monitoring) return undefined;
  const from = Date.parse(monitoring.startedAt);
  const to = Math.max(from, record.finishedAt ? Date.parse(record.finishedAt) : now.getTime());
  const reason = monitoring.breach ?? (record.rollback ? record.rollback.reason : undefined);
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    live: !record.finishedAt,
    thresholds: {
      errorRate: triggers.error_rate,
      p99Ms: triggers.response_time_p99,
      healthCheckFailures: triggers.health_check_failures,
    },
    readings: readings.filter((r) => {
      const at = Date.parse(r.at);
      return at >= from && at <= to;
    }),
    ...(monitoring.firstBreachAt ? { firstBreachAt: monitoring.firstBreachAt } : {}),
    ...(reason ? { reason } : {}),
    ...(record.rollback?.startedAt ? { rollbackStartedAt: record.rollback.startedAt } : {}),
    ...(record.rollback?.reactionMs !== undefined ? { reactionMs: record.rollback.reactionMs } : {}),
  };
};
