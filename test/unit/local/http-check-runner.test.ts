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
        if (req.url === '/whoami') {
          // a careless debug endpoint: it answers with the credential it was sent
          const credential = req.headers.authorization ?? req.headers['x-api-key'];
          return credential ? json(200, { credential }) : json(401, { error: 'no credential' });
        }
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
    retries: 0,
    retry_interval: 0,
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

  it('sends a Bearer token read through the secret lookup and keeps it out of the result', async () => {
    // Prepare
    const lookedUp: string[] = [];
    const runner = new HttpCheckRunner({
      secret: async (name) => {
        lookedUp.push(name);
        return 's3cr3t-token-value';
      },
    });

    // Act
    const result = await runner.run(
      check({
        url: `${base}/whoami`,
        auth: { secret: 'SMOKE_TOKEN', scheme: 'Bearer' },
        expect_body: { credential: 'x' },
      }),
    );

    // Assess
    expect(lookedUp).toEqual(['SMOKE_TOKEN']);
    expect(seen.headers.authorization).toBe('Bearer s3cr3t-token-value');
    expect(result.passed).toBe(false);
    expect(result.detail).toContain('credential="***"');
    expect(JSON.stringify(result)).not.toContain('s3cr3t-token-value');
  });

  it('sends Basic credentials base64-encoded from a user:password secret', async () => {
    // Prepare
    const runner = new HttpCheckRunner({ secret: async () => 'smoke:pa55word' });

    // Act
    const result = await runner.run(
      check({ url: `${base}/whoami`, auth: { secret: 'SMOKE', scheme: 'Basic' } }),
    );

    // Assess
    const encoded = Buffer.from('smoke:pa55word').toString('base64');
    expect(seen.headers.authorization).toBe(`Basic ${encoded}`);
    expect(result.passed).toBe(true);
    expect(JSON.stringify(result)).not.toContain(encoded);
    expect(JSON.stringify(result)).not.toContain('pa55word');
  });

  it('sends the secret in the header a header:<Name> scheme names, over a configured header', async () => {
    // Prepare
    const runner = new HttpCheckRunner({ secret: async () => 'key-123456' });

    // Act
    const result = await runner.run(
      check({
        url: `${base}/whoami`,
        headers: { 'X-Api-Key': 'placeholder' },
        auth: { secret: 'API_KEY', scheme: 'header:X-Api-Key' },
      }),
    );

    // Assess
    expect(seen.headers['x-api-key']).toBe('key-123456');
    expect(result.passed).toBe(true);
  });

  it('fails without a request when the auth secret is not set, naming the secret and not a value', async () => {
    // Prepare
    const requests: string[] = [];
    const runner = new HttpCheckRunner({
      secret: async () => undefined,
      fetch: async (url) => {
        requests.push(String(url));
        return new Response('{}');
      },
    });

    // Act
    const result = await runner.run(check({ auth: { secret: 'SMOKE_TOKEN', scheme: 'Bearer' } }));

    // Assess
    expect(requests).toEqual([]);
    expect(result).toMatchObject({ passed: false, detail: 'auth secret SMOKE_TOKEN is not set' });
  });

  it('fails a Basic secret that is not user:password, and a lookup that throws, by the error name only', async () => {
    // Prepare
    const notAPair = new HttpCheckRunner({ secret: async () => 'just-a-token' });
    const denied = new HttpCheckRunner({
      secret: async () => {
        const error = new Error('User arn:aws:sts::123:assumed-role/x is not authorized');
        error.name = 'AccessDeniedException';
        throw error;
      },
    });

    // Act
    const basic = await notAPair.run(check({ auth: { secret: 'SMOKE', scheme: 'Basic' } }));
    const throwing = await denied.run(check({ auth: { secret: 'prod/smoke', scheme: 'Bearer' } }));

    // Assess
    expect(basic).toMatchObject({
      passed: false,
      detail: 'auth secret SMOKE should hold user:password for Basic',
    });
    expect(JSON.stringify(basic)).not.toContain('just-a-token');
    expect(throwing).toMatchObject({
      passed: false,
      detail: 'cannot read auth secret prod/smoke: AccessDeniedException',
    });
  });

  it('gives one attempt no more than the time left of the verification', async () => {
    // Act
    const result = await new HttpCheckRunner({ timeoutMs: 10_000 }).run(check({ url: `${base}/slow` }), {
      timeoutMs: 50,
    });

    // Assess
    expect(result).toMatchObject({ passed: false, detail: 'no answer within 50 ms' });
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
