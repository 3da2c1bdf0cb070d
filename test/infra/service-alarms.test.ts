import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { watchedAlarms } from '../../functions/shared/service-alarms.js';
import { PROJECT_ROOT } from '../../infra/constructs/node-function.js';
import { buildStack, type DevopsAgentStack } from '../../infra/stack.js';
import { unacknowledgedNagFindings } from './nag.js';
import type { Statement } from './template-text.js';

const CLOUDWATCH_CONFIG = resolve(PROJECT_ROOT, 'test/infra/fixtures/cloudwatch-config.yaml');

/** `arn:…:alarm:<name>` in a resolved ARN (an Fn::Join of the partition, region and account) → the name. */
const alarmNames = (resource: unknown): string[] =>
  [...JSON.stringify(resource).matchAll(/:alarm:([\w.-]+)/g)].map((m) => m[1] ?? '');

describe('ServiceAlarms (monitoring.cloudwatch and health_url)', () => {
  let stack: DevopsAgentStack;
  let template: Template;

  beforeAll(() => {
    stack = buildStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), CLOUDWATCH_CONFIG);
    template = Template.fromStack(stack);
  });

  it('creates the error-rate and p99 alarms for monitoring.cloudwatch and a health alarm for health_url', () => {
    // Act
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties.AlarmName)
      // the agent's own alarms (`DevopsAgent-agent-…`) are agent-observability.test.ts's
      .filter((n: string) => n.startsWith('devops-agent-'))
      .sort();

    // Assess
    expect(names).toEqual([
      'devops-agent-api-production-error-rate',
      'devops-agent-api-production-p99',
      'devops-agent-web-production-health',
      'devops-agent-worker-staging-error-rate',
      'devops-agent-worker-staging-health',
      'devops-agent-worker-staging-p99',
    ]);
  });

  it("alarms on the health probe's failed checks in a row, missing data breaching by default", () => {
    // Assess
    const health = (service: string, environment: string, n: number) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `devops-agent-${service}-${environment}-health`,
        Metrics: [
          Match.objectLike({
            MetricStat: {
              Metric: {
                Namespace: 'DevopsAgent/Health',
                MetricName: 'HealthCheckFailed',
                // the order CDK writes them in (CloudWatch does not care)
                Dimensions: [
                  { Name: 'Environment', Value: environment },
                  { Name: 'Service', Value: service },
                ],
              },
              Period: 60,
              Stat: 'Maximum',
            },
            ReturnData: true,
          }),
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: n,
        DatapointsToAlarm: n,
        TreatMissingData: 'breaching',
      });
    health('web', 'production', 3);
    health('worker', 'staging', 2);
  });

  it('probes the health URLs every minute with a function that may only publish its own namespace', () => {
    // Prepare
    const functions = template.findResources('AWS::Lambda::Function');
    const [probeId, probe] =
      Object.entries(functions).find(([, f]) => f.Properties.Description?.startsWith('Health checks')) ?? [];
    const roleId = probe?.Properties.Role['Fn::GetAtt'][0];

    // Act
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).filter((s) =>
      JSON.stringify(s.Properties.Target.Arn).includes(probeId ?? '-'),
    );

    // Assess
    expect(probe).toBeDefined();
    expect(probe?.Properties.Environment.Variables).not.toHaveProperty('TABLE_NAME');
    expect(schedules.map((s) => s.Properties.ScheduleExpression)).toEqual(['rate(1 minute)']);
    // sqs: its failed invocations go to the agent's dead-letter queue (agent-observability.test.ts)
    const actions = statements
      .flatMap((s) => [s.Action].flat())
      .filter((a) => !a.startsWith('logs:') && !a.startsWith('sqs:'));
    expect(actions.filter((a) => !a.startsWith('xray:'))).toEqual(['cloudwatch:PutMetricData']);
    expect(statements.find((s) => s.Action === 'cloudwatch:PutMetricData')).toMatchObject({
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'DevopsAgent/Health' } },
    });
  });

  it('computes the ALB error rate as 5XX / requests × 100 per minute, 5 of 5 minutes above 1 %', () => {
    // Assess
    const alb = (metricName: string) => ({
      MetricStat: {
        Metric: {
          Namespace: 'AWS/ApplicationELB',
          MetricName: metricName,
          Dimensions: [{ Name: 'LoadBalancer', Value: 'app/api/50dc6c495c0c9188' }],
        },
        Period: 60,
        Stat: 'Sum',
      },
      ReturnData: false,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'devops-agent-api-production-error-rate',
      Metrics: Match.arrayEquals([
        Match.objectLike({ Expression: '100 * errors / requests', ReturnData: true }),
        { Id: 'errors', ...alb('HTTPCode_Target_5XX_Count') },
        { Id: 'requests', ...alb('RequestCount') },
      ]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      TreatMissingData: 'notBreaching',
    });
  });

  it('reads the ALB p99 in seconds as milliseconds against the 1000 ms threshold', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'devops-agent-api-production-p99',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'latency * 1000', ReturnData: true }),
        Match.objectLike({
          Id: 'latency',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'TargetResponseTime' }),
            Period: 60,
            Stat: 'p99',
          }),
        }),
      ]),
      Threshold: 1000,
      EvaluationPeriods: 5,
      TreatMissingData: 'notBreaching',
    });
  });

  it("takes the service's own triggers, M of N and missing-data policy over the agent's", () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'devops-agent-worker-staging-error-rate',
      Metrics: Match.arrayWith([
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'Acme/Worker',
              MetricName: 'JobErrors',
              Dimensions: [{ Name: 'Service', Value: 'worker' }],
            },
          }),
        }),
      ]),
      Threshold: 2.5,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'devops-agent-worker-staging-p99',
      Threshold: 400,
      EvaluationPeriods: 2,
      TreatMissingData: 'notBreaching',
    });
  });

  it("combines the trigger alarms and the service's own alarms in one composite per service", () => {
    // Act
    const composites = Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm'));
    const rule = (name: string) =>
      JSON.stringify(composites.find((c) => c.Properties.AlarmName === name)?.Properties.AlarmRule);

    // Assess
    expect(composites.map((c) => c.Properties.AlarmName).sort()).toEqual([
      'devops-agent-api-production',
      'devops-agent-web-production',
      'devops-agent-worker-staging',
    ]);
    const api = rule('devops-agent-api-production');
    expect(api).toMatch(/AlarmsapiproductionErrorRate\w+","Arn"/);
    expect(api).toMatch(/AlarmsapiproductionP99\w+","Arn"/);
    expect(alarmNames(api)).toEqual(['api-queue-depth']);
    expect(api.match(/ALARM\(/g)).toHaveLength(3);
    expect(api.match(/ OR /g)).toHaveLength(2);
    const worker = rule('devops-agent-worker-staging');
    expect(worker).toMatch(/AlarmsworkerstagingHealth\w+","Arn"/);
    expect(worker.match(/ALARM\(/g)).toHaveLength(3);
    expect(rule('devops-agent-web-production')).toMatch(/AlarmswebproductionHealth\w+","Arn"/);
  });

  it('sends the generated alarms and the configured ones, not the composites, to alarm-event', () => {
    // Prepare
    const expected = stack.config.services.flatMap(watchedAlarms);

    // Act
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find(
      (r) => r.Properties.EventPattern?.source?.[0] === 'aws.cloudwatch',
    );

    // Assess
    expect([...(rule?.Properties.EventPattern.detail.alarmName ?? [])].sort()).toEqual([...expected].sort());
    expect(expected).toEqual(
      expect.arrayContaining([
        'devops-agent-worker-staging-p99',
        'devops-agent-worker-staging-health',
        'devops-agent-web-production-health',
        'api-queue-depth',
        'cron-failures',
      ]),
    );
    expect(expected).not.toContain('devops-agent-api-production');
  });

  it('lets the functions describe exactly the watched alarms', () => {
    // Prepare
    const watched = [...new Set(stack.config.services.flatMap(watchedAlarms))].sort();

    // Act
    const described = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('cloudwatch:Describe')));

    // Assess
    expect(described.length).toBeGreaterThan(0);
    for (const statement of described) {
      expect([statement.Action].flat()).toEqual(expect.arrayContaining(['cloudwatch:DescribeAlarms']));
      expect(alarmNames(statement.Resource).sort()).toEqual(watched);
    }
  });

  it('shows each service on one dashboard: its trigger graphs with their thresholds and the alarm states', () => {
    // Act
    // the other dashboard is the agent's own (`DevopsAgent-agent`, agent-observability.test.ts)
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')).filter(
      (d) => d.Properties.DashboardName !== 'DevopsAgent-agent',
    );
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);

    // Assess
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]?.Properties.DashboardName).toBe('DevopsAgent-deployments');
    expect(body).toContain('### devops-agent-api-production');
    expect(body).toContain('### devops-agent-worker-staging');
    expect(body).toContain('### devops-agent-web-production');
    expect(body).not.toContain('cron');
    expect(body).toContain('rollback above 2.5%');
    expect(body).toContain('rollback above 400 ms');
    expect(body).toContain('Failed health checks');
    expect(body.match(/\\"type\\":\\"alarm\\"/g)).toHaveLength(3);
  });

  it('lets only ReportStatus read metric data, for the numbers in the status reports', () => {
    // Act
    const readers = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) =>
        (p.Properties.PolicyDocument.Statement as Statement[]).some((s) =>
          [s.Action].flat().includes('cloudwatch:GetMetricData'),
        ),
      )
      .flatMap((p) => (p.Properties.Roles as { Ref: string }[]).map((r) => r.Ref));

    // Assess
    expect(readers).toHaveLength(1);
    expect(readers[0]).toMatch(/^ReportStatusFunction/);
  });

  it('warns at synth when a health_url is a local address the probe in Lambda cannot reach', () => {
    // Prepare
    const demo = buildStack(
      new App({ context: { 'aws:cdk:bundling-stacks': [] } }),
      resolve(PROJECT_ROOT, 'examples/demo/devops-agent.yaml'),
    );

    // Act
    const warnings = Annotations.fromStack(demo).findWarning('*', Match.stringLikeRegexp('health_url'));
    const mine = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('health_url'));

    // Assess
    expect(warnings.map((w) => w.entry.data)).toEqual([
      expect.stringContaining(
        'health_url http://127.0.0.1:4100/health is a local address the health probe in Lambda cannot reach',
      ),
    ]);
    expect(mine).toEqual([]);
  });

  it('has no AwsSolutions findings', () => {
    // Act
    const findings = unacknowledgedNagFindings(stack);

    // Assess
    expect(findings).toEqual([]);
  });
});
