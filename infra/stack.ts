import {
  Annotations,
  type App,
  ArnFormat,
  type CfnElement,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, Billing, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { EmailIdentity, Identity } from 'aws-cdk-lib/aws-ses';
import { LogLevel } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { GSI1 } from '../functions/shared/adapters/dynamo-table.js';
import { configIssueAt, loadConfigFile } from '../functions/shared/config/load.js';
import { settingsFor } from '../functions/shared/config/resolve.js';
import type { Check, Config } from '../functions/shared/config/schema.js';
import { ConfigError } from '../functions/shared/errors.js';
import { generatedAlarmNames, HEALTH_METRICS, watchedAlarms } from '../functions/shared/service-alarms.js';
import { CALLBACK_STATES, TASK_STATE_NAMES, type TaskStateName } from '../functions/shared/workflow.js';
import { DeployPipeline, TASK_TIMEOUT_SECONDS } from '../statemachine/deploy-pipeline.js';
import { AgentObservability } from './constructs/agent-observability.js';
import { type FunctionEnvironment, NodeFunction, PROJECT_ROOT } from './constructs/node-function.js';
import { ServiceAlarms } from './constructs/service-alarms.js';

export const CONFIG_CONTEXT_KEY = 'devops-agent:config';
export const STACK_ID = 'DevopsAgent';
const API_STAGE = 'v1';
/** Lambda's own limit; the workflow's Task timeout is the backstop above it. */
const LAMBDA_MAX_SECONDS = 900;
/** A callback Task's Lambda only stores its token and asks; the wait itself costs nothing. */
const CALLBACK_LAMBDA_SECONDS = 60;

export interface DevopsAgentStackProps extends StackProps {
  /** `devops-agent.yaml`, relative to the project root or absolute; validated at synth */
  configPath: string;
  /** a verified SES identity approval mail is sent from */
  mailFrom?: string;
  /** Secrets Manager secret names (created outside the stack, never in the template) */
  secretNames?: {
    clickupToken?: string;
    webhookSecret?: string;
    githubToken?: string;
    /** the approval link signing keyring; without it the stack creates one with a generated key */
    approvalKeys?: string;
  };
}

const kebab = (name: string): string => name.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase();

/** Which ports each Task state's core uses (its `Pick<Ports, …>`), so each function gets only those grants. */
const TASK_NEEDS: Record<
  TaskStateName,
  {
    tracker?: true;
    sourceControl?: true;
    alarms?: true | 'with-history';
    /** the services' metrics (GetMetricData), for the status reports */
    metrics?: true;
    mail?: true;
    artifacts?: 'plans' | 'records';
    links?: true;
  }
> = {
  Acknowledge: { tracker: true },
  AcquireLock: { tracker: true },
  CheckGates: { tracker: true, sourceControl: true, alarms: true },
  ReportBlocked: { tracker: true, artifacts: 'records' },
  CreatePlan: { tracker: true, alarms: 'with-history', artifacts: 'plans' },
  RequestApproval: { tracker: true, mail: true, links: true },
  ReportHeld: { tracker: true, artifacts: 'records' },
  ExecuteStep: { tracker: true },
  Verify: { tracker: true },
  StartMonitoring: { tracker: true },
  Monitor: { alarms: true },
  ReportStatus: { tracker: true, alarms: true, metrics: true },
  Finalize: { tracker: true, artifacts: 'records' },
  Rollback: { tracker: true },
  VerifyRollback: { tracker: true },
  ReportFailure: { tracker: true, mail: true, artifacts: 'records' },
  EscalateRollbackFailure: { tracker: true, mail: true, artifacts: 'records' },
  ReleaseLock: {},
};

/**
 * devops-agent on AWS: the deployment workflow (Step Functions) with one Lambda per Task state, the ClickUp
 * webhook and approval pages (API Gateway), the store (DynamoDB) and documents (S3), approval mail (SES),
 * the alarm event rule and the schedules for the bake sweep and the polling pickup.
 */
export class DevopsAgentStack extends Stack {
  readonly config: Config;
  readonly pipeline: DeployPipeline;
  readonly api: RestApi;
  readonly table: TableV2;
  readonly bucket: Bucket;
  readonly functions: Record<string, NodeFunction> = {};
  /** the trigger alarms of each service with `monitoring.cloudwatch`, by `<service>/<environment>` */
  readonly serviceAlarms: Record<string, ServiceAlarms> = {};
  readonly dashboard?: Dashboard;

  constructor(scope: Construct, id: string, props: DevopsAgentStackProps) {
    super(scope, id, props);
    // A bad configuration fails the synth with the loader's message (file, line, field, fix).
    this.config = loadConfigFile(props.configPath);
    const configFile = props.configPath;
    const secretNames = {
      clickupToken: 'devops-agent/clickup-token',
      webhookSecret: 'devops-agent/clickup-webhook-secret',
      githubToken: 'devops-agent/github-token',
      ...props.secretNames,
    };
    const mailFrom = props.mailFrom ?? 'devops-agent@example.com';

    this.table = new TableV2(this, 'Store', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        {
          indexName: GSI1,
          partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
          sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
        },
      ],
    });

    this.bucket = new Bucket(this, 'Artifacts', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(365) }],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the agent writes here (plans and deployment records, versioned); who changed what is in the audit log and CloudTrail, so a second access-log bucket adds cost and no information.',
    });

    const clickupToken = Secret.fromSecretNameV2(this, 'ClickUpToken', secretNames.clickupToken);
    const webhookSecret = Secret.fromSecretNameV2(this, 'WebhookSecret', secretNames.webhookSecret);
    const githubToken = Secret.fromSecretNameV2(this, 'GitHubToken', secretNames.githubToken);
    // The keyring approval links are signed with: {"current": "k1", "k1": "<64 generated characters>"},
    // generated by Secrets Manager so the key is never in the template.
    const approvalKeys = props.secretNames?.approvalKeys
      ? Secret.fromSecretNameV2(this, 'ApprovalKeys', props.secretNames.approvalKeys)
      : new Secret(this, 'ApprovalKeys', {
          description:
            'devops-agent: the keyring approval links are signed with (rotate: add a key, make it current)',
          generateSecretString: {
            secretStringTemplate: JSON.stringify({ current: 'k1' }),
            generateStringKey: 'k1',
            passwordLength: 64,
            excludePunctuation: true,
          },
        });
    if (!props.secretNames?.approvalKeys)
      Validations.of(approvalKeys).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A rotation Lambda would replace the key and break every link in flight; the keyring rotates by adding a key and making it current, the old one verifying until its links expire (docs/approvals.md).',
      });
    const mailIdentity = new EmailIdentity(this, 'MailFrom', { identity: Identity.email(mailFrom) });

    this.api = new RestApi(this, 'Api', {
      description: 'devops-agent: ClickUp webhook and approval pages',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: API_STAGE,
        throttlingRateLimit: 20,
        throttlingBurstLimit: 40,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.INFO,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(
          new LogGroup(this, 'ApiAccessLogs', {
            retention: RetentionDays.ONE_MONTH,
            removalPolicy: RemovalPolicy.DESTROY,
          }),
        ),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    // Built from the API id, not `api.url`: the stage depends on the webhook, which depends on the state
    // machine, which depends on RequestApproval; the id alone keeps that chain free of cycles.
    const publicUrl = `https://${this.api.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${API_STAGE}`;

    for (const service of this.config.services) {
      if (!generatedAlarmNames(service)) continue;
      const healthUrl = service.monitoring.health_url;
      if (healthUrl && isLocalAddress(new URL(healthUrl).hostname)) {
        // a warning, not an error: the same file drives the local runtime, where this URL is right
        Annotations.of(this).addWarningV2(
          `devops-agent:health-url-local:${service.name}-${service.environment}`,
          `services ${service.name}/${service.environment}: health_url ${healthUrl} is a local address the health probe in Lambda cannot reach, so its health alarm will go to ALARM; give a URL reachable from Lambda, or remove health_url from the configuration you deploy`,
        );
      }
      const key = `${service.name}/${service.environment}`;
      this.serviceAlarms[key] = new ServiceAlarms(this, `Alarms-${service.name}-${service.environment}`, {
        service,
        triggers: settingsFor(this.config, service).triggers,
      });
    }
    const withAlarms = Object.values(this.serviceAlarms);
    if (withAlarms.length > 0) {
      this.dashboard = new Dashboard(this, 'Dashboard', {
        dashboardName: `${this.stackName}-deployments`,
        widgets: withAlarms.flatMap((a) => a.widgets()),
      });
    }
    // What the functions watch (the alarm-event rule, the sweep, the gates): each service's own alarms and
    // the trigger alarms the stack creates for it, named by the same function they are created with.
    const watched = [...new Set(this.config.services.flatMap(watchedAlarms))];
    const alarmArns = watched.map((name) =>
      this.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );

    const newFunction = (
      id: string,
      entry: string,
      description: string,
      timeoutSeconds: number,
      environment: FunctionEnvironment,
      store = true,
    ) => {
      const fn = new NodeFunction(this, id, {
        entry,
        description,
        timeout: Duration.seconds(timeoutSeconds),
        configFile,
        environment: { ...(store ? { TABLE_NAME: this.table.tableName } : {}), ...environment },
      });
      if (store) this.grantStore(fn);
      this.functions[id] = fn;
      return fn;
    };

    const taskFunctions = {} as Record<TaskStateName, NodeFunction>;
    for (const name of TASK_STATE_NAMES) {
      const needs = TASK_NEEDS[name];
      const environment: FunctionEnvironment = {};
      if (needs.tracker) environment.CLICKUP_TOKEN_SECRET_ARN = clickupToken.secretArn;
      if (needs.sourceControl) environment.GITHUB_TOKEN_SECRET_ARN = githubToken.secretArn;
      if (needs.mail) environment.MAIL_FROM = mailFrom;
      if (needs.artifacts) environment.ARTIFACT_BUCKET = this.bucket.bucketName;
      if (needs.links) {
        environment.PUBLIC_URL = publicUrl;
        environment.APPROVAL_KEYS_SECRET_ARN = approvalKeys.secretArn;
      }
      const timeout = CALLBACK_STATES.includes(name)
        ? CALLBACK_LAMBDA_SECONDS
        : Math.min(TASK_TIMEOUT_SECONDS[name], LAMBDA_MAX_SECONDS);
      const fn = newFunction(
        `${name}Function`,
        `functions/${kebab(name)}/handler.ts`,
        `Task state ${name}`,
        timeout,
        environment,
      );
      if (needs.tracker) this.grantSecret(fn, clickupToken);
      if (needs.sourceControl) this.grantSecret(fn, githubToken);
      if (needs.mail) mailIdentity.grantSendEmail(fn);
      if (needs.links) this.grantSecret(fn, approvalKeys);
      if (needs.alarms) this.grantAlarms(fn, alarmArns, needs.alarms === 'with-history');
      if (needs.metrics) this.grantMetricReads(fn);
      if (needs.artifacts) this.grantPut(fn, needs.artifacts);
      taskFunctions[name] = fn;
    }
    this.grantSiteSteps(taskFunctions);
    this.grantClusters(taskFunctions);
    this.grantCheckSecrets(taskFunctions, configFile);

    const workflowLogs = new LogGroup(this, 'WorkflowLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.pipeline = new DeployPipeline(this, 'DeployPipeline', {
      functions: Object.fromEntries(TASK_STATE_NAMES.map((n) => [n, taskFunctions[n].function])) as Record<
        TaskStateName,
        NodeFunction['function']
      >,
      // Execution data stays out of the logs: state input carries task tokens.
      logs: { destination: workflowLogs, level: LogLevel.ALL, includeExecutionData: false },
    });
    const machine = this.pipeline.stateMachine;
    this.addOutputs(publicUrl, taskFunctions);
    // CDK's LambdaInvoke grants each function and its versions ("<fn>:*"); logs delivery and X-Ray take "*".
    for (const name of TASK_STATE_NAMES) {
      const logicalId = this.getLogicalId(taskFunctions[name].function.node.defaultChild as CfnElement);
      Validations.of(machine.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: `lambda:InvokeFunction on ${name}'s function and its versions, as CDK's LambdaInvoke grants it.`,
      });
    }
    Validations.of(machine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs delivery (logs:CreateLogDelivery, …) and X-Ray actions support no resource-level permissions.',
    });
    const stateMachineArn = machine.stateMachineArn;

    const webhook = newFunction(
      'ClickUpWebhookFunction',
      'functions/clickup-webhook/handler.ts',
      'POST /webhooks/clickup',
      30,
      {
        STATE_MACHINE_ARN: stateMachineArn,
        CLICKUP_TOKEN_SECRET_ARN: clickupToken.secretArn,
        WEBHOOK_SECRET_ARN: webhookSecret.secretArn,
      },
    );
    this.grantSecret(webhook, clickupToken);
    this.grantSecret(webhook, webhookSecret);
    machine.grantStartExecution(webhook);
    // `/deploy approve|hold|break-glass` answers the waiting approval, as the confirm page does
    machine.grantTaskResponse(webhook);

    const approvalPage = newFunction(
      'ApprovalPageFunction',
      'functions/approval-page/handler.ts',
      'GET/POST /approvals/{id}',
      30,
      {
        STATE_MACHINE_ARN: stateMachineArn,
        CLICKUP_TOKEN_SECRET_ARN: clickupToken.secretArn,
        APPROVAL_KEYS_SECRET_ARN: approvalKeys.secretArn,
      },
    );
    machine.grantTaskResponse(approvalPage);
    this.grantSecret(approvalPage, clickupToken);
    this.grantSecret(approvalPage, approvalKeys);

    const alarmEvent = newFunction(
      'AlarmEventFunction',
      'functions/alarm-event/handler.ts',
      'CloudWatch alarm → rollback',
      60,
      {
        STATE_MACHINE_ARN: stateMachineArn,
      },
    );
    machine.grantTaskResponse(alarmEvent);

    const sweep = newFunction(
      'MonitorSweepFunction',
      'functions/monitor-sweep/handler.ts',
      'Bake sweep and approval expiry',
      120,
      {
        STATE_MACHINE_ARN: stateMachineArn,
      },
    );
    machine.grantTaskResponse(sweep);
    this.grantAlarms(sweep, alarmArns);

    // the source of the health alarms: only when a service has a health_url to probe
    const healthProbe = this.config.services.some((s) => s.monitoring.health_url)
      ? newFunction(
          'HealthProbeFunction',
          'functions/health-probe/handler.ts',
          'Health checks for the health alarms',
          50,
          {},
          false,
        )
      : undefined;
    if (healthProbe) {
      // PutMetricData has no resource ARN (IAM takes only "*"); the namespace condition is the boundary
      healthProbe.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': HEALTH_METRICS.namespace } },
        }),
      );
      Validations.of(healthProbe.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `cloudwatch:PutMetricData supports no resource-level permissions; the statement is limited to the ${HEALTH_METRICS.namespace} namespace by the cloudwatch:namespace condition.`,
      });
    }

    const poll = newFunction('PollTasksFunction', 'functions/poll-tasks/handler.ts', 'Polling pickup', 120, {
      STATE_MACHINE_ARN: stateMachineArn,
      CLICKUP_TOKEN_SECRET_ARN: clickupToken.secretArn,
    });
    this.grantSecret(poll, clickupToken);
    machine.grantStartExecution(poll);

    const webhooks = this.api.root.addResource('webhooks').addResource('clickup');
    webhooks.addMethod('POST', new LambdaIntegration(webhook.function));
    const approval = this.api.root.addResource('approvals').addResource('{id}');
    const approvalIntegration = new LambdaIntegration(approvalPage.function);
    approval.addMethod('GET', approvalIntegration);
    approval.addMethod('POST', approvalIntegration);
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Bodies are parsed with zod in the functions; the webhook must see the raw body to check its HMAC signature.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Two low-volume routes behind stage throttling; a WAF web ACL is an account-level choice left to the operator.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'ClickUp cannot send IAM or Cognito credentials: the webhook is authenticated by its HMAC-SHA256 signature, approvals by an unguessable single-use id plus the approver check.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'No Cognito users exist: see APIG4 (signature-checked webhook, single-use approval links).',
    });
    Validations.of(this.api.node.findChild('CloudWatchRole')).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "The account-level API Gateway logging role uses AWS's AmazonAPIGatewayPushToCloudWatchLogs policy, the documented way to enable execution logs (APIG6).",
    });

    // the agent watching itself: dead letters, alarms, the `<stack>-agent` dashboard (docs/observability.md)
    const observability = new AgentObservability(this, 'Observability', {
      stateMachine: machine,
      stage: this.api.deploymentStage,
      functions: this.functions,
      edgeFunctions: [webhook, approvalPage, alarmEvent, sweep, poll, ...(healthProbe ? [healthProbe] : [])],
      asyncFunctions: [alarmEvent, sweep, poll, ...(healthProbe ? [healthProbe] : [])],
    });
    const deadLetterQueue = observability.deadLetterQueue;

    new Rule(this, 'AlarmStateChange', {
      description: 'A watched CloudWatch alarm changed to ALARM: roll back baking deployments now',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { state: { value: ['ALARM'] }, ...(watched.length ? { alarmName: watched } : {}) },
      },
      targets: [new LambdaFunction(alarmEvent.function, { retryAttempts: 4, deadLetterQueue })],
    });
    // EventBridge Scheduler (not scheduled rules): the next run comes soon anyway, so no retries and a
    // short event age keep a slow run from piling up behind itself
    const schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler invokes the bake sweep, the health probe and the polling pickup',
    });
    const schedule = (id: string, fn: NodeFunction, description: string, every: Duration) => {
      const logicalId = this.getLogicalId(fn.function.node.defaultChild as CfnElement);
      Validations.of(schedulerRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: `lambda:InvokeFunction on ${logicalId} and its versions, as CDK's scheduler LambdaInvoke grants it.`,
      });
      new Schedule(this, id, {
        description,
        schedule: ScheduleExpression.rate(every),
        target: new LambdaInvoke(fn.function, {
          role: schedulerRole,
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
          deadLetterQueue,
        }),
      });
    };
    schedule(
      'MonitorSweepSchedule',
      sweep,
      'Bake sweep (safety net for alarm events) and approval expiry, every minute',
      Duration.minutes(1),
    );
    if (healthProbe)
      schedule(
        'HealthProbeSchedule',
        healthProbe,
        'Health checks of every service with a health_url, for its health alarm, every minute',
        Duration.minutes(1),
      );
    schedule(
      'PollTasksSchedule',
      poll,
      'Polling pickup of tasks in the input status (devops_agent.poll_interval)',
      Duration.minutes(Math.max(1, Math.ceil(this.config.devops_agent.poll_interval / 60))),
    );
  }

  /**
   * What a person or the CLI needs after `cdk deploy`: the webhook URL for `clickup setup`, the roles to map
   * in EKS access entries, and where the workflow, the store and the documents are. Export names start with
   * the stack name, so several stacks in one account do not clash.
   */
  private addOutputs(publicUrl: string, fns: Record<TaskStateName, NodeFunction>) {
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description, exportName: `${this.stackName}-${id}` });
    output('WebhookUrl', `${publicUrl}/webhooks/clickup`, 'devops-agent clickup setup --endpoint <this>');
    output('ApprovalBaseUrl', `${publicUrl}/approvals`, 'where the approval links in the mails point');
    output('StateMachineArn', this.pipeline.stateMachine.stateMachineArn, 'the deployment workflow');
    output('TableName', this.table.tableName, 'the store: deployments, locks, approvals, audit');
    output('DocumentBucket', this.bucket.bucketName, 'plans/ and records/ of every deployment');
    // the functions that talk to Kubernetes: map each role in the cluster (docs/deploy-to-aws.md)
    output(
      'KubernetesRoleArns',
      Fn.join(
        ',',
        (['ExecuteStep', 'Rollback', 'CreatePlan', 'Verify'] as const).map((n) => fns[n].role.roleArn),
      ),
      'ExecuteStep, Rollback, CreatePlan and Verify roles: give each an EKS access entry',
    );
  }

  /** The store's items and its one index: no table scans, no other tables. */
  private grantStore(grantee: IGrantable) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
        ],
        resources: [this.table.tableArn, `${this.table.tableArn}/index/${GSI1}`],
      }),
    );
  }

  private grantSecret(fn: NodeFunction, secret: ISecret) {
    secret.grantRead(fn);
  }

  /** `history`: also the alarms' state history (the plan's risk counts recent alarms) */
  private grantAlarms(grantee: IGrantable, alarmArns: string[], history = false) {
    if (alarmArns.length === 0) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['cloudwatch:DescribeAlarms', ...(history ? ['cloudwatch:DescribeAlarmHistory'] : [])],
        resources: alarmArns,
      }),
    );
  }

  /** GetMetricData has no resource-level permissions: it reads metrics only, so `*` is the narrowest grant. */
  private grantMetricReads(fn: NodeFunction) {
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    );
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'cloudwatch:GetMetricData supports no resource-level permissions; read-only, for the error rate, p99 and health checks in the status reports.',
    });
  }

  /**
   * What the configured s3-sync and cloudfront-invalidation steps need, on the buckets and distributions the
   * configuration names and nothing else: ExecuteStep backs a site up, uploads and deletes (reading the
   * s3:// build artifacts), Rollback restores and deletes; both invalidate. CreatePlan only lists a site
   * (and reads its version file) for the plan's "now".
   */
  private grantSiteSteps(fns: Record<TaskStateName, NodeFunction>) {
    const steps = this.config.services.flatMap((s) => s.steps);
    const syncs = steps.flatMap((s) => (s.kind === 's3-sync' ? [s] : []));
    const bucketArn = (bucket: string) => `arn:${this.partition}:s3:::${bucket}`;
    const acknowledge = (fn: NodeFunction, resource: string, reason: string) =>
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${resource}]`,
        reason,
      });
    const grant = (fn: NodeFunction, actions: string[], resources: string[]) => {
      if (resources.length > 0)
        fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources }));
    };

    const sites = [...new Set(syncs.map((s) => s.bucket))];
    for (const fn of [fns.ExecuteStep, fns.Rollback]) {
      grant(fn, ['s3:ListBucket'], sites.map(bucketArn));
      // the tagging actions: a backup and its restore copy an object's tags with it
      grant(
        fn,
        ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:GetObjectTagging', 's3:PutObjectTagging'],
        sites.map((bucket) => `${bucketArn(bucket)}/*`),
      );
      for (const bucket of sites) {
        acknowledge(
          fn,
          `${bucket}/*`,
          `An s3-sync step syncs the site in ${bucket}: it backs up, writes and deletes the files of the site, whatever their names, and restores them on rollback.`,
        );
      }
    }

    // read access to the build artifacts up to the first {{placeholder}} of the source's prefix
    const artifacts = new Map<string, Set<string>>();
    for (const sync of syncs) {
      const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(sync.source);
      if (!match?.[1]) continue;
      const literal = (match[2] ?? '').split('{{')[0] ?? '';
      artifacts.set(match[1], (artifacts.get(match[1]) ?? new Set()).add(literal));
    }
    grant(fns.ExecuteStep, ['s3:ListBucket'], [...artifacts.keys()].map(bucketArn));
    const artifactObjects = [...artifacts].flatMap(([bucket, prefixes]) =>
      [...prefixes].map((prefix) => `${bucket}/${prefix}*`),
    );
    grant(
      fns.ExecuteStep,
      ['s3:GetObject'],
      artifactObjects.map((resource) => `arn:${this.partition}:s3:::${resource}`),
    );
    for (const resource of artifactObjects) {
      acknowledge(
        fns.ExecuteStep,
        resource,
        `An s3-sync step copies the build artifacts under ${resource.replace(/\*$/, '')} (named by the release) to the site; read only.`,
      );
    }

    grant(fns.CreatePlan, ['s3:ListBucket'], sites.map(bucketArn));
    grant(
      fns.CreatePlan,
      ['s3:GetObject'],
      syncs.flatMap((s) =>
        s.version_file
          ? [
              `${bucketArn(s.bucket)}/${s.prefix && !s.prefix.endsWith('/') ? `${s.prefix}/` : s.prefix}${s.version_file}`,
            ]
          : [],
      ),
    );

    const distributions = [
      ...new Set([
        ...steps.flatMap((s) => (s.kind === 'cloudfront-invalidation' ? [s.distribution_id] : [])),
        ...syncs.flatMap((s) =>
          s.invalidate_after_restore ? [s.invalidate_after_restore.distribution_id] : [],
        ),
      ]),
    ].map((id) =>
      this.formatArn({ service: 'cloudfront', region: '', resource: 'distribution', resourceName: id }),
    );
    for (const fn of [fns.ExecuteStep, fns.Rollback]) {
      grant(fn, ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'], distributions);
    }
  }

  /**
   * `eks:DescribeCluster` (the endpoint and CA) on the EKS clusters the kubernetes and migration steps name,
   * and on no other: ExecuteStep and Rollback change them, CreatePlan reads the running image for the plan's
   * "old → new". What the functions may do inside a cluster is its access entry's business, not IAM's
   * (docs/configuration.md). Verify gets the clusters its rollout checks name.
   */
  private grantClusters(fns: Record<TaskStateName, NodeFunction>) {
    const arns = (names: string[]) =>
      [...new Set(names)]
        .sort()
        .map((name) => this.formatArn({ service: 'eks', resource: 'cluster', resourceName: name }));
    const stepClusters = arns(
      this.config.services
        .flatMap((s) => s.steps)
        .flatMap((s) =>
          (s.kind === 'kubernetes' || s.kind === 'migration') && s.cluster ? [s.cluster] : [],
        ),
    );
    // the rollout checks read the Deployment after the steps; Verify only (the rollback's check skips them)
    const checkClusters = arns(
      this.config.services
        .flatMap((s) => s.verification)
        .flatMap((c) => (c.kind === 'rollout' && c.cluster ? [c.cluster] : [])),
    );
    const grant = (fn: NodeFunction, clusters: string[]) => {
      if (clusters.length > 0)
        fn.grantPrincipal.addToPrincipalPolicy(
          new PolicyStatement({ actions: ['eks:DescribeCluster'], resources: clusters }),
        );
    };
    for (const fn of [fns.ExecuteStep, fns.Rollback, fns.CreatePlan]) grant(fn, stepClusters);
    grant(fns.Verify, checkClusters);
  }

  /**
   * `secretsmanager:GetSecretValue` on the secrets the verification checks name (an http check's
   * `auth.secret`, a sql check's `url_secret`) and on no other: Verify and VerifyRollback run the http and
   * sql checks (the rollback's verification skips only rollout checks); ExecuteStep reads, before the first
   * step, the baselines of the sql checks with `expect_not_less_than_before` (`takeBaselines`). A sql check
   * with only `url_env` fails the synth: a Lambda has no such variable, so on AWS it could never connect.
   */
  private grantCheckSecrets(fns: Record<TaskStateName, NodeFunction>, configFile: string) {
    const issues = this.config.services.flatMap((service, s) =>
      service.verification.flatMap((check, c) =>
        check.kind === 'sql' && check.url_secret === undefined
          ? [
              configIssueAt(
                configFile,
                ['services', s, 'verification', c],
                `services ${service.name}/${service.environment}, check "${check.name}": url_env ${check.url_env} has no value in a Lambda, so on AWS this check has no database URL; add url_secret (the Secrets Manager secret holding the URL) for AWS, and keep url_env for the local runtime`,
              ),
            ]
          : [],
      ),
    );
    if (issues.length > 0) throw new ConfigError(issues);

    const checks = this.config.services.flatMap((s) => s.verification);
    const secretOf = (check: Check): string[] =>
      check.kind === 'http' && check.auth
        ? [check.auth.secret]
        : check.kind === 'sql' && check.url_secret !== undefined
          ? [check.url_secret]
          : [];
    // Secrets Manager appends "-" and six random characters to a secret's name in its ARN, so a name or a
    // partial ARN matches them with "-??????"; a complete ARN ends with them already. CDK's
    // Secret.fromSecretArn tells the two apart the same way, with the same blind spot: a partial ARN whose
    // name ends in "-" and six letters or digits is taken as complete (give the name or the complete ARN).
    const arnOf = (id: string): string =>
      id.startsWith('arn:')
        ? /-[A-Za-z0-9]{6}$/.test(id)
          ? id
          : `${id}-??????`
        : this.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${id}-??????`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          });
    const grant = (fn: NodeFunction, ids: string[]) => {
      const unique = [...new Set(ids)].sort();
      if (unique.length > 0)
        fn.grantPrincipal.addToPrincipalPolicy(
          new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: unique.map(arnOf) }),
        );
    };
    grant(fns.Verify, checks.flatMap(secretOf));
    grant(fns.VerifyRollback, checks.filter((c) => c.kind !== 'rollout').flatMap(secretOf));
    grant(
      fns.ExecuteStep,
      checks.filter((c) => c.kind === 'sql' && c.expect_not_less_than_before).flatMap(secretOf),
    );
  }

  private grantPut(fn: NodeFunction, prefix: 'plans' | 'records') {
    fn.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${prefix}/*`)],
      }),
    );
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>/${prefix}/*]`,
      reason: `Writes only new documents under ${prefix}/ (one per deployment, named by its id); nothing else in the bucket.`,
    });
  }
}

/** Loopback, private and link-local hosts: the local runtime reaches them, a Lambda outside any VPC cannot. */
const isLocalAddress = (host: string): boolean =>
  host === 'localhost' ||
  host.endsWith('.localhost') ||
  host.endsWith('.local') ||
  host === '[::1]' ||
  /^(127\.|10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.)/.test(host);

/** The stack from a configuration file; tests and scripts pass an App with bundling switched off. */
export const buildStack = (
  app: App,
  configPath: string,
  props: Partial<DevopsAgentStackProps> = {},
): DevopsAgentStack =>
  new DevopsAgentStack(app, STACK_ID, {
    configPath,
    description: 'devops-agent: ClickUp-driven deployments with gates, approval, bake and automatic rollback',
    ...props,
  });

export { PROJECT_ROOT };
