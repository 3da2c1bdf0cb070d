import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { HealthDatapoint, HealthMetrics } from '../ports/health-metrics.js';
import { HEALTH_METRICS } from '../service-alarms.js';

/** Datapoints per PutMetricData call: 20 fits every limit PutMetricData has had (it takes up to 1,000 now). */
const BATCH = 20;

/**
 * The production `HealthMetrics`: one `HealthCheckFailed` datapoint (1 failed, 0 healthy) and, when the
 * service answered, one `HealthCheckLatency` datapoint per service and probe, in the namespace and with the
 * dimensions the stack's health alarms read (`HEALTH_METRICS`, so the two cannot drift).
 */
export class CloudWatchHealthMetrics implements HealthMetrics {
  constructor(private readonly options: { client: CloudWatchClient }) {}

  async publish(points: HealthDatapoint[]): Promise<void> {
    const data: MetricDatum[] = points.flatMap((point) => {
      const dimensions = HEALTH_METRICS.dimensions(point.service, point.environment);
      const Dimensions = Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value }));
      return [
        {
          MetricName: HEALTH_METRICS.failed,
          Dimensions,
          Timestamp: point.at,
          Value: point.failed ? 1 : 0,
          Unit: 'Count' as const,
        },
        ...(point.latencyMs === undefined
          ? []
          : [
              {
                MetricName: HEALTH_METRICS.latency,
                Dimensions,
                Timestamp: point.at,
                Value: point.latencyMs,
                Unit: 'Milliseconds' as const,
              },
            ]),
      ];
    });
    for (let i = 0; i < data.length; i += BATCH) {
      await this.options.client.send(
        new PutMetricDataCommand({
          Namespace: HEALTH_METRICS.namespace,
          MetricData: data.slice(i, i + BATCH),
        }),
      );
    }
  }
}
