import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import dynalite from 'dynalite';
import type { ApiDeployment } from '../../../cli/agent-client.js';
import { DynamoDeploymentStore } from '../../../functions/shared/adapters/dynamo-deployment-store.js';
import { TABLE_KEYS } from '../../../functions/shared/adapters/dynamo-table.js';
import { runCli } from '../../fixtures/cli.js';
import { CONFIG } from '../../fixtures/config.js';
import { type FakeClickUp, startFakeClickUp } from '../../fixtures/fake-clickup.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

/**
 * The operating commands against a deployed stack (`--stack`): CloudFormation and Step Functions stubbed
 * with aws-sdk-client-mock, the table on dynalite with the real key schema, ClickUp on the fake. The
 * commands run in-process through `run`, as `npx devops-agent` runs them.
 */
const STACK = 'DevopsAgent';
const REGION = 'eu-west-1';
const STATE_MACHINE = `arn:aws:states:${REGION}:123456789012:stateMachine:DeployPipeline`;
const BUCKET = 'devopsagent-documents-abc';
const LEAD = 'lead@example.com';
const OPS = 'ops@example.com';

type Server = ReturnType<typeof dynalite>;

const cloudformation = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
let server: Server;
let raw: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let endpoint: string;
let clickup: FakeClickUp;
let cwd: string;
let tableCount = 0;
let tableName: string;
let store: DynamoDeploymentStore;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  raw = new DynamoDBClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  documents = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  clickup = await startFakeClickUp();
  clickup.addList('L1', 'Releases', ['In Review', 'Ready to Deploy', 'Deploying', 'Deployed']);
  cwd = mkdtempSync(join(tmpdir(), 'devops-agent-stack-'));
  // the test configuration with a second approver, as the default --config of the working directory
  writeFileSync(
    join(cwd, 'devops-agent.yaml'),
    CONFIG.replace(`approvers: [{ email: ${LEAD} }]`, `approvers: [{ email: ${LEAD} }, { email: ${OPS} }]`),
  );
});

afterAll(async () => {
  cloudformation.restore();
  sfn.restore();
  raw.destroy();
  await clickup.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A fresh table per test (the stack's TableName output names it) and the stack's outputs stubbed. */
beforeEach(async () => {
  cloudformation.reset();
  sfn.reset();
  tableName = `DevopsAgent-Store-${++tableCount}`;
  await raw.send(
    new CreateTableCommand({ TableName: tableName, BillingMode: 'PAY_PER_REQUEST', ...TABLE_KEYS }),
  );
  store = new DynamoDeploymentStore({ client: documents, tableName });
  cloudformation.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [
      {
        StackName: STACK,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date('2026-11-01T00:00:00.000Z'),
        Outputs: [
          { OutputKey: 'WebhookUrl', OutputValue: 'https://agent.example.com/webhooks/clickup' },
          { OutputKey: 'ApprovalBaseUrl', OutputValue: 'https://agent.example.com/approvals' },
          { OutputKey: 'StateMachineArn', OutputValue: STATE_MACHINE },
          { OutputKey: 'TableName', OutputValue: tableName },
          { OutputKey: 'DocumentBucket', OutputValue: BUCKET },
          { OutputKey: 'KubernetesRoleArns', OutputValue: 'arn:aws:iam::123456789012:role/a' },
        ],
      },
    ],
  });
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

const ENV = () => ({
  AWS_REGION: REGION,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_ENDPOINT_URL_DYNAMODB: endpoint,
  CLICKUP_API_TOKEN: clickup.token,
  CLICKUP_API_URL: clickup.url,
});

const cli = (argv: string[], env: Record<string, string | undefined> = {}) =>
  runCli(argv, { cwd, env: { ...ENV(), ...env } });

const executionUrl = (id: string) =>
  `https://${REGION}.console.aws.amazon.com/states/home?region=${REGION}#/v2/executions/details/${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${id}`;

const started = () =>
  sfn.commandCalls(StartExecutionCommand).map((call) => ({
    ...call.args[0].input,
    input: JSON.parse(call.args[0].input.input ?? '{}') as Record<string, unknown>,
  }));

describe('devops-agent operating commands against a deployed stack (--stack)', () => {
  it('deploy finds the stack outputs and starts an execution named by the deployment with its request', async () => {
    // Prepare
    clickup.addTask({ id: 'st1', name: 'User Notifications', listId: 'L1', status: 'In Review' });

    // Act
    const result = await cli(['deploy', 'st1', '--stack', STACK, '--as', 'Dev@Example.com']);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(cloudformation.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({
      StackName: STACK,
    });
    expect(started()).toEqual([
      {
        stateMachineArn: STATE_MACHINE,
        name: 'st1-1',
        input: {
          deploymentId: 'st1-1',
          taskId: 'st1',
          service: 'notifications',
          environment: 'production',
          trigger: 'cli',
          requestedBy: 'dev@example.com',
          requesterIds: ['dev@example.com'],
          requestedAt: expect.any(String),
        },
      },
    ]);
    expect(result.stdout).toBe(
      `Started deployment st1-1 of task st1.\n  watch it: devops-agent status st1 --watch --stack ${STACK}\n  console:  ${executionUrl('st1-1')}\n`,
    );
    expect(await store.listAudit('st1-1')).toEqual([
      expect.objectContaining({ action: 'deploy-requested', actor: 'dev@example.com', channel: 'cli' }),
    ]);
  });

  it('deploy takes the stack from DEVOPS_AGENT_STACK and starts nothing while a deployment of the task runs', async () => {
    // Prepare
    clickup.addTask({ id: 'st2', name: 'User Notifications', listId: 'L1', status: 'In Review' });
    await store.createDeployment(aDeployment({ deploymentId: 'st2-1', taskId: 'st2', status: 'deploying' }));

    // Act
    const result = await cli(['deploy', 'st2'], { DEVOPS_AGENT_STACK: STACK });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'Deployment st2-1 is already running for task st2; nothing new was started.',
    );
    expect(result.stdout).toContain('watch it: devops-agent status st2 --watch\n');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('deploy without CLICKUP_API_TOKEN says where the token is and starts nothing, exit 1', async () => {
    // Act
    const result = await cli(['deploy', 'st1', '--stack', STACK], { CLICKUP_API_TOKEN: undefined });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `devops-agent: CLICKUP_API_TOKEN is not set: against stack ${STACK} in ${REGION}, devops-agent deploy reads and comments the task in ClickUp itself`,
    );
    expect(result.stderr).toContain('devops-agent/clickup-token');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('status and history read the records from the table, as text and as JSON', async () => {
    // Prepare
    await store.createDeployment(
      aDeployment({
        deploymentId: 't1-1',
        status: 'deployed',
        stage: 'Finalize',
        outcome: 'deployed',
        createdAt: new Date(Date.now() - 3_600_000).toISOString(),
        finishedAt: new Date(Date.now() - 3_000_000).toISOString(),
        recordKey: 'records/t1-1.md',
      }),
    );
    await store.createDeployment(
      aDeployment({
        deploymentId: 't1-2',
        status: 'awaiting-approval',
        stage: 'RequestApproval',
        trigger: 'cli',
        requestedBy: 'dev@example.com',
        createdAt: new Date(Date.now() - 60_000).toISOString(),
      }),
    );
    await store.putApproval(
      anApproval({ approvalId: 'apr-t1-2', deploymentId: 't1-2', approvers: [LEAD, OPS], quorum: 2 }),
    );

    // Act
    const status = await cli(['status', 't1', '--stack', STACK]);
    const json = await cli(['status', 't1', '--stack', STACK, '--json']);
    const history = await cli(['history', '--stack', STACK, '--since', '1d']);
    const historyJson = await cli(['history', '--stack', STACK, '--json']);

    // Assess
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('t1-2  "User Notifications" (task t1) · notifications/production');
    expect(status.stdout).toContain(
      `approval  pending: 0 of 2 approvals, expires 2026-11-28T11:00:00.000Z; approve with devops-agent approve t1 --as <${LEAD}|${OPS}> --stack ${STACK}`,
    );
    expect(status.stdout).toContain(`  console   ${executionUrl('t1-2')}`);
    const shown = JSON.parse(json.stdout) as { now: string; deployments: ApiDeployment[] };
    expect(shown.deployments).toEqual([
      expect.objectContaining({
        deploymentId: 't1-2',
        status: 'awaiting-approval',
        approval: expect.objectContaining({ status: 'pending', approvals: 0, quorum: 2 }),
        url: executionUrl('t1-2'),
      }),
    ]);
    expect(history.code).toBe(0);
    expect(history.stdout).toContain('2 deployments since');
    expect(history.stdout).toContain('t1-1  deployed  notifications/production  task t1');
    expect(history.stdout).toContain(
      `record https://console.aws.amazon.com/s3/object/${BUCKET}?region=${REGION}&prefix=records%2Ft1-1.md`,
    );
    expect(history.stdout).toContain('**DORA figures**');
    const listed = JSON.parse(historyJson.stdout) as {
      deployments: ApiDeployment[];
      dora: { deploymentFrequency: { deployed: number } };
    };
    expect(listed.deployments.map((d) => d.deploymentId)).toEqual(['t1-2', 't1-1']);
    expect(listed.dora.deploymentFrequency.deployed).toBe(1);
  });

  it('approve casts the vote, and answers the approval token with SendTaskSuccess once the quorum is met', async () => {
    // Prepare
    clickup.addTask({ id: 'ap1', name: 'User Notifications', listId: 'L1', status: 'Deploying' });
    await store.createDeployment(
      aDeployment({
        deploymentId: 'ap1-1',
        taskId: 'ap1',
        status: 'awaiting-approval',
        stage: 'RequestApproval',
      }),
    );
    await store.putApproval(
      anApproval({
        approvalId: 'apr-ap1',
        deploymentId: 'ap1-1',
        taskId: 'ap1',
        taskToken: 'approval-token',
        approvers: [LEAD, OPS],
        quorum: 2,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );

    // Act
    const first = await cli(['approve', 'ap1', '--stack', STACK, '--as', LEAD, '--comment', 'looks good']);
    const afterFirst = sfn.commandCalls(SendTaskSuccessCommand).length;
    const again = await cli(['approve', 'ap1', '--stack', STACK, '--as', LEAD]);
    const second = await cli(['approve', 'ap1', '--stack', STACK, '--as', OPS]);

    // Assess
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      `Approval by ${LEAD} recorded for ap1-1: 1 of 2 approvals, waiting for 1 more.`,
    );
    expect(afterFirst).toBe(0);
    expect(clickup.commentTexts('ap1')).toEqual([
      `✅ Approved by ${LEAD} (1 of 2 approvals needed): looks good. Waiting for 1 more.`,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`devops-agent: ${LEAD} already decided "approve"`);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(
      `Approved ap1-1 as ${OPS} (2 of 2 approvals): it proceeds to the deployment steps.`,
    );
    const answers = sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input);
    expect(answers).toHaveLength(1);
    expect(answers[0]?.taskToken).toBe('approval-token');
    expect(JSON.parse(answers[0]?.output ?? '{}')).toMatchObject({
      decision: 'approved',
      by: `${LEAD}, ${OPS}`,
      channel: 'cli',
    });
    expect((await store.getApproval('apr-ap1'))?.status).toBe('approved');
    expect((await store.listAudit('ap1-1')).map((e) => e.action)).toEqual(
      expect.arrayContaining(['approved', 'decision-refused']),
    );
  });

  it('hold by a configured approver fails the approval token with ApprovalHeldError', async () => {
    // Prepare
    clickup.addTask({ id: 'ho1', name: 'User Notifications', listId: 'L1', status: 'Deploying' });
    await store.createDeployment(
      aDeployment({
        deploymentId: 'ho1-1',
        taskId: 'ho1',
        status: 'awaiting-approval',
        stage: 'RequestApproval',
      }),
    );
    await store.putApproval(
      anApproval({
        approvalId: 'apr-ho1',
        deploymentId: 'ho1-1',
        taskId: 'ho1',
        taskToken: 'hold-token',
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );

    // Act
    const result = await cli(['hold', 'ho1', '--stack', STACK, '--as', LEAD, '--reason', 'freeze week']);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(sfn.commandCalls(SendTaskFailureCommand).map((call) => call.args[0].input)).toEqual([
      { taskToken: 'hold-token', error: 'ApprovalHeldError', cause: `held by ${LEAD}: freeze week` },
    ]);
  });

  it('rollback during the bake fails the monitor token with RollbackRequestedError', async () => {
    // Prepare
    await store.createDeployment(
      aDeployment({ deploymentId: 'rb1-1', taskId: 'rb1', status: 'monitoring', stage: 'Monitor' }),
    );
    await store.setMonitorToken('rb1-1', 'monitor-token');

    // Act
    const stranger = await cli(['rollback', 'rb1', '--stack', STACK, '--as', 'mallory@example.com']);
    const result = await cli([
      'rollback',
      'rb1',
      '--stack',
      STACK,
      '--as',
      LEAD,
      '--reason',
      'p99 creeping up',
    ]);

    // Assess
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain(
      'mallory@example.com is not a configured approver of notifications/production',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const reason = `rollback requested by ${LEAD} from the devops-agent command line: p99 creeping up`;
    expect(result.stdout).toContain(`Rollback of rb1-1 requested: ${reason}`);
    expect(sfn.commandCalls(SendTaskFailureCommand).map((call) => call.args[0].input)).toEqual([
      { taskToken: 'monitor-token', error: 'RollbackRequestedError', cause: reason },
    ]);
    expect(await store.getMonitorToken('rb1-1')).toBeUndefined();
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('rollback after Deployed starts the <id>-rollback execution and marks the deployment', async () => {
    // Prepare
    await store.createDeployment(
      aDeployment({
        deploymentId: 'rb2-1',
        taskId: 'rb2',
        status: 'deployed',
        stage: 'Finalize',
        outcome: 'deployed',
      }),
    );

    // Act
    const result = await cli(['rollback', 'rb2', '--stack', STACK, '--as', LEAD]);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Rollback of rb2-1-rollback requested: rollback of rb2-1 requested by');
    expect(started()).toEqual([
      expect.objectContaining({
        stateMachineArn: STATE_MACHINE,
        name: 'rb2-1-rollback',
        input: expect.objectContaining({
          deploymentId: 'rb2-1-rollback',
          taskId: 'rb2',
          rollbackOf: 'rb2-1',
          trigger: 'cli',
          requestedBy: LEAD,
        }),
      }),
    ]);
    expect((await store.getDeployment('rb2-1'))?.rolledBackBy).toMatchObject({
      deploymentId: 'rb2-1-rollback',
      by: LEAD,
    });
  });

  it('says which stack and region are missing and that npx cdk deploy creates it, exit 1', async () => {
    // Prepare
    cloudformation
      .on(DescribeStacksCommand, { StackName: 'Nope' })
      .rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));

    // Act
    const result = await cli(['status', '--stack', 'Nope']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `devops-agent: no CloudFormation stack Nope in ${REGION}; deploy it with \`npx cdk deploy\` (docs/deploy-to-aws.md), or pass the right --stack / --region\n`,
    );
  });

  it('names the outputs a stack lacks, exit 1', async () => {
    // Prepare
    cloudformation.on(DescribeStacksCommand, { StackName: 'Other' }).resolves({
      Stacks: [
        {
          StackName: 'Other',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'TableName', OutputValue: tableName }],
        },
      ],
    });

    // Act
    const result = await cli(['history', '--stack', 'Other', '--region', 'us-east-1']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'devops-agent: stack Other in us-east-1 has no output StateMachineArn, DocumentBucket:',
    );
    expect(result.stderr).toContain('npx cdk deploy');
  });

  it('says the caller has no AWS credentials and how to configure them, exit 1', async () => {
    // Prepare
    cloudformation.on(DescribeStacksCommand, { StackName: 'NoCredentials' }).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );

    // Act
    const result = await cli(['history', '--stack', 'NoCredentials']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `devops-agent: no AWS credentials for stack NoCredentials in ${REGION}: configure them (aws configure, aws sso login, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)\n`,
    );
  });

  it('refuses --stack together with --url as a wrong command line, exit 2, without calling AWS', async () => {
    // Act
    const result = await cli(['status', '--stack', STACK, '--url', 'http://127.0.0.1:4000']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'status: --url (a local runtime) and --stack (a deployed stack) exclude each other',
    );
    expect(cloudformation.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });
});
