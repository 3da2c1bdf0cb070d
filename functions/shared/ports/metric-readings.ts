import type { Service, Triggers } from '../config/schema.js';
import type { MetricsSnapshot } from './deployment-store.js';

/** What a status report shows besides the alarm states, over the triggers' own windows. */
export type MetricReadings = Omit<MetricsSnapshot, 'alarms'>;

/**
 * The service's current error rate, p99, request count and failed health checks, for the bake's status
 * reports on AWS (where the alarm source only knows alarm states). Locally the monitor's own readings fill
 * the report, so the local runtime has none.
 */
export interface MetricReader {
  read(service: Service, triggers: Triggers, now: Date): Promise<MetricReadings>;
}
