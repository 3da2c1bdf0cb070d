import type { MissingData, Service, Triggers } from './config/schema.js';

/** A metric of the service as the stack's alarms and dashboard read it. */
export interface ServiceMetric {
  metricName: string;
  statistic: 'Sum' | 'p99';
}

/** Where a service's request metrics are in CloudWatch, with the ALB preset expanded. */
export interface ServiceMetrics {
  namespace: string;
  dimensions: Record<string, string>;
  requests: ServiceMetric;
  errors: ServiceMetric;
  latency: ServiceMetric;
  /** what one unit of the latency metric is in milliseconds (ALB reports seconds) */
  latencyToMs: number;
}

/** The names of the alarms the stack creates for one service (absent: the service has no such alarm). */
export interface GeneratedAlarmNames {
  /** with `monitoring.cloudwatch` */
  errorRate?: string;
  /** with `monitoring.cloudwatch` */
  p99?: string;
  /** with `monitoring.health_url`: the health probe's failed checks in a row */
  health?: string;
  /** ANY of the others and the service's own `monitoring.alarms`: one state to look at */
  composite: string;
}

/**
 * The custom metrics the AWS health probe publishes (one datapoint per service a minute) and the stack's
 * health alarms read; one definition so the two cannot drift.
 */
export const HEALTH_METRICS = {
  namespace: 'DevopsAgent/Health',
  /** 1 a failed check, 0 a healthy one */
  failed: 'HealthCheckFailed',
  latency: 'HealthCheckLatency',
  dimensions: (service: string, environment: string) => ({ Service: service, Environment: environment }),
} as const;

/**
 * The service's CloudWatch metrics from `monitoring.cloudwatch`, or undefined when it has none (then the stack
 * creates no trigger alarms for it and only its own `monitoring.alarms` are watched).
 */
export const serviceMetrics = (service: Service): ServiceMetrics | undefined => {
  const cw = service.monitoring.cloudwatch;
  if (!cw) return undefined;
  if ('alb' in cw)
    return {
      namespace: 'AWS/ApplicationELB',
      dimensions: { LoadBalancer: cw.alb },
      requests: { metricName: 'RequestCount', statistic: 'Sum' },
      errors: { metricName: 'HTTPCode_Target_5XX_Count', statistic: 'Sum' },
      latency: { metricName: 'TargetResponseTime', statistic: 'p99' },
      latencyToMs: 1000,
    };
  return {
    namespace: cw.namespace,
    dimensions: cw.dimensions,
    requests: { metricName: cw.requests, statistic: 'Sum' },
    errors: { metricName: cw.errors, statistic: 'Sum' },
    latency: { metricName: cw.latency, statistic: 'p99' },
    latencyToMs: cw.latency_unit === 'seconds' ? 1000 : 1,
  };
};

/**
 * The deterministic names of the alarms the stack creates for a service, or undefined when it creates none
 * (neither `monitoring.cloudwatch` nor `monitoring.health_url`). The stack names its alarms with this and
 * the functions watch them with it, so the two cannot drift.
 */
export const generatedAlarmNames = (service: Service): GeneratedAlarmNames | undefined => {
  const { cloudwatch, health_url } = service.monitoring;
  if (!cloudwatch && !health_url) return undefined;
  const base = `devops-agent-${service.name}-${service.environment}`;
  return {
    ...(cloudwatch ? { errorRate: `${base}-error-rate`, p99: `${base}-p99` } : {}),
    ...(health_url ? { health: `${base}-health` } : {}),
    composite: base,
  };
};

/**
 * Every alarm whose ALARM rolls a bake of the service back: its own `monitoring.alarms` and the stack's trigger
 * alarms. Not the composite: it only repeats them, and the child alarm names the reason.
 */
export const watchedAlarms = (service: Service): string[] => {
  const generated = generatedAlarmNames(service);
  return [
    ...new Set([
      ...service.monitoring.alarms,
      ...[generated?.errorRate, generated?.p99, generated?.health].filter((n) => n !== undefined),
    ]),
  ];
};

/** TreatMissingData per trigger: a quiet service is not failing, a silent health check is. */
export const missingDataFor = (
  triggers: Triggers,
  trigger: 'error_rate' | 'response_time_p99' | 'health_check',
): MissingData => {
  const configured = triggers[`${trigger}_missing_data`];
  return configured ?? (trigger === 'health_check' ? 'breaching' : 'notBreaching');
};
