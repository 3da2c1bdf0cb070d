import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AGENT_METRICS } from '../../functions/shared/agent-metrics.js';
import { TASK_STATE_NAMES } from '../../functions/shared/workflow.js';
import { ALARM_EMAIL_CONTEXT_KEY } from '../../infra/constructs/agent-observability.js';
import { PROJECT_ROOT } from '../../infra/constructs/node-function.js';
import { buildStack, type DevopsAgentStack } from '../../infra/stack.js';

/** A config with a health_url: the health probe and its schedule exist too. */
const CLOUDWATCH_CONFIG = resolve(PROJECT_ROOT, 'test/infra/fixtures/cloudwatch-config.yaml');

/** No esbuild bundling in tests: the template does not depend on the code. */
const newApp = (context: Record<string, unknown> = {}) =>
  new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });

const idOf = (template: Template, type: string): string => {
  const ids = Object.keys(template.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0] ?? '';
};

describe('AgentObservability (the agent watching itself)', () => {
  let stack: DevopsAgentStack;
  let template: Template;
  let topicRef: { Ref: string };
  let queueArn: { 'Fn::GetAtt': string[] };

  beforeAll(() => {
    stack = buildStack(newApp(), CLOUDWATCH_CONFIG);
    template = Template.fromStack(stack);
    topicRef = { Ref: idOf(template, 'AWS::SNS::Topic') };
    queueArn = { 'Fn::GetAtt': [idOf(template, 'AWS::SQS::Queue'), 'Arn'] };
  });

  /** The alarm `DevopsAgent-agent-<suffix>`: one datapoint of at least 1 in five minutes, to the topic. */
  const expectAlarm = (suffix: string, metric: Record<string, unknown>) =>
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `DevopsAgent-agent-${suffix}`,
      ...metric,
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
    });

  it('alarms on timed-out and aborted executions of the deployment workflow', () => {
    // Prepare
    const machine = { Ref: idOf(template, 'AWS::StepFunctions::StateMachine') };

    // Assess
    for (const [suffix, metricName] of [
      ['workflow-timed-out', 'ExecutionsTimedOut'],
      ['workflow-aborted', 'ExecutionsAborted'],
    ]) {
      expectAlarm(suffix ?? '', {
        Namespace: 'AWS/States',
        MetricName: metricName,
        Statistic: 'Sum',
        Dimensions: [{ Name: 'StateMachineArn', Value: machine }],
      });
    }
  });

  it('alarms on failed executions less those that reported their outcome (Blocked, Held, RolledBack… are Fail states)', () => {
    // Prepare
    const machine = { Ref: idOf(template, 'AWS::StepFunctions::StateMachine') };
    const [failed] = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.AlarmName === 'DevopsAgent-agent-workflow-failed',
    );

    // Act
    const metrics = failed?.Properties.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: {
        Metric: { Namespace: string; MetricName: string; Dimensions: unknown[] };
        Period: number;
      };
    }[];
    const reported = metrics
      .filter((m) => m.MetricStat?.Metric.MetricName === 'DeploymentsFinished')
      .map((m) => m.MetricStat?.Metric.Dimensions as { Name: string; Value: string }[])
      .map((d) => d.find((x) => x.Name === 'Outcome')?.Value)
      .sort();

    // Assess
    expect(failed?.Properties).toMatchObject({
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [topicRef],
    });
    expect(metrics.find((m) => m.Expression)?.Expression).toBe(
      'FILL(failed, 0) - (FILL(o0, 0) + FILL(o1, 0) + FILL(o2, 0) + FILL(o3, 0) + FILL(o4, 0))',
    );
    expect(metrics.find((m) => m.Id === 'failed')?.MetricStat).toMatchObject({
      Metric: {
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Dimensions: [{ Name: 'StateMachineArn', Value: machine }],
      },
      Period: 300,
    });
    expect(reported).toEqual(['blocked', 'failed', 'held', 'rollback-failed', 'rolled-back']);
  });

  it('alarms on a failed rollback', () => {
    // Assess
    expectAlarm('rollback-failed', {
      Namespace: 'DevopsAgent',
      MetricName: 'DeploymentsFinished',
      Statistic: 'Sum',
      Dimensions: Match.arrayWith([{ Name: 'Outcome', Value: 'rollback-failed' }]),
    });
  });

  it('alarms on 5xx answers of the API stage', () => {
    // Assess
    expectAlarm('api-5xx', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Statistic: 'Sum',
      Dimensions: Match.arrayWith([{ Name: 'Stage', Value: Match.anyValue() }]),
    });
  });

  it('alarms on any message in the dead-letter queue', () => {
    // Assess
    expectAlarm('dead-letters', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueArn['Fn::GetAtt'][0], 'QueueName'] } }],
    });
  });

  it('alarms on the errors of each edge function, and of no Task function (their named errors are the workflow’s)', () => {
    // Prepare
    const errorAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'Errors' && a.Properties.Namespace === 'AWS/Lambda',
    );

    // Act
    const names = errorAlarms.map((a) => a.Properties.AlarmName as string).sort();
    const functions = errorAlarms.map((a) => JSON.stringify(a.Properties.Dimensions));

    // Assess
    expect(names).toEqual([
      'DevopsAgent-agent-errors-AlarmEvent',
      'DevopsAgent-agent-errors-ApprovalPage',
      'DevopsAgent-agent-errors-ClickUpWebhook',
      'DevopsAgent-agent-errors-HealthProbe',
      'DevopsAgent-agent-errors-MonitorSweep',
      'DevopsAgent-agent-errors-PollTasks',
    ]);
    for (const name of TASK_STATE_NAMES)
      expect(functions.filter((d) => d.includes(`"${name}Function`))).toEqual([]);
    for (const alarm of errorAlarms) {
      expect(alarm.Properties).toMatchObject({ Threshold: 1, Period: 300, AlarmActions: [topicRef] });
    }
  });

  it('sends undeliverable alarm events and schedule runs to an encrypted, SSL-only dead-letter queue', () => {
    // Prepare
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: queueArn } })],
    });
    expect(schedules.length).toBe(3);
    for (const schedule of schedules) {
      expect(schedule.Properties.Target.DeadLetterConfig).toEqual({ Arn: queueArn });
    }
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('sends the failed asynchronous invocations of the event and scheduled functions to the dead-letter queue', () => {
    // Prepare
    const functionIds = Object.keys(template.findResources('AWS::Lambda::Function'));

    // Act
    const configured = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig'))
      .map((c) => {
        expect(c.Properties.DestinationConfig).toEqual({ OnFailure: { Destination: queueArn } });
        const name = c.Properties.FunctionName.Ref as string;
        expect(functionIds).toContain(name);
        return name.replace(/Function.*$/, '');
      })
      .sort();

    // Assess
    expect(configured).toEqual(['AlarmEvent', 'HealthProbe', 'MonitorSweep', 'PollTasks']);
  });

  it('publishes the alarms to a KMS-encrypted (rotated key), SSL-only topic that CloudWatch may use', () => {
    // Prepare
    const keyId = idOf(template, 'AWS::KMS::Key');

    // Assess
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'DevopsAgent-agent-alarms',
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it(`subscribes the email of the context key ${ALARM_EMAIL_CONTEXT_KEY} to the alarm topic`, () => {
    // Prepare
    const withEmail = Template.fromStack(
      buildStack(newApp({ [ALARM_EMAIL_CONTEXT_KEY]: 'oncall@example.com' }), CLOUDWATCH_CONFIG),
    );

    // Assess
    withEmail.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: idOf(withEmail, 'AWS::SNS::Topic') },
    });
  });

  it('draws the dashboard DevopsAgent-agent from the metrics the functions emit', () => {
    // Prepare
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')).filter(
      (d) => d.Properties.DashboardName === 'DevopsAgent-agent',
    );

    // Act
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);

    // Assess
    expect(dashboard).toBeDefined();
    for (const title of [
      'Deployments by outcome',
      'Deployment duration',
      'Rollbacks started',
      'Approval wait',
      'Webhook and approval pages: requests and 5xx',
      'Workflow executions',
      'Lambda errors by function',
      'Lambda throttles by function',
      'Dead-letter queue',
    ])
      expect(body).toContain(title);
    for (const outcome of AGENT_METRICS.outcomes)
      expect(body).toContain(
        `\\"DevopsAgent\\",\\"DeploymentsFinished\\",\\"Outcome\\",\\"${outcome}\\",\\"service\\",\\"devops-agent\\"`,
      );
    for (const [metric, stat] of [
      ['DeploymentDuration', 'p90'],
      ['ApprovalWait', 'p50'],
      ['ApprovalWait', 'p90'],
      ['Rollbacks', 'Sum'],
      ['Webhook5xx', 'Sum'],
    ]) {
      expect(body).toMatch(new RegExp(`\\\\"${metric}\\\\",[^\\]]*\\\\"stat\\\\":\\\\"${stat}\\\\"`));
    }
    for (const metric of [
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
      '5XXError',
      'Throttles',
    ])
      expect(body).toContain(metric);
    // every function's errors: one line per function
    const functions = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) =>
      id.includes('Function'),
    );
    expect(body.match(/\\"Errors\\"/g)?.length).toBe(functions.length);
  });

  it('outputs the alarm topic ARN and the dashboard name, exported under the stack name', () => {
    // Act
    const outputs = template.findOutputs('*');

    // Assess
    expect(outputs.AlarmTopicArn).toMatchObject({
      Value: topicRef,
      Export: { Name: 'DevopsAgent-AlarmTopicArn' },
    });
    expect(outputs.AgentDashboardName).toMatchObject({ Export: { Name: 'DevopsAgent-AgentDashboardName' } });
  });

  it('has no AwsSolutions findings left unacknowledged', () => {
    // Act
    const report = new AwsSolutionsChecks().validateScope(stack);

    // Assess
    expect(
      report.violations.map(
        (v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
  });
});
