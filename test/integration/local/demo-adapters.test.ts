import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type SampleApp, startSampleApp } from '../../../examples/demo/sample-app/server.js';
import { parseConfig } from '../../../functions/shared/config/load.js';
import type { Service, Triggers } from '../../../functions/shared/config/schema.js';
import type { AlarmCheck, AlarmQuery } from '../../../functions/shared/ports/alarm-source.js';
import { systemClock } from '../../../functions/shared/ports/clock.js';
import { CommandStepRunner } from '../../../local/adapters/command-step-runner.js';
import { HttpCheckRunner } from '../../../local/adapters/http-check-runner.js';
import { LocalMonitor } from '../../../local/adapters/local-monitor.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The demo service, pointed at a sample app on a free port. */
const demoService = (app: SampleApp): Service => {
  const text = readFileSync(resolve(ROOT, 'examples/demo/devops-agent.yaml'), 'utf8').replaceAll(
    'http://127.0.0.1:4100',
    app.url,
  );
  const service = parseConfig(text, 'devops-agent.yaml').services[0];
  if (!service) throw new Error('the demo config has no service');
  return service;
};

const context = (release: string) => ({
  deploymentId: 'dep-it',
  service: 'user-notifications',
  environment: 'production',
  vars: { release, deploymentId: 'dep-it' },
});

const until = async (
  probe: () => Promise<AlarmCheck>,
  done: (check: AlarmCheck) => boolean,
  timeoutMs: number,
): Promise<AlarmCheck> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const check = await probe();
    if (done(check) || Date.now() > deadline) return check;
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('the demo adapters against the sample app', () => {
  let app: SampleApp;

  beforeEach(async () => {
    app = await startSampleApp({ port: 0, trafficIntervalMs: 20 });
  });

  afterEach(async () => {
    await app.close();
  });

  it('runs the demo steps, passes its verification, and undoes the release to v1', async () => {
    // Prepare
    const service = demoService(app);
    const runner = new CommandStepRunner(ROOT);
    const checks = new HttpCheckRunner();
    const [migration, deploy] = service.steps;
    if (!migration || !deploy) throw new Error('expected two demo steps');

    // Act
    const migrated = await runner.run(migration, context('v2'));
    const deployed = await runner.run(deploy, context('v2'));
    const servedAfterDeploy = app.version();
    const verification = await Promise.all(service.verification.map((c) => checks.run(c)));
    const migrationUndo = await runner.undo(migration, migrated.undo, context('v2'));
    const deployUndo = await runner.undo(deploy, deployed.undo, context('v2'));

    // Assess
    expect(migrated.summary).toMatch(/^applied 0042_add_notification_preferences for v2/);
    expect(deployed).toMatchObject({
      summary: expect.stringMatching(/^release v2 is live \(was v1\) \(exit 0, /),
      undo: { previous: 'v1' },
    });
    expect(servedAfterDeploy).toBe('v2');
    expect(verification.map((r) => [r.name, r.passed])).toEqual([
      ['Health endpoint', true],
      ['Version endpoint', true],
    ]);
    expect(verification[0]?.detail).toMatch(/^200 in \d+ ms, status=healthy$/);
    expect(migrationUndo).toEqual({ summary: 'nothing to undo', kept: true });
    expect(deployUndo.summary).toMatch(/^release v1 is live \(was v2\) \(exit 0, /);
    expect(app.version()).toBe('v1');
  });

  it('fails the deploy step with the sample app refusing a bad release name', async () => {
    // Prepare
    const deploy = demoService(app).steps[1];
    if (!deploy) throw new Error('expected the deploy step');

    // Act
    const error = await new CommandStepRunner(ROOT)
      .run(deploy, context('$(touch pwned)'))
      .catch((e: unknown) => e);

    // Assess
    expect(String(error)).toMatch(
      /StepFailedError: Deploy backend: run .* exited with code 1 .*refused release/,
    );
    expect((error as { undo?: Record<string, string> }).undo).toEqual({ previous: 'v1' });
    expect(app.version()).toBe('v1');
  });

  it('watches a healthy release without breaching and a bad one until it breaches', async () => {
    // Prepare
    const service = demoService(app);
    const monitoring = { ...service.monitoring, check_interval: 0.2 };
    const monitor = new LocalMonitor(() => monitoring, systemClock);
    const triggers: Triggers = {
      error_rate: 1,
      error_rate_for: 1,
      response_time_p99: 1000,
      response_time_p99_for: 1,
      health_check_failures: 3,
    };
    const query = (since: string): AlarmQuery => ({
      service: 'user-notifications',
      environment: 'production',
      triggers,
      alarms: [],
      since,
      firingAtStart: 'ignore',
      unreadable: 'breaching',
    });
    const healthySince = new Date().toISOString();

    // Act
    const healthy = await until(
      () => monitor.check(query(healthySince)),
      (c) => c.breached || (c.metrics.requests ?? 0) > 40,
      5000,
    );
    await fetch(`${app.url}/admin/release`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: 'v2-bad', BAD_RELEASE_DELAY_MS: 300 }),
    });
    const badSince = new Date().toISOString();
    const bad = await until(
      () => monitor.check(query(badSince)),
      (c) => c.reasons.some((r) => r.startsWith('error rate')),
      15_000,
    );

    // Assess
    expect(healthy).toMatchObject({ breached: false, metrics: { errorRate: 0, healthFailures: 0 } });
    expect(bad.breached).toBe(true);
    expect(bad.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^error rate \d+\.\d% > 1% for 1s$/),
        expect.stringMatching(/^\d+ failed health checks in a row \(last: 503\)$/),
      ]),
    );
    expect(bad.metrics.errorRate).toBeGreaterThan(20);
  });
});
