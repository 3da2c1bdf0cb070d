import type { AgentClient, ApiDeployment } from '../../../cli/agent-client.js';
import { parseSince } from '../../../cli/history-command.js';
import type { CliIo } from '../../../cli/io.js';
import { statusCommand } from '../../../cli/status-command.js';
import { runCli } from '../../fixtures/cli.js';
import { freePort } from '../../fixtures/free-port.js';

const COMMANDS: [string, string[]][] = [
  ['deploy', ['deploy', 't1']],
  ['status', ['status']],
  ['approve', ['approve', 't1', '--as', 'lead@example.com']],
  ['hold', ['hold', 't1', '--as', 'lead@example.com', '--reason', 'wait']],
  ['rollback', ['rollback', 't1', '--as', 'lead@example.com']],
  ['history', ['history']],
];

const aView = (overrides: Partial<ApiDeployment>): ApiDeployment => ({
  deploymentId: 't1-1',
  taskId: 't1',
  taskName: 'User Notifications',
  service: 'notifications',
  environment: 'production',
  trigger: 'cli',
  status: 'deploying',
  stage: 'ExecuteStep',
  finished: false,
  createdAt: '2026-11-28T10:00:00.000Z',
  durationSeconds: 12,
  steps: { done: 1, total: 3, current: 'Deploy backend' },
  url: 'http://127.0.0.1:4000/#t1-1',
  ...overrides,
});

/** An agent whose `deployments` answers each view in turn (the last one again once they run out). */
const scripted = (views: ApiDeployment[]): AgentClient => {
  let call = 0;
  const refuse = () => Promise.reject(new Error('not scripted'));
  return {
    where: 'scripted',
    deployments: async () => ({
      now: '2026-11-28T10:00:00.000Z',
      deployments: [views[Math.min(call++, views.length - 1)] as ApiDeployment],
    }),
    deploy: refuse,
    approve: refuse,
    hold: refuse,
    rollback: refuse,
  };
};

const capture = (isTTY: boolean) => {
  let stdout = '';
  const io: CliIo = {
    env: {},
    cwd: '/',
    isTTY,
    stdout: (t) => {
      stdout += t;
    },
    stderr: () => {},
  };
  return { io, out: () => stdout };
};

describe('devops-agent operating commands', () => {
  it.each(COMMANDS)('%s says no local runtime answers and how to start one, exit 1', async (_name, argv) => {
    // Prepare
    const url = `http://127.0.0.1:${await freePort()}`;

    // Act
    const result = await runCli([...argv, '--url', url]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `devops-agent: no devops-agent local runtime answers at ${url}; start it with \`npx devops-agent local\` or \`npm start\` (or pass --url / set DEVOPS_AGENT_URL)\n`,
    );
  });

  it('talks to DEVOPS_AGENT_URL when --url is not given', async () => {
    // Prepare
    const url = `http://127.0.0.1:${await freePort()}`;

    // Act
    const result = await runCli(['status'], { env: { DEVOPS_AGENT_URL: `${url}/` } });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no devops-agent local runtime answers at ${url};`);
  });

  it.each([
    ['deploy', ['--as WHO', '--url URL', 'Exit codes: 0 started']],
    ['status', ['[task-id]', '--watch', '--json', 'step progress', 'Exit codes: 0 shown']],
    ['approve', ['--as WHO', '--comment TEXT', 'self-approval', 'quorum']],
    ['hold', ['--as WHO', '--reason TEXT', 'audit log']],
    ['rollback', ['--as WHO', '--reason TEXT', 'RollbackRequestedError', 'configured approver']],
    ['history', ['--service NAME', '--since 7d|ISO', 'DORA', '--json']],
  ])('prints meaningful help for %s --help and exits 0', async (command, phrases) => {
    // Act
    const result = await runCli([command, '--help']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^devops-agent ${command} `));
    for (const phrase of phrases) expect(result.stdout).toContain(phrase);
  });

  it('lists the operating commands in devops-agent --help', async () => {
    // Act
    const result = await runCli(['--help']);

    // Assess
    for (const command of [
      'deploy <task-id>',
      'status [task-id]',
      'approve <task-id> --as WHO',
      'hold <task-id>',
      'rollback <task-id> --as WHO',
      'history',
    ])
      expect(result.stdout).toContain(command);
  });

  it.each([
    [['deploy'], 'deploy: missing <task-id>'],
    [['approve', 't1'], 'approve: --as is required'],
    [['hold', 't1', '--as', 'a@b.c'], 'hold: --reason is required'],
    [['rollback', 't1'], 'rollback: --as is required'],
    [['status', 't1', 't2'], 'status: unexpected argument "t2": it takes only [task-id]'],
    [['history', '--since', 'last week'], 'history: --since: "last week" is neither a duration'],
    [['status', '--url', 'ftp://example.com'], 'status: --url: expected an http URL'],
  ])('exits 2 on the wrong command line %j, naming the problem', async (argv, message) => {
    // Act
    const result = await runCli(argv);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('reads --since as a duration ago or an ISO date', () => {
    // Prepare
    const now = new Date('2026-11-28T10:00:00.000Z');

    // Act
    const days = parseSince('7d', now);
    const hours = parseSince('12h', now);
    const date = parseSince('2026-11-01', now);
    const wrong = parseSince('yesterday', now);

    // Assess
    expect(days).toBe('2026-11-21T10:00:00.000Z');
    expect(hours).toBe('2026-11-27T22:00:00.000Z');
    expect(date).toBe('2026-11-01T00:00:00.000Z');
    expect(wrong).toBeUndefined();
  });

  it('status --watch on a terminal redraws one spinner line and exits 0 when the deployment is Deployed', async () => {
    // Prepare
    const { io, out } = capture(true);
    const agent = scripted([
      aView({}),
      aView({
        status: 'monitoring',
        stage: 'Monitor',
        steps: { done: 3, total: 3 },
        bake: { startedAt: '', endsAt: '', elapsedSeconds: 30, totalSeconds: 120, percent: 25 },
      }),
      aView({
        status: 'deployed',
        stage: 'Finalize',
        finished: true,
        outcome: 'deployed',
        steps: { done: 3, total: 3 },
      }),
    ]);

    // Act
    const code = await statusCommand(['t1', '--watch'], io, () => agent, 1);

    // Assess
    expect(code).toBe(0);
    expect(out()).toContain('\r\x1b[2K⠋ t1-1 deploying · step 1/3 Deploy backend · 12s');
    expect(out()).toContain('\r\x1b[2K⠙ t1-1 monitoring · bake 25% (30s of 2 min) · 12s');
    expect(out()).toContain('  outcome   deployed');
  });

  it('status --watch without a terminal prints a line per change and exits 1 when it ends rolled back', async () => {
    // Prepare
    const { io, out } = capture(false);
    const agent = scripted([
      aView({}),
      aView({}),
      aView({
        status: 'rolled-back',
        stage: 'Finalize',
        finished: true,
        outcome: 'rolled-back',
        rollback: { reason: 'error rate 5%', steps: { done: 2, total: 2 } },
      }),
    ]);

    // Act
    const code = await statusCommand(['t1', '--watch'], io, () => agent, 1);

    // Assess
    expect(code).toBe(1);
    expect(out()).not.toContain('\r');
    expect(
      out()
        .split('\n')
        .filter((l) => l.startsWith('t1-1 deploying')),
    ).toHaveLength(1);
    expect(out()).toContain('t1-1 rolled-back after 12s');
    expect(out()).toContain('  rollback  error rate 5% (2/2 steps undone)');
  });

  it('says when the report to the task could not be made, so the outcome shown here is the true one', async () => {
    // Prepare
    const { io, out } = capture(false);
    const agent = scripted([
      aView({
        status: 'deployed',
        stage: 'Finalize',
        finished: true,
        outcome: 'deployed',
        reportError: { name: 'TransientDependencyError', message: 'ClickUp PUT /v2/task/t1 answered 503' },
      }),
    ]);

    // Act
    await statusCommand(['t1'], io, () => agent, 1);

    // Assess
    expect(out()).toContain('  outcome   deployed');
    expect(out()).toContain(
      '  report    could not be made, so the task may not show this outcome: TransientDependencyError: ClickUp PUT /v2/task/t1 answered 503',
    );
  });
});
