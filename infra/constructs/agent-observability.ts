import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AGENT_METRICS, type AgentMetricName } from '../../functions/shared/agent-metrics.js';
import type { NodeFunction } from './node-function.js';

/** Context key: an email address subscribed to the agent's alarm topic (confirmed by the recipient). */
export const ALARM_EMAIL_CONTEXT_KEY = 'devops-agent:alarm-email';

/** What each alarm watches, by the suffix of its name (`<stack>-agent-<suffix>`). */
export const AGENT_ALARMS = {
  workflowFailed: 'workflow-failed',
  rollbackFailed: 'rollback-failed',
  workflowTimedOut: 'workflow-timed-out',
  workflowAborted: 'workflow-aborted',
  api5xx: 'api-5xx',
  deadLetters: 'dead-letters',
  /** one per edge function: `<stack>-agent-errors-<function id>` */
  functionErrors: 'errors',
} as const;

export interface AgentObservabilityProps {
  /** the deployment workflow */
  stateMachine: StateMachine;
  /** the API stage of the webhook and the approval pages */
  stage: Stage;
  /** every function of the stack, by construct id: their errors and throttles on the dashboard */
  functions: Record<string, NodeFunction>;
  /**
   * The functions whose every error is the agent's own failure (the webhook, the approval pages, the
   * alarm event, the sweep, the polling, the health probe): one alarm each. Task functions throw named
   * errors on purpose (a failed gate, step or check, which the workflow catches), so their errors are
   * not alarms; an uncaught one fails the execution, which is.
   */
  edgeFunctions: NodeFunction[];
  /**
   * The functions invoked asynchronously (EventBridge, Scheduler): an invocation that still fails after
   * Lambda's retries goes to the dead-letter queue instead of vanishing.
   */
  asyncFunctions: NodeFunction[];
}

const PERIOD = Duration.minutes(5);

/** A metric of the agent's own (`AGENT_METRICS`), with the `service` dimension every datapoint carries. */
const agentMetric = (
  name: AgentMetricName,
  statistic: string,
  period: Duration,
  dimensions: Record<string, string> = {},
): Metric =>
  new Metric({
    namespace: AGENT_METRICS.namespace,
    metricName: name,
    dimensionsMap: { service: AGENT_METRICS.service, ...dimensions },
    statistic,
    period,
  });

/** A metric-math id (a lower-case letter, then letters, digits, `_`) from a label such as `rolled-back p90`. */
const idFor = (label: string): string => `m_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;

/**
 * The agent watching itself: a dead-letter queue for every asynchronous invocation (the alarm-event rule
 * target, the schedules and the functions they invoke), alarms on the agent's own failures (failed, timed
 * out or aborted executions, 5xx answers of the API, errors of the edge functions, anything in the
 * dead-letter queue) into an encrypted SNS topic, and the dashboard `<stack>-agent` of the metrics the
 * functions emit (`AGENT_METRICS`). What each alarm means and what to do: docs/observability.md.
 */
export class AgentObservability extends Construct {
  readonly deadLetterQueue: Queue;
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AgentObservabilityProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = `${stack.stackName}-agent`;

    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the alarm-event rule, the schedules and the asynchronously invoked functions; a queue behind it would only hide what it holds.',
    });
    for (const fn of props.asyncFunctions) {
      fn.function.configureAsyncInvoke({ onFailure: new SqsDestination(this.deadLetterQueue) });
    }

    // CloudWatch publishes to an encrypted topic only with a customer managed key it may use
    const key = new Key(this, 'AlarmsKey', {
      description: `${prefix}-alarms: encrypts the agent's alarm notifications`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'AlarmTopic', {
      topicName: `${prefix}-alarms`,
      displayName: 'devops-agent alarms',
      masterKey: key,
      enforceSSL: true,
    });
    const email: unknown = this.node.tryGetContext(ALARM_EMAIL_CONTEXT_KEY);
    if (typeof email === 'string' && email.trim()) {
      this.topic.addSubscription(new EmailSubscription(email.trim()));
    }

    const machine = props.stateMachine;
    const alarm = (suffix: string, metric: IMetric, description: string) => {
      const created = new Alarm(this, `Alarm-${suffix}`, {
        alarmName: `${prefix}-${suffix}`,
        alarmDescription: `${description} See docs/observability.md.`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };
    // Blocked, Held, RolledBack, Failed and RollbackFailed are Fail states: those executions fail by design
    // and each has reported its outcome (DeploymentsFinished). What is left fails without a report: an
    // uncaught error, a report or ReleaseLock that failed.
    const reported = AGENT_METRICS.outcomes.filter((o) => o !== 'deployed');
    alarm(
      AGENT_ALARMS.workflowFailed,
      new MathExpression({
        expression: `FILL(failed, 0) - (${reported.map((_, i) => `FILL(o${i}, 0)`).join(' + ')})`,
        usingMetrics: {
          failed: machine.metricFailed({ period: PERIOD, statistic: 'Sum' }),
          ...Object.fromEntries(
            reported.map((o, i) => [
              `o${i}`,
              agentMetric(AGENT_METRICS.names.deploymentsFinished, 'Sum', PERIOD, {
                [AGENT_METRICS.dimensions.outcome]: o,
              }),
            ]),
          ),
        },
        label: 'executions failed without a reported outcome',
        period: PERIOD,
      }),
      'A deployment workflow execution failed without reporting an outcome (an uncaught error, or a report or lock release that failed): the task may have no final comment and the lock may be held.',
    );
    alarm(
      AGENT_ALARMS.rollbackFailed,
      agentMetric(AGENT_METRICS.names.deploymentsFinished, 'Sum', PERIOD, {
        [AGENT_METRICS.dimensions.outcome]: 'rollback-failed',
      }),
      'A rollback failed: the environment may run a mix of versions and its deployment lock is kept until a person restores it.',
    );
    alarm(
      AGENT_ALARMS.workflowTimedOut,
      machine.metricTimedOut({ period: PERIOD, statistic: 'Sum' }),
      'A deployment workflow execution hit its overall timeout.',
    );
    alarm(
      AGENT_ALARMS.workflowAborted,
      machine.metricAborted({ period: PERIOD, statistic: 'Sum' }),
      'A deployment workflow execution was stopped by hand or by an API call.',
    );
    alarm(
      AGENT_ALARMS.api5xx,
      props.stage.metricServerError({ period: PERIOD, statistic: 'Sum' }),
      'The API answered 5xx: ClickUp webhook deliveries or approval pages are failing.',
    );
    alarm(
      AGENT_ALARMS.deadLetters,
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
      'An alarm event, a schedule or an asynchronous invocation could not be delivered or failed after its retries.',
    );
    const idOf = (fn: NodeFunction) => fn.node.id.replace(/Function$/, '');
    for (const fn of props.edgeFunctions) {
      alarm(
        `${AGENT_ALARMS.functionErrors}-${idOf(fn)}`,
        fn.function.metricErrors({ period: PERIOD, statistic: 'Sum' }),
        `The ${idOf(fn)} function failed (an error it did not answer or handle).`,
      );
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: prefix,
      widgets: this.widgets(props),
    });

    const output = (outputId: string, value: string, description: string) =>
      new CfnOutput(stack, outputId, { value, description, exportName: `${stack.stackName}-${outputId}` });
    output('AlarmTopicArn', this.topic.topicArn, "the agent's alarms: subscribe the on-call here");
    output('AgentDashboardName', this.dashboard.dashboardName, "the agent's own dashboard in CloudWatch");
  }

  private widgets(props: AgentObservabilityProps) {
    const hour = Duration.hours(1);
    const agent = (name: AgentMetricName, statistic: string, dimensions: Record<string, string> = {}) =>
      agentMetric(name, statistic, hour, dimensions);
    const outcome = (o: string) => ({ [AGENT_METRICS.dimensions.outcome]: o });
    // each expression names its metric after its label: ids must differ within one graph
    const minutes = (metric: Metric, label: string) =>
      new MathExpression({
        expression: `${idFor(label)} / 60000`,
        usingMetrics: { [idFor(label)]: metric },
        label,
        period: hour,
      });
    const fns = Object.entries(props.functions);
    const machine = props.stateMachine;
    return [
      [
        new TextWidget({
          markdown:
            "## devops-agent: the agent itself\nDeployments, rollbacks and approvals as the agent's functions count them (namespace `DevopsAgent`), the workflow, the API and the functions. What each alarm means: docs/observability.md.",
          width: 24,
          height: 2,
        }),
      ],
      [
        new GraphWidget({
          title: 'Deployments by outcome (per hour)',
          left: AGENT_METRICS.outcomes.map((o) =>
            agent(AGENT_METRICS.names.deploymentsFinished, 'Sum', outcome(o)).with({ label: o }),
          ),
          stacked: true,
          width: 12,
        }),
        new GraphWidget({
          title: 'Deployment duration, minutes (createdAt → finished)',
          left: (['deployed', 'rolled-back'] as const).flatMap((o) =>
            (['p50', 'p90'] as const).map((p) =>
              minutes(agent(AGENT_METRICS.names.deploymentDuration, p, outcome(o)), `${o} ${p}`),
            ),
          ),
          width: 12,
        }),
      ],
      [
        new GraphWidget({
          title: 'Rollbacks started (per hour)',
          left: [agent(AGENT_METRICS.names.rollbacks, 'Sum').with({ label: 'rollbacks' })],
          width: 8,
        }),
        new GraphWidget({
          title: 'Approval wait, minutes (request → decision)',
          left: (['p50', 'p90'] as const).map((p) => minutes(agent(AGENT_METRICS.names.approvalWait, p), p)),
          width: 8,
        }),
        new GraphWidget({
          title: 'Webhook and approval pages: requests and 5xx',
          left: [
            agent(AGENT_METRICS.names.webhookRequests, 'Sum').with({
              label: 'webhook requests',
              period: PERIOD,
            }),
            agent(AGENT_METRICS.names.approvalPageRequests, 'Sum').with({
              label: 'approval page requests',
              period: PERIOD,
            }),
          ],
          right: [
            agent(AGENT_METRICS.names.webhook5xx, 'Sum').with({ label: 'webhook 5xx', period: PERIOD }),
            agent(AGENT_METRICS.names.approvalPage5xx, 'Sum').with({
              label: 'approval page 5xx',
              period: PERIOD,
            }),
            props.stage.metricServerError({
              period: PERIOD,
              statistic: 'Sum',
              label: 'API Gateway 5XXError',
            }),
          ],
          width: 8,
        }),
      ],
      [
        new GraphWidget({
          title: 'Workflow executions',
          left: [
            machine.metricStarted({ period: PERIOD, statistic: 'Sum', label: 'started' }),
            machine.metricSucceeded({ period: PERIOD, statistic: 'Sum', label: 'succeeded' }),
          ],
          right: [
            machine.metricFailed({ period: PERIOD, statistic: 'Sum', label: 'failed' }),
            machine.metricTimedOut({ period: PERIOD, statistic: 'Sum', label: 'timed out' }),
            machine.metricAborted({ period: PERIOD, statistic: 'Sum', label: 'aborted' }),
          ],
          width: 8,
        }),
        new GraphWidget({
          title: 'Lambda errors by function',
          left: fns.map(([id, fn]) =>
            fn.function.metricErrors({
              period: PERIOD,
              statistic: 'Sum',
              label: id.replace(/Function$/, ''),
            }),
          ),
          width: 8,
        }),
        new GraphWidget({
          title: 'Lambda throttles by function',
          left: fns.map(([id, fn]) =>
            fn.function.metricThrottles({
              period: PERIOD,
              statistic: 'Sum',
              label: id.replace(/Function$/, ''),
            }),
          ),
          width: 8,
        }),
      ],
      [
        new GraphWidget({
          title: 'Dead-letter queue: messages waiting',
          left: [
            this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
              period: PERIOD,
              statistic: 'Maximum',
              label: 'visible',
            }),
          ],
          width: 8,
        }),
        new AlarmStatusWidget({ title: "The agent's alarms", alarms: this.alarms, width: 16 }),
      ],
    ];
  }
}
