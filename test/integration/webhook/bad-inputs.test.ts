import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { parse as parseYaml } from 'yaml';
import { embeddedTracker, type LocalRuntime } from '../../../local/runtime.js';
import { BOT_ID, SECRET, sign, startRuntime, statusEvent, WEBHOOK_CONFIG } from './helpers.js';

/** One delivery: the body as sent and its headers (the signature, or none). */
interface Delivery {
  body: string;
  headers: Record<string, string>;
}

const signed = (body: string): Delivery => ({ body, headers: { 'X-Signature': sign(body) } });

/** Every bad input at the HTTP level, with the status ClickUp must get (never 401/410). */
const CASES = (taskId: string): [string, Delivery, number][] => {
  const good = statusEvent(taskId, 'Ready to Deploy');
  return [
    ['no signature', { body: good, headers: {} }, 403],
    ['an empty signature', { body: good, headers: { 'X-Signature': '' } }, 403],
    ['a wrong signature', { body: good, headers: { 'X-Signature': 'f'.repeat(64) } }, 403],
    ['a signature that is not hex', { body: good, headers: { 'X-Signature': 'not-a-signature' } }, 403],
    ['a signature with another secret', { body: good, headers: { 'X-Signature': sign(good, 'other') } }, 403],
    [
      'a signature over a different body',
      { body: good, headers: { 'X-Signature': sign(statusEvent(taskId, 'In Review')) } },
      403,
    ],
    ['a body that is not JSON', signed('event=taskStatusUpdated'), 400],
    ['an empty body', signed(''), 400],
    ['wrong types (event is a number)', signed(JSON.stringify({ event: 42, task_id: taskId })), 400],
    [
      'wrong types (history_items is a string)',
      signed(JSON.stringify({ event: 'taskStatusUpdated', task_id: taskId, history_items: 'status' })),
      400,
    ],
    ['JSON that is not an event', signed(JSON.stringify(['taskStatusUpdated'])), 400],
    ['an unknown event', signed(JSON.stringify({ event: 'taskPriorityUpdated', task_id: taskId })), 200],
    ['an unknown list', signed(statusEvent(taskId, 'Ready to Deploy', { listId: 'L-other' })), 200],
    [
      'an oversized body',
      signed(JSON.stringify({ event: 'taskStatusUpdated', pad: 'x'.repeat(300 * 1024) })),
      400,
    ],
    ['a status change to another status', signed(statusEvent(taskId, 'In Review')), 200],
    [
      "the agent's own status change",
      signed(statusEvent(taskId, 'Ready to Deploy', { userId: BOT_ID })),
      200,
    ],
  ];
};

describe('bad webhook deliveries on the local server', () => {
  let runtime: LocalRuntime;
  let taskId: string;

  beforeAll(async () => {
    runtime = await startRuntime();
    // In the input status, so a delivery that slipped through the filters would start a deployment.
    taskId = (
      await embeddedTracker(runtime).createTask({ name: 'Release', listId: 'L1', status: 'Ready to Deploy' })
    ).id;
  });
  afterAll(async () => {
    await runtime.stop();
  });

  it.each(CASES('placeholder').map(([name], index) => [name, index] as const))(
    'answers %s with its status code and starts nothing',
    async (_name, index) => {
      // Prepare
      const [, delivery, expected] = CASES(taskId)[index] as [string, Delivery, number];

      // Act
      const response = await fetch(`${runtime.url}/webhooks/clickup`, {
        method: 'POST',
        body: delivery.body,
        headers: { 'content-type': 'application/json', ...delivery.headers },
      });

      // Assess
      expect(response.status).toBe(expected);
      expect(await response.json()).toEqual(
        expected === 200 ? expect.objectContaining({ result: 'ignored' }) : { error: expect.any(String) },
      );
      expect(runtime.workflow.list()).toEqual([]);
      expect(await runtime.store.listDeployments()).toEqual([]);
    },
  );

  it('answers a good delivery with 202 once the bad ones are refused', async () => {
    // Prepare
    const body = statusEvent(taskId, 'Ready to Deploy');

    // Act
    const response = await fetch(`${runtime.url}/webhooks/clickup`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'X-Signature': sign(body) },
    });

    // Assess
    expect(response.status).toBe(202);
    expect(runtime.workflow.list()).toHaveLength(1);
  });
});

describe('bad webhook deliveries on the Lambda handler', () => {
  const secrets = mockClient(SecretsManagerClient);
  const sfn = mockClient(SFNClient);
  const dynamo = mockClient(DynamoDBDocumentClient);
  const saved = { ...process.env };
  let handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

  beforeAll(async () => {
    // Module scope reads the environment: stub it first, import after.
    Object.assign(process.env, {
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      AWS_REGION: 'eu-west-1',
      CONFIG_JSON: JSON.stringify(parseYaml(WEBHOOK_CONFIG)),
      TABLE_NAME: 'store',
      STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:DeployPipeline',
      WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:devops-agent/webhook-AbCdEf',
      CLICKUP_TOKEN_SECRET_ARN:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:devops-agent/token-AbCdEf',
      // a delivery that slipped through would call ClickUp here, where nothing listens
      CLICKUP_API_URL: 'http://127.0.0.1:9/api/v2',
    });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    ({ handler } = (await import('../../../functions/clickup-webhook/handler.js')) as unknown as {
      handler: typeof handler;
    });
  });
  afterAll(() => {
    process.env = saved;
    secrets.restore();
    sfn.restore();
    dynamo.restore();
  });

  it.each(
    CASES('86b1xk7qz').flatMap(([name, delivery, status]) => [
      [`${name} (plain body)`, delivery, status, false] as const,
      [`${name} (base64 body)`, delivery, status, true] as const,
    ]),
  )('answers %s with its status code and starts nothing', async (_name, delivery, expected, base64) => {
    // Prepare
    const event = {
      body: base64 ? Buffer.from(delivery.body).toString('base64') : delivery.body,
      isBase64Encoded: base64,
      headers: delivery.headers,
      httpMethod: 'POST',
      path: '/webhooks/clickup',
      pathParameters: null,
      requestContext: { path: '/v1/webhooks/clickup', identity: { sourceIp: '203.0.113.7' } },
    } as unknown as APIGatewayProxyEvent;

    // Act
    const response = await handler(event, {
      functionName: 'clickup-webhook',
      awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      getRemainingTimeInMillis: () => 7_000,
    } as Context);

    // Assess
    expect(response.statusCode).toBe(expected);
    expect(sfn.calls()).toEqual([]);
    expect(dynamo.calls()).toEqual([]);
  });
});
