import { jest } from '@jest/globals';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AGENT_METRICS } from '../../../functions/shared/agent-metrics.js';
import { LAMBDA_CONTEXT } from '../../fixtures/lambda-context.js';
import { fakePorts } from '../../fixtures/ports.js';

const context = LAMBDA_CONTEXT;

const WEBHOOK = {
  requests: AGENT_METRICS.names.webhookRequests,
  serverErrors: AGENT_METRICS.names.webhook5xx,
};

/** The EMF objects written to stdout while `act` runs, and what it returned. */
const emfWrittenBy = async <T>(act: () => Promise<T>) => {
  const chunks: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    const result = await act();
    const emf = chunks
      .flatMap((c) => c.split('\n'))
      .filter((l) => l.startsWith('{"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, emf };
  } finally {
    write.mockRestore();
  }
};

const saved = { ...process.env };
let middleware: typeof import('../../../functions/shared/middleware.js');
let powertools: typeof import('../../../functions/shared/powertools.js');

beforeAll(async () => {
  // Module scope reads the environment: stub it first, import after.
  Object.assign(process.env, { POWERTOOLS_LOG_LEVEL: 'SILENT', AWS_REGION: 'eu-west-1' });
  middleware = await import('../../../functions/shared/middleware.js');
  powertools = await import('../../../functions/shared/powertools.js');
});

afterAll(() => {
  process.env = saved;
});

describe('the middleware bundles and the agent metrics', () => {
  it('flushes what a core counted once the invocation ends, in the DevopsAgent namespace', async () => {
    // Prepare
    const { ports } = fakePorts();
    const handler = middleware.taskHandler(
      async (_input, p) => {
        p.telemetry?.count(AGENT_METRICS.names.rollbacks);
        return 'done';
      },
      () => ({ ...ports, telemetry: powertools.telemetry }),
    );

    // Act
    const { result, emf } = await emfWrittenBy(() => handler({}, context));

    // Assess
    expect(result).toBe('done');
    expect(emf).toEqual([
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            {
              Namespace: 'DevopsAgent',
              Dimensions: [['service']],
              Metrics: [{ Name: 'Rollbacks', Unit: 'Count' }],
            },
          ],
        }),
        service: 'devops-agent',
        Rollbacks: 1,
      }),
    ]);
  });

  it('flushes the metrics of an invocation that fails too', async () => {
    // Prepare
    const { ports } = fakePorts();
    const handler = middleware.taskHandler(
      async (_input, p) => {
        p.telemetry?.count(AGENT_METRICS.names.rollbacks);
        throw new Error('boom');
      },
      () => ({ ...ports, telemetry: powertools.telemetry }),
    );

    // Act
    const { result, emf } = await emfWrittenBy(() => handler({}, context).catch((e: Error) => e.message));

    // Assess
    expect(result).toBe('boom');
    expect(emf).toEqual([expect.objectContaining({ Rollbacks: 1 })]);
  });

  it('counts a webhook request answered 500 as a request and a 5xx', async () => {
    // Prepare
    const handler = middleware.httpHandler(async () => {
      throw new Error('the store is down');
    }, WEBHOOK);

    // Act
    const { result, emf } = await emfWrittenBy(() => handler({} as APIGatewayProxyEvent, context));

    // Assess
    expect(result.statusCode).toBe(500);
    expect(emf).toEqual([expect.objectContaining({ WebhookRequests: 1, Webhook5xx: 1 })]);
  });

  it('counts an answered webhook request, and no 5xx for a 4xx or 2xx answer', async () => {
    // Prepare
    const handler = middleware.httpHandler(
      async (event) => middleware.jsonResult(event.body ? 200 : 400, {}),
      WEBHOOK,
    );

    // Act
    const ok = await emfWrittenBy(() => handler({ body: '{}' } as APIGatewayProxyEvent, context));
    const bad = await emfWrittenBy(() => handler({ body: null } as APIGatewayProxyEvent, context));

    // Assess
    expect([ok.result.statusCode, bad.result.statusCode]).toEqual([200, 400]);
    for (const { emf } of [ok, bad]) {
      expect(emf).toEqual([expect.objectContaining({ WebhookRequests: 1 })]);
      expect(emf[0]).not.toHaveProperty('Webhook5xx');
    }
  });

  it('counts nothing for a route without metric names', async () => {
    // Prepare
    const handler = middleware.httpHandler(async () => middleware.jsonResult(200, {}));

    // Act
    const { emf } = await emfWrittenBy(() => handler({} as APIGatewayProxyEvent, context));

    // Assess
    expect(emf).toEqual([]);
  });
});

describe('the tracer outside Lambda', () => {
  it('is off, and hands SDK clients back untouched', () => {
    // Prepare
    const client = { send: async () => ({}) };

    // Act
    const captured = powertools.tracer.captureAWSv3Client(client);

    // Assess
    expect(powertools.tracer.isTracingEnabled()).toBe(false);
    expect(captured).toBe(client);
  });
});
