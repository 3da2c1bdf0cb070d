import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  AlarmState,
  AlarmStatusWidget,
  ComparisonOperator,
  CompositeAlarm,
  GraphWidget,
  type IAlarm,
  type IMetric,
  type IWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { Service, Triggers } from '../../functions/shared/config/schema.js';
import {
  type GeneratedAlarmNames,
  generatedAlarmNames,
  missingDataFor,
  serviceMetrics,
} from '../../functions/shared/service-alarms.js';

/** The alarms are evaluated on one-minute datapoints: the bake sweep runs every minute too. */
const PERIOD = Duration.minutes(1);

const TREAT_MISSING: Record<ReturnType<typeof missingDataFor>, TreatMissingData> = {
  breaching: TreatMissingData.BREACHING,
  notBreaching: TreatMissingData.NOT_BREACHING,
  ignore: TreatMissingData.IGNORE,
  missing: TreatMissingData.MISSING,
};

export interface ServiceAlarmsProps {
  /** a service with `monitoring.cloudwatch` */
  service: Service;
  /** the service's triggers, its own over the agent-wide ones (settingsFor) */
  triggers: Triggers;
}

/**
 * One service's rollback triggers as CloudWatch alarms: the error rate (metric math, errors / requests × 100),
 * the p99 latency, and a composite alarm that is in ALARM when any of them or the service's own
 * `monitoring.alarms` is. Names come from `generatedAlarmNames`, which the functions watch too.
 * No health alarm: Route 53 publishes its health check metrics in us-east-1 only (docs/configuration.md).
 */
export class ServiceAlarms extends Construct {
  readonly names: GeneratedAlarmNames;
  readonly errorRate: Alarm;
  readonly p99: Alarm;
  readonly composite: CompositeAlarm;
  /** the service's own alarms, by name, for the composite and the dashboard */
  readonly existing: IAlarm[];
  readonly errorRateMetric: IMetric;
  readonly p99Metric: IMetric;
  private readonly triggers: Triggers;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const { service, triggers } = props;
    this.triggers = triggers;
    const names = generatedAlarmNames(service);
    const metrics = serviceMetrics(service);
    if (!names || !metrics) throw new Error(`service ${service.name} has no monitoring.cloudwatch`);
    this.names = names;
    const label = `${service.name}/${service.environment}`;
    const metric = (m: { metricName: string; statistic: string }) =>
      new Metric({
        namespace: metrics.namespace,
        metricName: m.metricName,
        dimensionsMap: metrics.dimensions,
        statistic: m.statistic,
        period: PERIOD,
      });
    // Whole minutes: an alarm looks at N one-minute datapoints, so "for 5 minutes" is 5 of them.
    const periods = (seconds: number) => Math.max(1, Math.ceil(seconds / PERIOD.toSeconds()));

    this.errorRateMetric = new MathExpression({
      // A minute without errors or requests has no datapoint (ALB publishes no zero 5XX count); missing data
      // then decides, notBreaching by default. FILL() is avoided: in alarms it can pin the newest datapoint.
      expression: '100 * errors / requests',
      usingMetrics: { errors: metric(metrics.errors), requests: metric(metrics.requests) },
      label: `${label} error rate (%)`,
      period: PERIOD,
    });
    const errorPeriods = periods(triggers.error_rate_for);
    this.errorRate = new Alarm(this, 'ErrorRate', {
      alarmName: names.errorRate,
      alarmDescription: `devops-agent: ${label} error rate above ${triggers.error_rate}% for ${errorPeriods} min; rolls back a baking deployment`,
      metric: this.errorRateMetric,
      threshold: triggers.error_rate,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: errorPeriods,
      datapointsToAlarm: Math.min(triggers.error_rate_datapoints ?? errorPeriods, errorPeriods),
      treatMissingData: TREAT_MISSING[missingDataFor(triggers, 'error_rate')],
    });

    const latency = metric(metrics.latency);
    this.p99Metric =
      metrics.latencyToMs === 1
        ? latency.with({ label: `${label} p99 (ms)` })
        : new MathExpression({
            expression: `latency * ${metrics.latencyToMs}`,
            usingMetrics: { latency },
            label: `${label} p99 (ms)`,
            period: PERIOD,
          });
    const p99Periods = periods(triggers.response_time_p99_for);
    this.p99 = new Alarm(this, 'P99', {
      alarmName: names.p99,
      alarmDescription: `devops-agent: ${label} p99 latency above ${triggers.response_time_p99} ms for ${p99Periods} min; rolls back a baking deployment`,
      metric: this.p99Metric,
      threshold: triggers.response_time_p99,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: p99Periods,
      datapointsToAlarm: Math.min(triggers.response_time_p99_datapoints ?? p99Periods, p99Periods),
      treatMissingData: TREAT_MISSING[missingDataFor(triggers, 'response_time_p99')],
    });

    this.existing = service.monitoring.alarms.map((name, i) =>
      Alarm.fromAlarmName(this, `Existing${i}`, name),
    );
    this.composite = new CompositeAlarm(this, 'Composite', {
      compositeAlarmName: names.composite,
      alarmDescription: `devops-agent: ${label} breaches a rollback trigger (any of its alarms is in ALARM)`,
      alarmRule: AlarmRule.anyOf(
        ...[this.errorRate, this.p99, ...this.existing].map((a) => AlarmRule.fromAlarm(a, AlarmState.ALARM)),
      ),
    });
  }

  /** One dashboard row per service: the two trigger graphs with their thresholds, and every alarm's state. */
  widgets(): IWidget[][] {
    const graph = (title: string, metric: IMetric, threshold: number, unit: string) =>
      new GraphWidget({
        title,
        left: [metric],
        leftAnnotations: [{ value: threshold, label: `rollback above ${threshold}${unit}` }],
        width: 8,
        height: 6,
      });
    return [
      [new TextWidget({ markdown: `### ${this.names.composite}`, width: 24, height: 1 })],
      [
        graph('Error rate (%)', this.errorRateMetric, this.triggers.error_rate, '%'),
        graph('p99 latency (ms)', this.p99Metric, this.triggers.response_time_p99, ' ms'),
        new AlarmStatusWidget({
          title: 'Alarms (any in ALARM rolls a bake back)',
          alarms: [this.composite, this.errorRate, this.p99, ...this.existing],
          width: 8,
          height: 6,
        }),
      ],
    ];
  }
}
