import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig } from '../../../functions/shared/config/load.js';
import { settingsFor } from '../../../functions/shared/config/resolve.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const FILE = resolve(ROOT, 'examples/demo/devops-agent.yaml');

describe('the demo configuration', () => {
  it('parses and keeps the seed settings with a two-minute bake', () => {
    // Act
    const config = parseConfig(readFileSync(FILE, 'utf8'), FILE);

    // Assess
    expect(config.devops_agent).toMatchObject({
      poll_interval: 300,
      require_human_approval: true,
      monitoring_period: 120,
      auto_rollback_enabled: true,
      rollback_triggers: { error_rate: 1, response_time_p99: 1000, health_check_failures: 3 },
      verification_timeout: 300,
      input_status: 'Ready to Deploy',
      output_status: 'Deployed',
      failure_status: 'Deploy Failed',
    });
  });

  it('describes the User Notifications service on the demo port', () => {
    // Act
    const config = parseConfig(readFileSync(FILE, 'utf8'), FILE);
    const [service] = config.services;

    // Assess
    expect(config.services).toHaveLength(1);
    expect(service).toMatchObject({
      name: 'user-notifications',
      display_name: 'User Notifications',
      tracker: { list_id: 'demo-list' },
      gates: { ci: true, pr_merged: true, sign_off: ['Security Review', 'QA'] },
      approvers: [{ email: 'demo@example.com' }],
      monitoring: {
        report_interval: 30,
        check_interval: 2,
        health_url: 'http://127.0.0.1:4100/health',
        metrics_url: 'http://127.0.0.1:4100/metrics',
        triggers: { error_rate_for: 10, response_time_p99_for: 10 },
      },
    });
    expect(service?.steps.map((s) => [s.name, s.kind])).toEqual([
      ['Database migration', 'command'],
      ['Deploy backend', 'command'],
    ]);
    expect(service?.verification.map((c) => c.kind)).toEqual(['http', 'http']);
    expect(service && settingsFor(config, service)).toMatchObject({
      monitoringPeriodSeconds: 120,
      triggers: { error_rate: 1, error_rate_for: 10, response_time_p99_for: 10, health_check_failures: 3 },
    });
  });

  it('records the served release before switching it and restores it with {{previous}}', () => {
    // Act
    const config = parseConfig(readFileSync(FILE, 'utf8'), FILE);
    const deploy = config.services[0]?.steps.find((s) => s.name === 'Deploy backend');

    // Assess
    expect(deploy).toMatchObject({
      kind: 'command',
      record: expect.arrayContaining(['examples/demo/sample-app/release.ts', 'current']),
      run: expect.arrayContaining(['{{release}}']),
      undo: expect.arrayContaining(['{{previous}}']),
    });
  });
});
