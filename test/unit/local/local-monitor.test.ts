import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Triggers } from '../../../functions/shared/config/schema.js';
import type { AlarmQuery } from '../../../functions/shared/ports/alarm-source.js';
import {
  LocalMonitor,
  type MonitoringSettings,
  parsePrometheus,
} from '../../../local/adapters/local-monitor.js';
import { FakeClock } from '../../fixtures/fakes.js';

/** A service whose health and counters the test sets by hand. */
const scripted = { health: 200, requests: 0, errors: 0, p99: 12, metricsUp: true };

const triggers: Triggers = {
  error_rate: 1,
  error_rate_for: 10,
  response_time_p99: 1000,
  response_time_p99_for: 10,
  health_check_failures: 3,
};

describe('LocalMonitor', () => {
  let server: Server;
  let base: string;
  let clock: FakeClock;
  let settings: MonitoringSettings;
  let monitor: LocalMonitor;
  let query: AlarmQuery;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/health') {
        res.writeHead(scripted.health, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ status: scripted.health === 200 ? 'healthy' : 'unhealthy' }));
      }
      if (req.url === '/metrics' && scripted.metricsUp) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        // the requests split over two label sets, as a real exporter does
        const half = Math.floor(scripted.requests / 2);
        return res.end(
          [
            '# TYPE http_requests_total counter',
            `http_requests_total{path="/api/a"} ${half}`,
            `http_requests_total{path="/api/b"} ${scripted.requests - half}`,
            `http_request_errors_total{path="/api/a"} ${scripted.errors}`,
            `http_request_duration_p99_ms ${scripted.p99}`,
            '',
          ].join('\n'),
        );
      }
      res.writeHead(500);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    Object.assign(scripted, { health: 200, requests: 0, errors: 0, p99: 12, metricsUp: true });
    clock = new FakeClock();
    settings = { health_url: `${base}/health`, metrics_url: `${base}/metrics`, check_interval: 2 };
    monitor = new LocalMonitor((service) => (service === 'user-notifications' ? settings : undefined), clock);
    query = {
      service: 'user-notifications',
      environment: 'production',
      triggers,
      alarms: [],
      since: clock.now().toISOString(),
      firingAtStart: 'ignore',
      unreadable: 'breaching',
    };
  });

  /** One reading every 2 s: `requests` and `errors` more than the last reading. */
  const tick = async (requests: number, errors: number) => {
    clock.advance(2);
    scripted.requests += requests;
    scripted.errors += errors;
    return monitor.check(query);
  };

  it('reports healthy metrics from a service within its targets', async () => {
    // Prepare
    await monitor.check(query);

    // Act
    const result = await tick(200, 0);

    // Assess
    expect(result).toEqual({
      breached: false,
      reasons: [],
      metrics: { errorRate: 0, p99Ms: 12, requests: 200, healthFailures: 0, alarms: [] },
    });
  });

  it('breaches on an error rate above the limit for the whole window, not before', async () => {
    // Prepare
    await monitor.check(query);
    const results = [];

    // Act
    for (let i = 0; i < 5; i++) results.push(await tick(100, 34));

    // Assess
    expect(results.slice(0, 4).map((r) => r.breached)).toEqual([false, false, false, false]);
    expect(results[4]).toMatchObject({
      breached: true,
      reasons: ['error rate 34.0% > 1% for 10s'],
      metrics: { errorRate: 34, requests: 500 },
    });
  });

  it('starts the error-rate window again after a healthy interval', async () => {
    // Prepare
    await monitor.check(query);
    for (let i = 0; i < 4; i++) await tick(100, 50);
    await tick(100, 0);

    // Act
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await tick(100, 50));

    // Assess
    expect(results.map((r) => r.breached)).toEqual([false, false, false, false]);
  });

  it('treats an interval without requests as missing data, which does not breach', async () => {
    // Prepare
    await monitor.check(query);

    // Act
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await tick(0, 0));

    // Assess
    expect(results.every((r) => !r.breached)).toBe(true);
    expect(results[5]?.metrics.errorRate).toBeUndefined();
  });

  it('counts from zero again when the counters reset (a restarted service)', async () => {
    // Prepare
    scripted.requests = 1000;
    await monitor.check(query);
    await tick(100, 0);
    scripted.requests = 0;
    scripted.errors = 0;

    // Act
    const result = await tick(50, 1);

    // Assess
    expect(result.metrics).toMatchObject({ errorRate: 2, requests: 150 });
  });

  it('breaches after three failed health probes in a row, and a success resets the count', async () => {
    // Prepare
    await monitor.check(query);
    scripted.health = 503;
    await tick(10, 0);
    await tick(10, 0);
    scripted.health = 200;
    await tick(10, 0);
    scripted.health = 503;

    // Act
    const two = [await tick(10, 0), await tick(10, 0)];
    const three = await tick(10, 0);

    // Assess
    expect(two.map((r) => [r.breached, r.metrics.healthFailures])).toEqual([
      [false, 1],
      [false, 2],
    ]);
    expect(three).toMatchObject({
      breached: true,
      reasons: ['3 failed health checks in a row (last: 503)'],
      metrics: { healthFailures: 3 },
    });
  });

  it('counts an unreachable service as failed health checks', async () => {
    // Prepare
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    settings = { ...settings, health_url: `http://127.0.0.1:${port}/health`, metrics_url: undefined };

    // Act
    await monitor.check(query);
    await tick(0, 0);
    const result = await tick(0, 0);

    // Assess
    expect(result.breached).toBe(true);
    expect(result.reasons[0]).toMatch(/^3 failed health checks in a row \(last: ECONNREFUSED\)/);
  });

  it('breaches on p99 above the limit in every datapoint of the window', async () => {
    // Prepare
    await monitor.check(query);
    scripted.p99 = 1450;
    const results = [];

    // Act
    for (let i = 0; i < 5; i++) results.push(await tick(100, 0));

    // Assess: five 2-s datapoints make the 10-s window (CloudWatch: N = 10 s / period)
    expect(results.slice(0, 4).some((r) => r.breached)).toBe(false);
    expect(results[4]).toMatchObject({ breached: true, reasons: ['p99 1450 ms > 1000 ms for 10s'] });
    expect(results[4]?.metrics.p99Ms).toBe(1450);
  });

  it('dates the breach at the start of the first breaching datapoint', async () => {
    // Prepare
    const start = clock.now().getTime();
    await monitor.check(query);
    await tick(100, 0);

    // Act
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await tick(100, 34));

    // Assess: the second 2-s period is the first with errors
    expect(results[3]?.firstBreachAt).toBeUndefined();
    expect(results[4]).toMatchObject({
      breached: true,
      firstBreachAt: new Date(start + 2000).toISOString(),
    });
  });

  it('breaches on M of N error-rate datapoints when `error_rate_datapoints` says so', async () => {
    // Prepare
    query = { ...query, triggers: { ...triggers, error_rate_datapoints: 3 } };
    await monitor.check(query);

    // Act
    const results = [await tick(100, 34), await tick(100, 0), await tick(100, 34), await tick(100, 34)];

    // Assess
    expect(results.map((r) => r.breached)).toEqual([false, false, false, true]);
    expect(results[3]?.reasons).toEqual(['error rate 25.5% > 1% for 10s']);
  });

  it('breaches on idle periods when the error rate treats missing data as breaching', async () => {
    // Prepare
    query = { ...query, triggers: { ...triggers, error_rate_missing_data: 'breaching' } };
    await monitor.check(query);

    // Act
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await tick(0, 0));

    // Assess
    expect(results.map((r) => r.breached)).toEqual([false, false, false, false, true]);
    expect(results[4]?.reasons).toEqual([
      'no requests for 10s, and missing error-rate data counts as breaching',
    ]);
  });

  it('ignores readings from before `since`', async () => {
    // Prepare
    await monitor.check(query);
    scripted.health = 503;
    await tick(100, 50);
    await tick(100, 50);
    await tick(100, 50);

    // Act
    const result = await monitor.check({ ...query, since: clock.now().toISOString() });

    // Assess
    expect(result.breached).toBe(false);
    expect(result.metrics.healthFailures).toBe(1);
    expect(result.metrics.requests).toBeUndefined();
  });

  it('probes once per half check interval however often it is asked', async () => {
    // Prepare
    let probes = 0;
    const counting: typeof fetch = async (input, init) => {
      probes++;
      return fetch(input, init);
    };
    const shared = new LocalMonitor(() => settings, clock, { fetch: counting });

    // Act
    await Promise.all([shared.check(query), shared.check(query), shared.check(query)]);
    clock.advance(0.5);
    await shared.check(query);
    clock.advance(0.6);
    await shared.check(query);

    // Assess
    expect(probes).toBe(4);
  });

  it('does not breach when metrics cannot be scraped but health is fine', async () => {
    // Prepare
    scripted.metricsUp = false;

    // Act
    await monitor.check(query);
    const result = await tick(100, 100);

    // Assess
    expect(result).toEqual({ breached: false, reasons: [], metrics: { healthFailures: 0, alarms: [] } });
  });

  it('answers not breached for a service with nothing to watch', async () => {
    // Act
    const result = await monitor.check({ ...query, service: 'unknown' });

    // Assess
    expect(result).toEqual({ breached: false, reasons: [], metrics: { alarms: [] } });
  });
  it('lists its readings since a time for the console: error rate per interval, p99 and health', async () => {
    // Prepare
    await monitor.check(query);
    const since = new Date(clock.now().getTime() + 1000).toISOString();
    await tick(100, 0);
    scripted.health = 503;
    scripted.p99 = 1500;
    await tick(200, 50);
    await tick(0, 0);

    // Act
    const readings = monitor.series('user-notifications', 'production', since);

    // Assess
    expect(readings).toEqual([
      { at: new Date(Date.parse(since) + 1000).toISOString(), p99Ms: 12, healthy: true },
      { at: new Date(Date.parse(since) + 3000).toISOString(), errorRate: 25, p99Ms: 1500, healthy: false },
      { at: new Date(Date.parse(since) + 5000).toISOString(), p99Ms: 1500, healthy: false },
    ]);
    expect(monitor.series('other', 'production', since)).toEqual([]);
  });
});

describe('parsePrometheus', () => {
  it('reads values by name over label sets and skips comments and junk', () => {
    // Act
    const values = parsePrometheus(
      '# HELP x\nhttp_requests_total{path="/a",code="200"} 3\nhttp_requests_total 4.5\nbroken line\nnan_metric NaN\n',
    );

    // Assess
    expect([...values]).toEqual([['http_requests_total', [3, 4.5]]]);
  });
});
