import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { Service, Triggers } from '../config/schema.js';
import type { MetricReader, MetricReadings } from '../ports/metric-readings.js';
import { HEALTH_METRICS, serviceMetrics } from '../service-alarms.js';

const MINUTE = 60;
const minutes = (seconds: number) => Math.max(1, Math.ceil(seconds / MINUTE));

const stat = (
  id: string,
  metric: { namespace: string; name: string; dimensions: Record<string, string> },
  statistic: string,
): MetricDataQuery => ({
  Id: id,
  MetricStat: {
    Metric: {
      Namespace: metric.namespace,
      MetricName: metric.name,
      Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
    },
    Period: MINUTE,
    Stat: statistic,
  },
  ReturnData: true,
});

/**
 * The production `MetricReader`: one GetMetricData call for the one-minute datapoints the stack's alarms
 * read. The error rate is errors / requests over the last `error_rate_for`, the p99 the worst minute of the
 * last `response_time_p99_for`, the failed health checks those in a row up to the newest minute. A metric
 * without datapoints is left out (the report says "no data"), as the alarms treat it as missing.
 */
export class CloudWatchMetricReader implements MetricReader {
  constructor(private readonly options: { client: CloudWatchClient }) {}

  async read(service: Service, triggers: Triggers, now: Date): Promise<MetricReadings> {
    const metrics = serviceMetrics(service);
    const queries: MetricDataQuery[] = [];
    if (metrics) {
      const m = (metric: { metricName: string }) => ({
        namespace: metrics.namespace,
        name: metric.metricName,
        dimensions: metrics.dimensions,
      });
      queries.push(
        stat('requests', m(metrics.requests), metrics.requests.statistic),
        stat('errors', m(metrics.errors), metrics.errors.statistic),
        stat('latency', m(metrics.latency), metrics.latency.statistic),
      );
    }
    if (service.monitoring.health_url) {
      queries.push(
        stat(
          'health',
          {
            namespace: HEALTH_METRICS.namespace,
            name: HEALTH_METRICS.failed,
            dimensions: HEALTH_METRICS.dimensions(service.name, service.environment),
          },
          'Maximum',
        ),
      );
    }
    if (queries.length === 0) return {};
    const window = Math.max(
      minutes(triggers.error_rate_for),
      minutes(triggers.response_time_p99_for),
      triggers.health_check_failures,
    );
    const series = new Map<string, { at: number; value: number }[]>();
    let nextToken: string | undefined;
    do {
      const page = await this.options.client.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: new Date(now.getTime() - window * MINUTE * 1000),
          EndTime: now,
          ScanBy: 'TimestampDescending',
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const points = series.get(result.Id ?? '') ?? [];
        (result.Timestamps ?? []).forEach((t, i) => {
          const value = result.Values?.[i];
          if (value !== undefined) points.push({ at: t.getTime(), value });
        });
        series.set(result.Id ?? '', points);
      }
      nextToken = page.NextToken;
    } while (nextToken);

    const within = (id: string, windowMinutes: number) =>
      (series.get(id) ?? []).filter((p) => p.at > now.getTime() - windowMinutes * MINUTE * 1000);
    const sum = (points: { value: number }[]) => points.reduce((total, p) => total + p.value, 0);
    const readings: MetricReadings = {};
    if (metrics) {
      const errorMinutes = minutes(triggers.error_rate_for);
      const requests = sum(within('requests', errorMinutes));
      if (within('requests', errorMinutes).length > 0) {
        readings.requests = requests;
        if (requests > 0) readings.errorRate = (100 * sum(within('errors', errorMinutes))) / requests;
      }
      const latency = within('latency', minutes(triggers.response_time_p99_for));
      if (latency.length > 0) readings.p99Ms = Math.max(...latency.map((p) => p.value)) * metrics.latencyToMs;
    }
    if (service.monitoring.health_url) {
      const health = within('health', triggers.health_check_failures).sort((a, b) => b.at - a.at);
      if (health.length > 0) {
        let failures = 0;
        for (const point of health) {
          if (point.value < 1) break;
          failures++;
        }
        readings.healthFailures = failures;
      }
    }
    return readings;
  }
}
