import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Check, HttpCheck } from '../../../functions/shared/config/schema.js';
import { BadRequestError } from '../../../functions/shared/errors.js';
import { HttpCheckRunner } from '../../../local/adapters/http-check-runner.js';

interface Seen {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('HttpCheckRunner', () => {
  let server: Server;
  let base: string;
  let seen: Seen;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        seen = { method: req.method, headers: req.headers, body };
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (req.url === '/health')
          return json(200, { status: 'healthy', version: 'v2', db: { ok: true, pool: 5 } });
        if (req.url === '/down') return json(503, { status: 'unhealthy' });
        if (req.url === '/html') {
          res.writeHead(200, { 'content-type': 'text/html' });
          return res.end('<h1>hi</h1>');
        }
        if (req.url === '/slow') return setTimeout(() => json(200, { status: 'healthy' }), 300);
        if (req.url === '/echo') return json(201, { received: body });
        return json(404, { error: 'no route' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const check = (overrides: Partial<HttpCheck>): HttpCheck => ({
    name: 'Health endpoint',
    kind: 'http',
    url: `${base}/health`,
    method: 'GET',
    headers: {},
    expect_status: 200,
    ...overrides,
  });

  it('passes a healthy endpoint and says what it saw', async () => {
    // Prepare
    const runner = new HttpCheckRunner();

    // Act
    const result = await runner.run(
      check({ expect_body: { status: 'healthy', 'db.ok': true, 'db.pool': '5' }, max_latency: 5 }),
    );

    // Assess
    expect(result).toMatchObject({ name: 'Health endpoint', kind: 'http', passed: true });
    expect(result.detail).toMatch(/^200 in \d+ ms, status=healthy, db\.ok=true, db\.pool=5$/);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('fails on an unexpected status without throwing', async () => {
    // Act
    const result = await new HttpCheckRunner().run(
      check({ url: `${base}/down`, expect_body: { status: 'healthy' } }),
    );

    // Assess
    expect(result.passed).toBe(false);
    expect(result.detail).toMatch(/^503 in \d+ ms, expected 200, status="unhealthy", expected "healthy"$/);
  });

  it('fails when a body field is missing or the body is not JSON', async () => {
    // Prepare
    const runner = new HttpCheckRunner();

    // Act
    const missing = await runner.run(check({ expect_body: { 'build.sha': 'abc' } }));
    const html = await runner.run(check({ url: `${base}/html`, expect_body: { status: 'healthy' } }));

    // Assess
    expect(missing.detail).toMatch(/build\.sha=\(missing\), expected "abc"/);
    expect(html).toMatchObject({ passed: false });
    expect(html.detail).toMatch(/body is not JSON/);
  });

  it('fails an answer slower than max_latency, given in seconds', async () => {
    // Act
    const result = await new HttpCheckRunner().run(check({ url: `${base}/slow`, max_latency: 0.1 }));

    // Assess
    expect(result.passed).toBe(false);
    expect(result.detail).toMatch(/^200 in \d+ ms, slower than 100 ms$/);
  });

  it('fails a request that gets no answer within the timeout', async () => {
    // Act
    const result = await new HttpCheckRunner({ timeoutMs: 50 }).run(check({ url: `${base}/slow` }));

    // Assess
    expect(result).toMatchObject({ passed: false, detail: 'no answer within 50 ms' });
  });

  it('fails a refused connection with the reason', async () => {
    // Prepare
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    // Act
    const result = await new HttpCheckRunner().run(check({ url: `http://127.0.0.1:${port}/health` }));

    // Assess
    expect(result.passed).toBe(false);
    expect(result.detail).toMatch(/^request failed after \d+ ms: ECONNREFUSED$/);
  });

  it('sends the method, headers and body it is configured with', async () => {
    // Act
    const result = await new HttpCheckRunner().run(
      check({
        url: `${base}/echo`,
        method: 'POST',
        headers: { 'x-smoke-test': 'yes', 'content-type': 'text/plain' },
        body: 'ping',
        expect_status: 201,
        expect_body: { received: 'ping' },
      }),
    );

    // Assess
    expect(result.passed).toBe(true);
    expect(seen).toMatchObject({ method: 'POST', body: 'ping', headers: { 'x-smoke-test': 'yes' } });
  });

  it('throws BadRequestError for a check of another kind', async () => {
    // Prepare
    const sql = { name: 'Rows', kind: 'sql', url_env: 'DB', query: 'select 1' } as Check;

    // Act
    const run = new HttpCheckRunner().run(sql);

    // Assess
    await expect(run).rejects.toThrow(BadRequestError);
  });
});
