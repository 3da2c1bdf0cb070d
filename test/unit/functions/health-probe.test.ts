import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { probeServices } from '../../../functions/health-probe/health-probe.js';
import { CloudWatchHealthMetrics } from '../../../functions/shared/adapters/cloudwatch-health-metrics.js';
import { parseConfig } from '../../../functions/shared/config/load.js';
import { probeHealth } from '../../../functions/shared/health-probe.js';
import type { HealthDatapoint } from '../../../functions/shared/ports/health-metrics.js';
import type { Logger } from '../../../functions/shared/ports/index.js';
import { freePort } from '../../fixtures/free-port.js';

/** A service's health endpoint: answers each path with its status, or never (to time out). */
const startHealthServer = async (answers: Record<string, number | 'hang'>) => {
  const server: Server = createServer((req, res) => {
    const answer = answers[req.url ?? ''] ?? 404;
    if (answer === 'hang') return;
    res.writeHead(answer).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const configFor = (urls: Record<string, string | undefined>) =>
  parseConfig(
    `services:\n${Object.entries(urls)
      .map(
        ([name, url]) => `  - name: ${name}
    tracker: { list_id: "1" }
    approvers: [{ email: lead@example.com }]
    steps: [{ name: Deploy, kind: command, run: [deploy] }]
${url ? `    monitoring: { health_url: "${url}" }\n` : ''}`,
      )
      .join('')}`,
    'test.yaml',
  );

const recorded = () => {
  const warnings: unknown[] = [];
  const published: HealthDatapoint[][] = [];
  const logger: Logger = { info: () => {}, warn: (_m, extra) => warnings.push(extra), error: () => {} };
  return {
    warnings,
    published,
    logger,
    health: { publish: async (p: HealthDatapoint[]) => void published.push(p) },
  };
};

describe('probeServices (the AWS health probe)', () => {
  let server: Awaited<ReturnType<typeof startHealthServer>>;

  beforeAll(async () => {
    server = await startHealthServer({ '/ok': 200, '/broken': 503, '/slow': 'hang' });
  });
  afterAll(() => server.close());

  it('publishes one datapoint per service with a health_url: 0 when it answers 2xx, 1 otherwise', async () => {
    // Prepare
    const r = recorded();
    const config = configFor({
      api: server.url('/ok'),
      web: server.url('/broken'),
      ws: server.url('/slow'),
      cron: undefined,
      gone: `http://127.0.0.1:${await freePort()}/health`,
    });

    // Act
    const result = await probeServices({
      config,
      logger: r.logger,
      health: r.health,
      probe: (url) => probeHealth(url, { fetch, timeoutMs: 300, now: Date.now }),
    });

    // Assess
    expect(result.probed).toEqual(['api/production', 'web/production', 'ws/production', 'gone/production']);
    expect(r.published).toHaveLength(1);
    const points = r.published[0] ?? [];
    expect(points.map((p) => [p.service, p.environment, p.failed])).toEqual([
      ['api', 'production', false],
      ['web', 'production', true],
      ['ws', 'production', true],
      ['gone', 'production', true],
    ]);
    expect(points[0]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(points[2]?.latencyMs).toBeUndefined();
    expect(result.failed).toEqual([
      'web/production: 503',
      'ws/production: no answer in 300 ms',
      'gone/production: ECONNREFUSED',
    ]);
    expect(r.warnings).toEqual([{ failed: result.failed }]);
  });

  it('publishes nothing when no service has a health_url', async () => {
    // Prepare
    const r = recorded();

    // Act
    const result = await probeServices({
      config: configFor({ cron: undefined }),
      logger: r.logger,
      health: r.health,
      probe: () => Promise.reject(new Error('no probe expected')),
    });

    // Assess
    expect(result).toEqual({ probed: [], failed: [] });
    expect(r.published).toEqual([]);
  });
});

describe('CloudWatchHealthMetrics', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  afterEach(() => cloudwatch.reset());

  it('writes HealthCheckFailed (and the latency when there was an answer) in the namespace the alarms read', async () => {
    // Prepare
    cloudwatch.on(PutMetricDataCommand).resolves({});
    const metrics = new CloudWatchHealthMetrics({ client: new CloudWatchClient({ region: 'eu-west-1' }) });
    const at = new Date('2026-11-29T03:00:00.000Z');

    // Act
    await metrics.publish([
      { service: 'api', environment: 'production', at, failed: false, latencyMs: 42 },
      { service: 'web', environment: 'staging', at, failed: true },
    ]);

    // Assess
    const dims = (service: string, environment: string) => [
      { Name: 'Service', Value: service },
      { Name: 'Environment', Value: environment },
    ];
    expect(cloudwatch).toHaveReceivedCommandTimes(PutMetricDataCommand, 1);
    expect(cloudwatch).toHaveReceivedCommandWith(PutMetricDataCommand, {
      Namespace: 'DevopsAgent/Health',
      MetricData: [
        {
          MetricName: 'HealthCheckFailed',
          Dimensions: dims('api', 'production'),
          Timestamp: at,
          Value: 0,
          Unit: 'Count',
        },
        {
          MetricName: 'HealthCheckLatency',
          Dimensions: dims('api', 'production'),
          Timestamp: at,
          Value: 42,
          Unit: 'Milliseconds',
        },
        {
          MetricName: 'HealthCheckFailed',
          Dimensions: dims('web', 'staging'),
          Timestamp: at,
          Value: 1,
          Unit: 'Count',
        },
      ],
    });
  });

  it('splits many services into calls of at most 20 datapoints', async () => {
    // Prepare
    cloudwatch.on(PutMetricDataCommand).resolves({});
    const metrics = new CloudWatchHealthMetrics({ client: new CloudWatchClient({ region: 'eu-west-1' }) });
    const at = new Date();
    const points = Array.from({ length: 15 }, (_, i) => ({
      service: `s${i}`,
      environment: 'production',
      at,
      failed: false,
      latencyMs: 5,
    }));

    // Act
    await metrics.publish(points);

    // Assess
    const sizes = cloudwatch
      .commandCalls(PutMetricDataCommand)
      .map((c) => c.args[0].input.MetricData?.length);
    expect(sizes).toEqual([20, 10]);
  });
});
