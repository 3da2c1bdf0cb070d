import { type SampleApp, startSampleApp } from '../../../examples/demo/sample-app/server.js';
import { parsePrometheus } from '../../../local/adapters/local-monitor.js';

const get = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const release = (app: SampleApp, body: unknown) =>
  fetch(`${app.url}/admin/release`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('sample app', () => {
  let app: SampleApp;

  beforeEach(async () => {
    app = await startSampleApp({ port: 0, traffic: false });
  });

  afterEach(async () => {
    await app.close();
  });

  it('serves v1 as healthy on a free port', async () => {
    // Act
    const health = await get(`${app.url}/health`);
    const version = await get(`${app.url}/version`);
    const list = await get(`${app.url}/api/notifications`);

    // Assess
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(health).toEqual({ status: 200, body: { status: 'healthy', version: 'v1' } });
    expect(version).toEqual({ status: 200, body: { version: 'v1' } });
    expect(list.status).toBe(200);
    expect((list.body.notifications as unknown[]).length).toBeGreaterThan(0);
  });

  it('switches the release and answers with the previous one', async () => {
    // Act
    const response = await release(app, { version: 'v2' });

    // Assess
    expect(await response.json()).toEqual({ previous: 'v1', version: 'v2' });
    expect((await get(`${app.url}/health`)).body).toEqual({ status: 'healthy', version: 'v2' });
    expect(app.version()).toBe('v2');
  });

  it('refuses a release name that is not a plain version', async () => {
    // Act
    const response = await release(app, { version: 'v2; rm -rf /' });

    // Assess
    expect(response.status).toBe(400);
    expect(app.version()).toBe('v1');
  });

  it('fails 2 in 5 API requests and its health check once a bad release is past its delay', async () => {
    // Prepare
    await release(app, { version: 'v2-bad', BAD_RELEASE_DELAY_MS: 0 });

    // Act
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await fetch(`${app.url}/api/notifications`)).status);
    const health = await get(`${app.url}/health`);

    // Assess
    expect(statuses.filter((s) => s === 500)).toHaveLength(4);
    expect(health).toEqual({ status: 503, body: { status: 'unhealthy', version: 'v2-bad' } });
  });

  it('keeps a bad release healthy during its delay', async () => {
    // Act
    await release(app, { version: 'v2-bad', BAD_RELEASE_DELAY_MS: 60_000 });
    const health = await get(`${app.url}/health`);

    // Assess
    expect(health.status).toBe(200);
  });

  it('counts requests and errors per route in its metrics', async () => {
    // Prepare
    await release(app, { version: 'v2-bad', BAD_RELEASE_DELAY_MS: 0 });
    for (let i = 0; i < 5; i++) await fetch(`${app.url}/api/notifications`);
    await fetch(`${app.url}/no-such-page`);

    // Act
    const text = await (await fetch(`${app.url}/metrics`)).text();

    // Assess
    const values = parsePrometheus(text);
    expect(text).toContain('http_requests_total{path="/api/notifications"} 5');
    expect(text).toContain('http_request_errors_total{path="/api/notifications"} 2');
    expect(text).toContain('http_requests_total{path="other"} 1');
    expect(values.get('http_request_duration_p99_ms')?.[0]).toBeGreaterThanOrEqual(0);
  });

  it('sends itself traffic until stopped', async () => {
    // Prepare
    const busy = await startSampleApp({ port: 0, trafficIntervalMs: 10 });

    try {
      // Act
      await new Promise((resolve) => setTimeout(resolve, 200));
      busy.stopTraffic();
      const text = await (await fetch(`${busy.url}/metrics`)).text();

      // Assess
      const requests = parsePrometheus(text).get('http_requests_total') ?? [];
      expect(requests.reduce((a, b) => a + b, 0)).toBeGreaterThan(3);
    } finally {
      await busy.close();
    }
  });
});
