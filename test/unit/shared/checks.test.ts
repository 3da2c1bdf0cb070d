import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runChecks, takeBaselines } from '../../../functions/shared/checks.js';
import type { Check, HttpCheck, SqlCheck } from '../../../functions/shared/config/schema.js';
import type { CheckResult } from '../../../functions/shared/ports/deployment-store.js';
import type {
  CheckBaseline,
  CheckRunner,
  CheckRunOptions,
} from '../../../functions/shared/ports/step-runner.js';
import { HttpCheckRunner } from '../../../local/adapters/http-check-runner.js';
import { FakeClock } from '../../fixtures/fakes.js';

/** Fails `failures` times, then passes; records what each attempt was told. */
class CountingRunner implements CheckRunner {
  readonly attempts: CheckRunOptions[] = [];
  constructor(
    private failures: number,
    private readonly clock?: FakeClock,
    private readonly secondsPerAttempt = 0,
  ) {}
  async run(check: Check, options: CheckRunOptions = {}): Promise<CheckResult> {
    this.attempts.push(options);
    this.clock?.advance(this.secondsPerAttempt);
    const passed = this.failures <= 0;
    this.failures -= 1;
    return { name: check.name, kind: check.kind, passed, detail: passed ? 'ok' : 'not yet', durationMs: 1 };
  }
}

const http = (overrides: Partial<HttpCheck> = {}): HttpCheck => ({
  name: 'API health',
  kind: 'http',
  url: 'http://127.0.0.1:1/health',
  method: 'GET',
  headers: {},
  expect_status: 200,
  retries: 3,
  retry_interval: 1,
  ...overrides,
});

const sql = (overrides: Partial<SqlCheck> = {}): SqlCheck => ({
  name: 'No notifications lost',
  kind: 'sql',
  url_env: 'DB_URL',
  query: 'SELECT COUNT(*) FROM notifications',
  expect_not_less_than_before: true,
  timeout: 10,
  retries: 0,
  retry_interval: 5,
  ...overrides,
});

describe('runChecks', () => {
  describe('against a real endpoint', () => {
    let server: Server;
    let base: string;
    let answered = 0;

    beforeAll(async () => {
      server = createServer((_req, res) => {
        answered += 1;
        // the service behind a fresh rollout: unavailable for two requests, then healthy
        const healthy = answered > 2;
        res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: healthy ? 'healthy' : 'starting' }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('retries an endpoint that answers 503 twice until it answers 200', async () => {
      // Prepare
      const check = http({ url: `${base}/health`, expect_body: { status: 'healthy' }, retry_interval: 0.01 });
      const clock = {
        now: () => new Date(),
        sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
      };

      // Act
      const [result] = await runChecks([check], 30, { checks: { http: new HttpCheckRunner() }, clock });

      // Assess
      expect(answered).toBe(3);
      expect(result?.passed).toBe(true);
      expect(result?.detail).toMatch(/^200 in \d+ ms, status=healthy \(attempt 3\)$/);
    });
  });

  it('stops after the check’s retries and returns the last failure with the attempt count', async () => {
    // Prepare
    const clock = new FakeClock();
    const runner = new CountingRunner(10);

    // Act
    const [result] = await runChecks([http({ retries: 2, retry_interval: 5 })], 300, {
      checks: { http: runner },
      clock,
    });

    // Assess
    expect(runner.attempts).toHaveLength(3);
    expect(result).toMatchObject({ passed: false, detail: 'not yet (attempt 3)' });
  });

  it('starts no retry the verification_timeout has no room for', async () => {
    // Prepare
    const clock = new FakeClock();
    const runner = new CountingRunner(100);

    // Act
    const [result] = await runChecks([http({ retries: 100, retry_interval: 1 })], 3, {
      checks: { http: runner },
      clock,
    });

    // Assess
    expect(runner.attempts).toHaveLength(3);
    expect(result?.passed).toBe(false);
  });

  it('tells every attempt the time left of the verification_timeout', async () => {
    // Prepare
    const clock = new FakeClock();
    const runner = new CountingRunner(2, clock, 2);

    // Act
    await runChecks([http({ retries: 5, retry_interval: 1 })], 60, { checks: { http: runner }, clock });

    // Assess
    expect(runner.attempts.map((a) => a.timeoutMs)).toEqual([60_000, 57_000, 54_000]);
  });

  it('reports a check reached after the deadline as not run', async () => {
    // Prepare
    const clock = new FakeClock();
    const slow = new CountingRunner(0, clock, 20);
    const never = new CountingRunner(0);

    // Act
    const results = await runChecks([http(), sql({ expect_not_less_than_before: false })], 10, {
      checks: { http: slow, sql: never },
      clock,
    });

    // Assess
    expect(never.attempts).toHaveLength(0);
    expect(results[1]).toMatchObject({
      name: 'No notifications lost',
      passed: false,
      detail: 'not run: the verification_timeout of 10 s was spent by the checks before it',
    });
  });

  it('keeps retrying a check kind without its own retry policy until the time is spent', async () => {
    // Prepare
    const clock = new FakeClock();
    const runner = new CountingRunner(100);
    const rollout: Check = {
      name: 'Backend rolled out',
      kind: 'rollout',
      namespace: 'n',
      deployment: 'api',
      image: 'i',
    };

    // Act
    await runChecks([rollout], 5, { checks: { rollout: runner }, clock });

    // Assess
    expect(runner.attempts).toHaveLength(5);
  });

  it('hands each check the baseline read before the deploy', async () => {
    // Prepare
    const runner = new CountingRunner(0);

    // Act
    await runChecks(
      [sql()],
      60,
      { checks: { sql: runner }, clock: new FakeClock() },
      {
        'No notifications lost': '1500',
      },
    );

    // Assess
    expect(runner.attempts[0]).toMatchObject({ baseline: '1500' });
  });
});

describe('takeBaselines', () => {
  it('collects the values the checks compare with later and names the ones it could not read', async () => {
    // Prepare
    const baseline = async (check: Check): Promise<CheckBaseline | undefined> => {
      if (check.name === 'Count') return { name: check.name, value: '1500', detail: 'value=1500' };
      if (check.name === 'Down')
        return { name: check.name, detail: 'cannot connect to PostgreSQL (DB_URL): ECONNREFUSED' };
      return undefined;
    };
    const runner: CheckRunner = {
      run: async () => ({ name: '', kind: 'sql', passed: true, detail: '', durationMs: 0 }),
      baseline,
    };

    // Act
    const taken = await takeBaselines(
      [sql({ name: 'Count' }), sql({ name: 'Down' }), sql({ name: 'Plain' }), http()],
      60,
      {
        checks: { sql: runner, http: new CountingRunner(0) },
        clock: new FakeClock(),
      },
    );

    // Assess
    expect(taken).toEqual({
      baselines: { Count: '1500' },
      problems: ['Down: cannot connect to PostgreSQL (DB_URL): ECONNREFUSED'],
    });
  });
});
