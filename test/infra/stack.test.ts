import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { TABLE_KEYS } from '../../functions/shared/adapters/dynamo-table.js';
import { TASK_STATE_NAMES } from '../../functions/shared/workflow.js';
import { PROJECT_ROOT } from '../../infra/constructs/node-function.js';
import { buildStack, type DevopsAgentStack } from '../../infra/stack.js';
import { TASK_TIMEOUT_SECONDS } from '../../statemachine/deploy-pipeline.js';
import { allStates, extractAsl } from '../../statemachine/extract-asl.js';
import { ASL_FILE, synthesizedAsl } from '../../statemachine/write-asl.js';
import { unacknowledgedNagFindings } from './nag.js';
import { type Statement, templateText } from './template-text.js';

const DEMO_CONFIG = resolve(PROJECT_ROOT, 'examples/demo/devops-agent.yaml');
const SEED_CONFIG = resolve(PROJECT_ROOT, 'examples/seed-notifications/devops-agent.yaml');
const EKS_CONFIG = resolve(PROJECT_ROOT, 'test/infra/fixtures/eks-config.yaml');

/** No esbuild bundling in tests: the template does not depend on the code. */
const newApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

describe('DevopsAgentStack', () => {
  let stack: DevopsAgentStack;
  let template: Template;

  beforeAll(() => {
    stack = buildStack(newApp(), SEED_CONFIG);
    template = Template.fromStack(stack);
  });

  it('has one Standard state machine with logging ALL and tracing, named DeployPipeline…', () => {
    // Act
    const machines = template.findResources('AWS::StepFunctions::StateMachine');

    // Assess
    expect(Object.keys(machines)).toEqual([expect.stringMatching(/^DeployPipeline/)]);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
  });

  it('runs every function on nodejs22.x, arm64, JSON logs into its own log group, traced', () => {
    // Act
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));

    // Assess
    expect(functions).toHaveLength(TASK_STATE_NAMES.length + 5);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
      });
    }
    const logGroups = template.findResources('AWS::Logs::LogGroup');
    for (const group of Object.values(logGroups)) expect(group.Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it('gives each Task function the timeout of its state, capped at Lambda’s 15 minutes', () => {
    // Prepare
    const timeouts = Object.fromEntries(
      Object.values(template.findResources('AWS::Lambda::Function')).map((fn) => [
        String(fn.Properties.Description),
        fn.Properties.Timeout as number,
      ]),
    );

    // Assess
    expect(timeouts['Task state CheckGates']).toBe(TASK_TIMEOUT_SECONDS.CheckGates);
    expect(timeouts['Task state ExecuteStep']).toBe(900);
    expect(timeouts['Task state RequestApproval']).toBe(60);
    for (const name of TASK_STATE_NAMES) {
      expect(timeouts[`Task state ${name}`]).toBeLessThanOrEqual(TASK_TIMEOUT_SECONDS[name]);
    }
  });

  it('routes the webhook and the approval page through a throttled REST API', () => {
    // Act
    const resources = Object.values(template.findResources('AWS::ApiGateway::Resource')).map(
      (r) => r.Properties.PathPart,
    );
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map(
      (m) => m.Properties.HttpMethod,
    );

    // Assess
    expect(resources.sort()).toEqual(['approvals', 'clickup', 'webhooks', '{id}'].sort());
    expect(methods.sort()).toEqual(['GET', 'POST', 'POST']);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40, LoggingLevel: 'INFO' }),
      ]),
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('keeps the store in an on-demand table with PITR and the key schema the adapter uses', () => {
    // Assess
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: TABLE_KEYS.KeySchema,
      AttributeDefinitions: Match.arrayWith(TABLE_KEYS.AttributeDefinitions),
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: TABLE_KEYS.GlobalSecondaryIndexes[0]?.IndexName,
          KeySchema: TABLE_KEYS.GlobalSecondaryIndexes[0]?.KeySchema,
          Projection: TABLE_KEYS.GlobalSecondaryIndexes[0]?.Projection,
        }),
      ],
      Replicas: [
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
    });
  });

  it('keeps plans and records in an encrypted, versioned, private, SSL-only bucket', () => {
    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.objectLike({
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }),
        ],
      }),
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('sends alarm changes to ALARM of the configured and the generated trigger alarms to alarm-event', () => {
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: {
          state: { value: ['ALARM'] },
          alarmName: [
            'notifications-api-5xx',
            'notifications-api-p99',
            'notifications-ws-disconnects',
            'devops-agent-notifications-production-error-rate',
            'devops-agent-notifications-production-p99',
          ],
        },
      },
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmEventFunction'), 'Arn'] } }),
      ],
    });
  });

  it('runs the sweep every minute and the polling pickup at poll_interval on EventBridge Scheduler', () => {
    // Prepare
    const rules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((r) => [
      r.Properties.ScheduleExpression,
      r.Properties.Target.Arn['Fn::GetAtt'][0],
      r.Properties.Target.RetryPolicy,
    ]);

    // Assess
    expect(rules).toEqual(
      expect.arrayContaining([
        [
          'rate(1 minute)',
          expect.stringMatching(/^MonitorSweepFunction/),
          expect.objectContaining({ MaximumRetryAttempts: 0 }),
        ],
        [
          'rate(5 minutes)',
          expect.stringMatching(/^PollTasksFunction/),
          expect.objectContaining({ MaximumRetryAttempts: 0 }),
        ],
      ]),
    );
  });

  it('lets only the edge functions answer task tokens and start executions, on the state machine only', () => {
    // Prepare
    const policies = template.findResources('AWS::IAM::Policy');
    const holders = (action: string) =>
      Object.entries(policies)
        .filter(([, p]) =>
          (p.Properties.PolicyDocument.Statement as Statement[]).some((s) =>
            [s.Action].flat().includes(action),
          ),
        )
        .map(([id]) => id.replace(/Role.*$/, ''))
        .sort();

    // Assess
    expect(holders('states:SendTaskSuccess')).toEqual([
      'AlarmEventFunction',
      'ApprovalPageFunction',
      'ClickUpWebhookFunction',
      'MonitorSweepFunction',
    ]);
    expect(holders('states:StartExecution')).toEqual(['ClickUpWebhookFunction', 'PollTasksFunction']);
    expect(holders('ses:SendEmail')).toEqual([
      'EscalateRollbackFailureFunction',
      'ReportFailureFunction',
      'RequestApprovalFunction',
    ]);
    expect(holders('cloudwatch:DescribeAlarmHistory')).toEqual(['CreatePlanFunction']);
    expect(holders('s3:PutObject')).toEqual([
      'CreatePlanFunction',
      'EscalateRollbackFailureFunction',
      // the seed's s3-sync step: the site's bucket only (see the next test)
      'ExecuteStepFunction',
      'FinalizeFunction',
      // every end writes its deployment record, blocked and held ones too
      'ReportBlockedFunction',
      'ReportFailureFunction',
      'ReportHeldFunction',
      'RollbackFunction',
    ]);
  });

  it('grants the site steps their buckets, build artifacts and distributions, and nothing more', () => {
    // Prepare: every S3 and CloudFront statement, its ARNs as plain text
    const text = templateText;
    const grants = Object.entries(template.findResources('AWS::IAM::Policy')).flatMap(([id, p]) =>
      (p.Properties.PolicyDocument.Statement as Statement[])
        .filter((s) => [s.Action].flat().some((a) => /^(s3|cloudfront):/.test(a)))
        .map((s) => ({
          fn: id.replace(/Role.*$/, ''),
          actions: [s.Action].flat().join(' '),
          resources: [s.Resource].flat().map(text).join(' '),
        }))
        .filter((g) => !g.resources.includes('Artifacts')),
    );

    // Assess
    const site = 'arn:<AWS::Partition>:s3:::app-bucket';
    const objects = 's3:GetObject s3:PutObject s3:DeleteObject s3:GetObjectTagging s3:PutObjectTagging';
    const cdn = 'arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/E2EXAMPLE12345';
    expect(grants).toEqual([
      { fn: 'CreatePlanFunction', actions: 's3:ListBucket', resources: site },
      { fn: 'ExecuteStepFunction', actions: 's3:ListBucket', resources: site },
      { fn: 'ExecuteStepFunction', actions: objects, resources: `${site}/*` },
      {
        fn: 'ExecuteStepFunction',
        actions: 's3:ListBucket',
        resources: 'arn:<AWS::Partition>:s3:::notifications-artifacts',
      },
      {
        fn: 'ExecuteStepFunction',
        actions: 's3:GetObject',
        resources: 'arn:<AWS::Partition>:s3:::notifications-artifacts/frontend/*',
      },
      {
        fn: 'ExecuteStepFunction',
        actions: 'cloudfront:CreateInvalidation cloudfront:GetInvalidation',
        resources: cdn,
      },
      { fn: 'RollbackFunction', actions: 's3:ListBucket', resources: site },
      { fn: 'RollbackFunction', actions: objects, resources: `${site}/*` },
      {
        fn: 'RollbackFunction',
        actions: 'cloudfront:CreateInvalidation cloudfront:GetInvalidation',
        resources: cdn,
      },
    ]);
  });

  it('grants no site access when no step syncs a site or invalidates a CDN', () => {
    // Prepare
    const demo = Template.fromStack(buildStack(newApp(), DEMO_CONFIG));

    // Act
    const statements = Object.values(demo.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );

    // Assess
    expect(
      statements.filter((s) =>
        [s.Action].flat().some((a) => /^cloudfront:|^s3:(ListBucket|DeleteObject)/.test(a)),
      ),
    ).toEqual([]);
  });

  it("grants eks:DescribeCluster on the clusters the steps name to ExecuteStep, Rollback and CreatePlan, and on the rollout checks' to Verify", () => {
    // Prepare
    const eks = Template.fromStack(buildStack(newApp(), EKS_CONFIG));
    const grants = (t: Template) =>
      Object.entries(t.findResources('AWS::IAM::Policy')).flatMap(([id, p]) =>
        (p.Properties.PolicyDocument.Statement as Statement[])
          .filter((s) => [s.Action].flat().some((a) => a.startsWith('eks:')))
          .map((s) => ({
            fn: id.replace(/Role.*$/, ''),
            actions: [s.Action].flat(),
            clusters: [s.Resource].flat().map((r) => JSON.stringify(r).match(/cluster\/([\w-]+)/)?.[1] ?? r),
          })),
      );

    // Act
    const granted = grants(eks).sort((a, b) => a.fn.localeCompare(b.fn));

    // Assess
    const clusters = ['edge-eu', 'prod-eu'];
    expect(granted).toEqual([
      { fn: 'CreatePlanFunction', actions: ['eks:DescribeCluster'], clusters },
      { fn: 'ExecuteStepFunction', actions: ['eks:DescribeCluster'], clusters },
      { fn: 'RollbackFunction', actions: ['eks:DescribeCluster'], clusters },
      { fn: 'VerifyFunction', actions: ['eks:DescribeCluster'], clusters: ['prod-eu'] },
    ]);
    const statement = Object.values(eks.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      .find((s) => [s.Action].flat().includes('eks:DescribeCluster'));
    const [resource] = [statement?.Resource].flat();
    expect(JSON.stringify(resource)).toMatch(
      /arn:.*"Ref":"AWS::Partition".*:eks:.*"Ref":"AWS::Region".*"Ref":"AWS::AccountId".*:cluster\/edge-eu/,
    );
    // the seed's steps all run on one cluster
    expect(grants(template).map((g) => g.clusters)).toEqual([
      ['notifications-eks'],
      ['notifications-eks'],
      ['notifications-eks'],
    ]);
  });

  it('outputs the webhook URL, the roles to map in EKS and where the workflow, store and documents are', () => {
    // Act
    const outputs = template.findOutputs('*');
    const text = (id: string) => JSON.stringify(outputs[id]?.Value);

    // Assess
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'WebhookUrl',
        'ApprovalBaseUrl',
        'StateMachineArn',
        'TableName',
        'DocumentBucket',
        'KubernetesRoleArns',
      ]),
    );
    expect(text('WebhookUrl')).toMatch(/execute-api.*\/v1\/webhooks\/clickup/);
    expect(outputs.WebhookUrl?.Export).toEqual({ Name: 'DevopsAgent-WebhookUrl' });
    for (const fn of ['ExecuteStepFunction', 'RollbackFunction', 'CreatePlanFunction', 'VerifyFunction'])
      expect(text('KubernetesRoleArns')).toContain(fn);
    expect(text('KubernetesRoleArns')).not.toContain('AcknowledgeFunction');
  });

  it('has no IAM statement allowing "*" actions, or every action on "*"', () => {
    // Prepare
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );

    // Assess
    const offending = statements.filter((s) => {
      const actions = [s.Action].flat();
      return actions.some((a) => a === '*' || a.endsWith(':*'));
    });
    expect(offending).toEqual([]);
  });

  it('reads the secrets by name and never puts their values in the template', () => {
    // Prepare
    const json = JSON.stringify(template.toJSON());

    // Assess
    expect(json).toContain('secret:devops-agent/clickup-token');
    expect(json).toContain('secret:devops-agent/clickup-webhook-secret');
    expect(json).toContain('secret:devops-agent/github-token');
    const created = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(created).toHaveLength(1);
    expect(created[0]?.Properties).toMatchObject({
      GenerateSecretString: { GenerateStringKey: 'k1', SecretStringTemplate: '{"current":"k1"}' },
    });
    expect(created[0]?.Properties.SecretString).toBeUndefined();
  });

  it('lets only the approval request and the confirm page read the approval signing keys', () => {
    // Prepare
    const [keysId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'));

    // Act
    const readers = policies
      .filter(([, p]) =>
        JSON.stringify(p.Properties.PolicyDocument.Statement).includes(`{"Ref":"${keysId}"}`),
      )
      .map(([id]) => id.replace(/Role.*$/, ''))
      .sort();

    // Assess
    expect(readers).toEqual(['ApprovalPageFunction', 'RequestApprovalFunction']);
  });

  it('gives the GitHub token to the gates function only', () => {
    // Act
    const functions = template.findResources('AWS::Lambda::Function');
    const withGitHub = Object.entries(functions)
      .filter(
        ([, f]) =>
          (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties
            .Environment?.Variables?.GITHUB_TOKEN_SECRET_ARN,
      )
      .map(([id]) => id);

    // Assess
    expect(withGitHub).toHaveLength(1);
    expect(withGitHub[0]).toMatch(/^CheckGatesFunction/);
  });

  it('has no AwsSolutions findings left unacknowledged', () => {
    // Act
    const findings = unacknowledgedNagFindings(stack);

    // Assess
    expect(findings).toEqual([]);
  });

  it('gives every acknowledgement a reason of a sentence or more', () => {
    // Prepare
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));

    // Assess
    expect(acknowledged.length).toBeGreaterThan(0);
    const unexplained = acknowledged.filter(([, reason]) => reason.trim().split(/\s+/).length < 8);
    expect(unexplained).toEqual([]);
  });
});

describe('the synthesized definition', () => {
  it('gives every Task state an explicit timeout and uses neither JSONata nor variables', () => {
    // Prepare
    const asl = extractAsl(buildStack(newApp(), DEMO_CONFIG));
    const text = JSON.stringify(asl);

    // Act
    const tasks = allStates(asl as never).filter(([, s]) => s.Type === 'Task');

    // Assess
    expect(tasks.map(([name]) => name).sort()).toEqual([...TASK_STATE_NAMES].sort());
    for (const [name, state] of tasks) {
      expect({ name, timeout: 'TimeoutSeconds' in state || 'TimeoutSecondsPath' in state }).toEqual({
        name,
        timeout: true,
      });
    }
    expect(text).not.toMatch(/JSONata|"Assign"|"Arguments"|\{%/);
  });

  it('is committed as statemachine/deploy-pipeline.asl.json, exactly as the stack synthesizes it', () => {
    // Act
    const committed = readFileSync(ASL_FILE, 'utf8');

    // Assess
    expect({ file: committed, hint: 'run npm run synth' }).toEqual({
      file: synthesizedAsl(DEMO_CONFIG),
      hint: 'run npm run synth',
    });
  });
});

describe('buildStack', () => {
  it('fails with the configuration error when the file is invalid', () => {
    // Prepare
    const bad = resolve(PROJECT_ROOT, 'test/infra/fixtures/bad-config.yaml');

    // Act
    const build = () => buildStack(newApp(), bad);

    // Assess
    expect(build).toThrow(/invalid configuration:[\s\S]*bad-config\.yaml:\d+/);
  });
});
