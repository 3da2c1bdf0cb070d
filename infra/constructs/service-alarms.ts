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
  HEALTH_METRICS,
  missingDataFor,
  serviceMetrics,
} from '../../functions/shared/service-alarms.js';

/** The alarms are evaluated on one-minute datapoints: the bake sweep and the health probe run every minute too. */
const PERIOD = Duration.minutes(1);

const TREAT_MISSING: Record<ReturnType<typeof missingDataFor>, TreatMissingData> = {
  breaching: TreatMissingData.BREACHING,
  notBreaching: TreatMissingData.NOT_BREACHING,
  ignore: TreatMissingData.IGNORE,
  missing: TreatMissingData.MISSING,
};

export interface ServiceAlarmsProps {
  /** a service with `monitoring.cloudwatch`, `monitoring.health_url` or both */
  service: Service;
  /** the service's triggers, its own over the agent-wide ones (settingsFor) */
  triggers: Triggers;
}

/** A trigger alarm with the metric it watches, for the dashboard's graph. */
interface TriggerAlarm {
  alarm: Alarm;
  metric: IMetric;
  title: string;
  threshold: number;
  unit: string;
}

/**
 * One service's rollback triggers as CloudWatch alarms: with `monitoring.cloudwatch` the error rate (metric
 * math, errors / requests × 100) and the p99 latency; with `monitoring.health_url` the failed checks in a
 * row that the health probe function publishes (`HEALTH_METRICS`); and a composite alarm that is in ALARM
 * when any of them or the service's own `monitoring.alarms` is. Names come from `generatedAlarmNames`,
 * which the functions watch too.
 */
export class ServiceAlarms extends Construct {
  readonly names: GeneratedAlarmNames;
  readonly errorRate?: Alarm;
  readonly p99?: Alarm;
  readonly health?: Alarm;
  readonly composite: CompositeAlarm;
  /** the service's own alarms, by name, for the composite and the dashboard */
  readonly existing: IAlarm[];
  private readonly triggerAlarms: TriggerAlarm[] = [];

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const { service, triggers } = props;
    const names = generatedAlarmNames(service);
    if (!names) throw new Error(`service ${service.name} has neither monitoring.cloudwatch nor health_url`);
    this.names = names;
    const label = `${service.name}/${service.environment}`;
    // Whole minutes: an alarm looks at N one-minute datapoints, so "for 5 minutes" is 5 of them.
    const periods = (seconds: number) => Math.max(1, Math.ceil(seconds / PERIOD.toSeconds()));

    const metrics = serviceMetrics(service);
    if (metrics && names.errorRate && names.p99) {
      const metric = (m: { metricName: string; statistic: string }) =>
        new Metric({
          namespace: metrics.namespace,
          metricName: m.metricName,
          dimensionsMap: metrics.dimensions,
          statistic: m.statistic,
          period: PERIOD,
        });
      const errorRateMetric = new MathExpression({
        // A minute without errors or requests has no datapoint (ALB publishes no zero 5XX count); missing
        // data then decides, notBreaching by default. FILL() is avoided: in alarms it can pin the newest
        // datapoint.
        expression: '100 * errors / requests',
        usingMetrics: { errors: metric(metrics.errors), requests: metric(metrics.requests) },
        label: `${label} error rate (%)`,
        period: PERIOD,
      });
      this.errorRate = this.thresholdAlarm('ErrorRate', names.errorRate, {
        what: `${label} error rate above ${triggers.error_rate}%`,
        metric: errorRateMetric,
        threshold: triggers.error_rate,
        periods: periods(triggers.error_rate_for),
        datapoints: triggers.error_rate_datapoints,
        missing: missingDataFor(triggers, 'error_rate'),
        graph: { title: 'Error rate (%)', unit: '%' },
      });

      const latency = metric(metrics.latency);
      const p99Metric =
        metrics.latencyToMs === 1
          ? latency.with({ label: `${label} p99 (ms)` })
          : new MathExpression({
              expression: `latency * ${metrics.latencyToMs}`,
              usingMetrics: { latency },
              label: `${label} p99 (ms)`,
              period: PERIOD,
            });
      this.p99 = this.thresholdAlarm('P99', names.p99, {
        what: `${label} p99 latency above ${triggers.response_time_p99} ms`,
        metric: p99Metric,
        threshold: triggers.response_time_p99,
        periods: periods(triggers.response_time_p99_for),
        datapoints: triggers.response_time_p99_datapoints,
        missing: missingDataFor(triggers, 'response_time_p99'),
        graph: { title: 'p99 latency (ms)', unit: ' ms' },
      });
    }

    if (names.health) {
      // One probe a minute, so "N failed checks in a row" is N of N one-minute datapoints at 1. Maximum, not
      // Sum: a retried invocation that publishes twice in a minute still counts one check.
      const failed = new Metric({
        namespace: HEALTH_METRICS.namespace,
        metricName: HEALTH_METRICS.failed,
        dimensionsMap: HEALTH_METRICS.dimensions(service.name, service.environment),
        statistic: 'Maximum',
        period: PERIOD,
        label: `${label} failed health check (1 = failed)`,
      });
      const n = triggers.health_check_failures;
      this.health = new Alarm(this, 'Health', {
        alarmName: names.health,
        alarmDescription: `devops-agent: ${label} failed ${n} health checks in a row (${service.monitoring.health_url}, probed every minute); rolls back a baking deployment`,
        metric: failed,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: n,
        datapointsToAlarm: n,
        treatMissingData: TREAT_MISSING[missingDataFor(triggers, 'health_check')],
      });
      this.triggerAlarms.push({
        alarm: this.health,
        metric: failed,
        title: 'Failed health checks (1 = failed)',
        threshold: 1,
        unit: '',
      });
    }

    this.existing = service.monitoring.alarms.map((name, i) =>
      Alarm.fromAlarmName(this, `Existing${i}`, name),
    );
    this.composite = new CompositeAlarm(this, 'Composite', {
      compositeAlarmName: names.composite,
      alarmDescription: `devops-agent: ${label} breaches a rollback trigger (any of its alarms is in ALARM)`,
      alarmRule: AlarmRule.anyOf(
        ...[...this.triggerAlarms.map((t) => t.alarm), ...this.existing].map((a) =>
          AlarmRule.fromAlarm(a, AlarmState.ALARM),
        ),
      ),
    });
  }

  /** An alarm above `threshold` for M of N one-minute datapoints (default all N), with its dashboard graph. */
  private thresholdAlarm(
    id: string,
    alarmName: string,
    props: {
      what: string;
      metric: IMetric;
      threshold: number;
      periods: number;
      datapoints: number | undefined;
      missing: ReturnType<typeof missingDataFor>;
      graph: { title: string; unit: string };
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      alarmName,
      alarmDescription: `devops-agent: ${props.what} for ${props.periods} min; rolls back a baking deployment`,
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: props.periods,
      datapointsToAlarm: Math.min(props.datapoints ?? props.periods, props.periods),
      treatMissingData: TREAT_MISSING[props.missing],
    });
    this.triggerAlarms.push({ alarm, metric: props.metric, threshold: props.threshold, ...props.graph });
    return alarm;
  }

  /** One dashboard row per service: each trigger's graph with its threshold, and every alarm's state. */
  widgets(): IWidget[][] {
    const width = Math.max(6, Math.floor(24 / (this.triggerAlarms.length + 1)));
    return [
      [new TextWidget({ markdown: `### ${this.names.composite}`, width: 24, height: 1 })],
      [
        ...this.triggerAlarms.map(
          (t) =>
            new GraphWidget({
              title: t.title,
              left: [t.metric],
              leftAnnotations: [
                { value: t.threshold, label: `rollback ${t.unit ? 'above' : 'at'} ${t.threshold}${t.unit}` },
              ],
              width,
              height: 6,
            }),
        ),
        new AlarmStatusWidget({
          title: 'Alarms (any in ALARM rolls a bake back)',
          alarms: [this.composite, ...this.triggerAlarms.map((t) => t.alarm), ...this.existing],
          width,
          height: 6,
        }),
      ],
    ];
  }
}
