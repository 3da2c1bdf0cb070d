import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { configJson } from '../../../functions/shared/config/load.js';
import 'aws-sdk-client-mock-jest';
import * as z from 'zod';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  GatesNotMetError,
  NotFoundError,
  SignatureInvalidError,
} from '../../../functions/shared/errors.js';
import type { Ports } from '../../../functions/shared/ports/index.js';
import { LAMBDA_CONTEXT } from '../../fixtures/lambda-context.js';

const context = LAMBDA_CONTEXT;

const httpEvent = (overrides: Partial<APIGatewayProxyEvent>): APIGatewayProxyEvent =>
  ({
    body: null,
    headers: {},
    httpMethod: 'POST',
    isBase64Encoded: false,
    path: '/webhooks/clickup',
    pathParameters: null,
    requestContext: { path: '/v1/webhooks/clickup', identity: { sourceIp: '203.0.113.7' } },
    ...overrides,
  }) as APIGatewayProxyEvent;

const secrets = mockClient(SecretsManagerClient);
const sfn = mockClient(SFNClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const saved = { ...process.env };
let middleware: typeof import('../../../functions/shared/middleware.js');

beforeAll(async () => {
  // Module scope reads the environment: stub it first, import after.
  Object.assign(process.env, {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_REGION: 'eu-west-1',
    CONFIG_JSON: configJson(
      fileURLToPath(new URL('../../../examples/demo/devops-agent.yaml', import.meta.url)),
    ),
    TABLE_NAME: 'store',
    STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:DeployPipeline',
    WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:devops-agent/webhook-AbCdEf',
    CLICKUP_TOKEN_SECRET_ARN:
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:devops-agent/token-AbCdEf',
  });
  middleware = await import('../../../functions/shared/middleware.js');
});

afterAll(() => {
  process.env = saved;
});

afterEach(() => {
  secrets.reset();
  sfn.reset();
  dynamo.reset();
});

describe('taskHandler', () => {
  const ports = () => ({}) as Ports;

  it('returns the core result, and null for a core that returns nothing', async () => {
    // Prepare
    const withResult = middleware.taskHandler(async (input) => ({ seen: input }), ports);
    const withoutResult = middleware.taskHandler(async () => undefined, ports);

    // Act
    const result = await withResult({ deploymentId: 'd-1' }, context);
    const nothing = await withoutResult({}, context);

    // Assess
    expect(result).toEqual({ seen: { deploymentId: 'd-1' } });
    expect(nothing).toBeNull();
  });

  it('lets a named error through with its name, which the definition catches', async () => {
    // Prepare
    const handler = middleware.taskHandler(async () => {
      throw new GatesNotMetError('CI is red');
    }, ports);

    // Act
    const run = handler({}, context);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'GatesNotMetError', message: 'CI is red' });
  });
});

describe('httpHandler', () => {
  it.each([
    ['BadRequestError', new BadRequestError('bad'), 400],
    ['ZodError', z.object({ a: z.string() }).safeParse({}).error, 400],
    ['SignatureInvalidError', new SignatureInvalidError('bad signature'), 403],
    ['ForbiddenError', new ForbiddenError('not an approver'), 403],
    ['NotFoundError', new NotFoundError('unknown'), 404],
    ['ConflictError', new ConflictError('already decided'), 409],
    ['any other error', new Error('boom'), 500],
  ])('answers %s with %i', async (_name, error, statusCode) => {
    // Prepare
    const handler = middleware.httpHandler(async () => {
      throw error;
    });

    // Act
    const response = await handler(httpEvent({}), context);

    // Assess
    expect(response.statusCode).toBe(statusCode);
    expect(response.headers?.['content-type']).toBe('application/json');
    if (statusCode === 500) expect(response.body).not.toContain('boom');
  });
});

describe('clickup-webhook handler', () => {
  const sign = (body: string) => createHmac('sha256', 'webhook-secret').update(body).digest('hex');

  it('refuses a delivery with a bad signature with 403, never 401 or 410', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'webhook-secret' });
    const { handler } = await import('../../../functions/clickup-webhook/handler.js');
    const body = JSON.stringify({ event: 'taskStatusUpdated', task_id: '86abc' });

    // Act
    const response = await handler(httpEvent({ body, headers: { 'X-Signature': 'f'.repeat(64) } }), context);

    // Assess
    expect(response.statusCode).toBe(403);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('acknowledges a signed event it does not handle and starts nothing', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"secret":"webhook-secret"}' });
    const { handler } = await import('../../../functions/clickup-webhook/handler.js');
    const body = JSON.stringify({ event: 'taskCreated', task_id: '86abc' });

    // Act
    const response = await handler(
      httpEvent({
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
        headers: { 'x-signature': sign(body) },
      }),
      context,
    );

    // Assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      result: 'ignored',
      reason: 'event taskCreated is not handled',
    });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('approval-page handler', () => {
  it('answers 404 for an approval link it does not know', async () => {
    // Prepare
    dynamo.on(GetCommand).resolves({});
    const { handler } = await import('../../../functions/approval-page/handler.js');

    // Act
    const response = await handler(
      httpEvent({
        httpMethod: 'GET',
        path: '/approvals/AbCdEfGhIjKlMnOp',
        pathParameters: { id: 'AbCdEfGhIjKlMnOp' },
      }),
      context,
    );

    // Assess
    expect(response.statusCode).toBe(404);
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'store',
      Key: { pk: 'APPROVAL#AbCdEfGhIjKlMnOp', sk: 'ITEM' },
    });
  });
});
