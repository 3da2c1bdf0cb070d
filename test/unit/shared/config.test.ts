import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configIssueAt, parseConfig } from '../../../functions/shared/config/load.js';
import { settingsFor } from '../../../functions/shared/config/resolve.js';
import { ConfigError } from '../../../functions/shared/errors.js';

const minimal = `
services:
  - name: notifications
    tracker: { list_id: "L1" }
    steps:
      - name: Deploy backend
        kind: command
        run: [node, deploy.js]
    approvers: [{ email: lead@example.com }]
`;

const issuesOf = (text: string) => {
  try {
    parseConfig(text, 'devops-agent.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('parseConfig', () => {
  it('fills the seed defaults for the agent settings', () => {
    // Act
    const config = parseConfig(minimal, 'devops-agent.yaml');

    // Assess
    expect(config.devops_agent).toMatchObject({
      poll_interval: 300,
      require_human_approval: true,
      monitoring_period: 3600,
      auto_rollback_enabled: true,
      rollback_triggers: { error_rate: 1, response_time_p99: 1000, health_check_failures: 3 },
      verification_timeout: 300,
      input_status: 'Ready to Deploy',
      output_status: 'Deployed',
    });
  });

  it('reads the seed configuration block unchanged', () => {
    // Prepare
    const seed = `devops_agent:
  poll_interval: 300
  require_human_approval: true
  monitoring_period: 60
  auto_rollback_enabled: true
  rollback_triggers:
    error_rate: 1.0
    response_time_p99: 1000
    health_check_failures: 3
  verification_timeout: 300
  input_status: "Ready to Deploy"
  output_status: "Deployed"
${minimal}`;

    // Act
    const config = parseConfig(seed, 'seed.yaml');
    const [service] = config.services;
    if (!service) throw new Error('no service');
    const settings = settingsFor(config, service);

    // Assess
    expect(settings).toMatchObject({
      monitoringPeriodSeconds: 3600,
      requireApproval: true,
      autoRollback: true,
    });
  });

  it('bakes with the seed rules by default: alarms firing at the start ignored, unreadable alarms breaching', () => {
    // Act
    const config = parseConfig(minimal, 'devops-agent.yaml');

    // Assess
    expect(config.services[0]?.monitoring).toMatchObject({
      alarms_firing_at_start: 'ignore',
      unreadable_alarms: 'breaching',
    });
  });

  it('fills the alarm defaults in a monitoring block that sets other keys, and reads the other values', () => {
    // Act
    const config = parseConfig(
      `${minimal}    monitoring: { alarms: [api-5xx], alarms_firing_at_start: breach, unreadable_alarms: notBreaching }\n` +
        `  - name: api\n    tracker: { list_id: "L2" }\n    steps: [{ name: Deploy, kind: command, run: [x] }]\n` +
        `    approvers: [{ email: lead@example.com }]\n    monitoring: { alarms: [api-p99] }\n`,
      'devops-agent.yaml',
    );

    // Assess
    expect(
      config.services.map((s) => [s.monitoring.alarms_firing_at_start, s.monitoring.unreadable_alarms]),
    ).toEqual([
      ['breach', 'notBreaching'],
      ['ignore', 'breaching'],
    ]);
  });

  it('names the allowed values of a wrong unreadable_alarms or alarms_firing_at_start', () => {
    // Act
    const unreadable = issuesOf(`${minimal}    monitoring: { unreadable_alarms: ignore }\n`);
    const firing = issuesOf(`${minimal}    monitoring: { alarms_firing_at_start: fail }\n`);

    // Assess
    expect(unreadable.issues).toEqual([
      expect.objectContaining({
        path: 'services[0].monitoring.unreadable_alarms',
        message: 'expected unreadable_alarms to be one of breaching, notBreaching',
      }),
    ]);
    expect(firing.issues).toEqual([
      expect.objectContaining({
        path: 'services[0].monitoring.alarms_firing_at_start',
        message: 'expected alarms_firing_at_start to be one of ignore, breach',
      }),
    ]);
  });

  it('accepts durations with units', () => {
    // Act
    const config = parseConfig(`devops_agent:\n  monitoring_period: 90s\n${minimal}`, 'f.yaml');

    // Assess
    expect(config.devops_agent.monitoring_period).toBe(90);
  });

  it('names the file, line and field of an unknown step kind', () => {
    // Act
    const error = issuesOf(minimal.replace('kind: command', 'kind: helm'));

    // Assess
    expect(error.issues).toEqual([
      expect.objectContaining({ file: 'devops-agent.yaml', line: 7, path: 'services[0].steps[0].kind' }),
    ]);
    expect(error.message).toContain('unknown step kind; expected one of command, kubernetes');
  });

  it('refuses a service that needs approval but lists no approvers, saying how to fix it', () => {
    // Act
    const error = issuesOf(minimal.replace('    approvers: [{ email: lead@example.com }]\n', ''));

    // Assess
    expect(error.issues[0]).toMatchObject({ path: 'services[0].approvers' });
    expect(error.issues[0]?.message).toMatch(/lists no approvers, so nobody could approve it; add approvers/);
  });

  it('refuses a quorum larger than the approvers listed', () => {
    // Act
    const error = issuesOf(`${minimal}    approval: { quorum: 2 }\n`);

    // Assess
    expect(error.issues[0]).toMatchObject({ path: 'services[0].approval.quorum' });
    expect(error.issues[0]?.message).toMatch(/quorum \(2\) is more than the 1 approver/);
  });

  it('names a missing required field', () => {
    // Act
    const error = issuesOf(minimal.replace('    tracker: { list_id: "L1" }\n', ''));

    // Assess
    expect(error.issues[0]).toMatchObject({ path: 'services[0].tracker', line: 3 });
    expect(error.issues[0]?.message).toMatch(/required field is missing/);
  });

  it('rejects an unknown field with a hint', () => {
    // Act
    const error = issuesOf(`devops_agent:\n  monitoring_periode: 60\n${minimal}`);

    // Assess
    expect(error.issues[0]).toMatchObject({
      line: 2,
      message: expect.stringContaining('unknown field "monitoring_periode"'),
    });
  });

  it('reports YAML syntax errors with their line', () => {
    // Act
    const error = issuesOf('services:\n  - name: [unclosed\n');

    // Assess
    expect(error.issues[0]?.message).toMatch(/^YAML syntax/);
    expect(error.issues[0]?.line).toBeGreaterThan(0);
  });

  it('rejects duplicate step names', () => {
    // Act
    const error = issuesOf(
      minimal.replace(
        '    approvers:',
        '      - name: Deploy backend\n        kind: command\n        run: [x]\n    approvers:',
      ),
    );

    // Assess
    expect(error.issues[0]).toMatchObject({
      path: 'services[0].steps[1].name',
      message: expect.stringContaining('used twice'),
    });
  });
});

describe('configIssueAt', () => {
  it('locates a field of a valid file as the loader does, or names the file and field when it cannot', () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'config-issue-')), 'devops-agent.yaml');
    writeFileSync(file, minimal);

    // Act
    const step = configIssueAt(file, ['services', 0, 'steps', 0], 'a problem');
    const missing = configIssueAt(join(file, 'gone.yaml'), ['services', 0], 'a problem');

    // Assess
    expect(step).toEqual({
      file,
      line: 6,
      column: 9,
      path: 'services[0].steps[0]',
      message: 'a problem',
    });
    expect(missing).toEqual({
      file: join(file, 'gone.yaml'),
      line: undefined,
      column: undefined,
      path: 'services[0]',
      message: 'a problem',
    });
  });
});
