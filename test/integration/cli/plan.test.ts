import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type DeploymentPlan, planHash } from '../../../functions/shared/plan.js';
import type { GateResult } from '../../../functions/shared/ports/deployment-store.js';
import { LocalTracker, type NewTask } from '../../../local/adapters/local-tracker.js';
import { openDatabase } from '../../../local/adapters/sqlite-database.js';
import { SqliteDeploymentStore } from '../../../local/adapters/sqlite-deployment-store.js';
import { demoTaskFields } from '../../../local/demo.js';
import { runCli } from '../../fixtures/cli.js';
import { type FakeClickUp, startFakeClickUp } from '../../fixtures/fake-clickup.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const DEMO_CONFIG = join(ROOT, 'examples/demo/devops-agent.yaml');

/** The seed's plan sections, in order. */
const SECTIONS = [
  '## Pre-Deploy Checklist',
  '## Deployment Steps',
  '## Verification Plan',
  '## Monitoring Plan',
  '## Rollback Plan',
  '## Risk Assessment',
  '## Success Criteria',
];

/** One service on list L1 whose gates need no network: a command step and the QA sign-off. */
const SIGN_OFF_CONFIG = `services:
  - name: app
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: "L1" }
    gates: { ci: false, pr_merged: false, sign_off: [QA], alarms_clear: false }
    steps: [{ name: Deploy, kind: command, run: [node, -e, "0"] }]
`;

/** Runs one command line in-process with captured output. */
const cli = (argv: string[], cwd: string, env: Record<string, string> = {}) => runCli(argv, { cwd, env });

/** A working directory with `config` as devops-agent.yaml and a data dir holding `tasks` in the embedded tracker. */
const prepareLocal = async (config: string, tasks: NewTask[]) => {
  const dir = mkdtempSync(join(tmpdir(), 'devops-agent-plan-'));
  writeFileSync(join(dir, 'devops-agent.yaml'), config);
  const dataDir = join(dir, 'data');
  const db = openDatabase(join(dataDir, 'devops-agent.db'));
  const tracker = new LocalTracker(db);
  const created = [];
  for (const task of tasks) created.push(await tracker.createTask(task));
  db.close();
  return { dir, dataDir, ids: created.map((t) => t.id) };
};

/** The files of a folder with the SHA-256 of each. */
const files = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((name) => [
      name,
      createHash('sha256')
        .update(readFileSync(join(dir, name)))
        .digest('hex'),
    ]);

/** What `plan` must leave alone in the data dir: the task, its comments and the deployments. */
const snapshot = async (dataDir: string, taskId: string) => {
  const db = openDatabase(join(dataDir, 'devops-agent.db'));
  try {
    const tracker = new LocalTracker(db);
    return {
      task: await tracker.getTask(taskId),
      comments: await tracker.getComments(taskId),
      deployments: await new SqliteDeploymentStore(db).listDeployments(),
    };
  } finally {
    db.close();
  }
};

describe('devops-agent plan on the embedded tracker', () => {
  it("prints the demo task's plan with the seed's sections, exits 0 and writes nothing", async () => {
    // Prepare
    const { dir, dataDir, ids } = await prepareLocal('', [
      {
        name: 'User Notifications',
        listId: 'demo-list',
        status: 'Ready to Deploy',
        customFields: demoTaskFields('v2'),
      },
    ]);
    const [id = ''] = ids;
    const names = readdirSync(dataDir).sort();
    const before = await snapshot(dataDir, id);

    // Act
    const result = await cli(['plan', id, '--config', DEMO_CONFIG, '--data-dir', dataDir], dir);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^# Deployment Plan: User Notifications\n/);
    const positions = SECTIONS.map((s) => result.stdout.indexOf(`\n${s}\n`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(result.stdout).toContain(`task ${id}`);
    expect(result.stdout).toContain('- [x] PR merged: https://github.com/acme/notifications/pull/42');
    expect(result.stdout).toContain('- [x] QA approved: QA: Approved');
    expect(result.stdout).toContain('1. **Database migration** (command)');
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(
      /^✓ Ready: every gate passed \(\d+\); a deployment now would reach the approval\.$/,
    );
    expect(result.code).toBe(0);
    expect(readdirSync(dataDir).sort()).toEqual(names);
    expect(await snapshot(dataDir, id)).toEqual(before);
    expect(before.deployments).toEqual([]);
    expect(before.comments).toEqual([]);
    expect(before.task.status).toBe('Ready to Deploy');
  });

  it('leaves the data dir byte for byte as it was and exits 0 when every gate passes', async () => {
    // Prepare
    const { dir, dataDir, ids } = await prepareLocal(SIGN_OFF_CONFIG, [
      { name: 'Release', listId: 'L1', status: 'Ready to Deploy', customFields: { QA: 'Approved' } },
    ]);
    const before = files(dataDir);

    // Act
    const result = await cli(['plan', ids[0] ?? '', '--data-dir', 'data'], dir);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('- [x] QA approved: QA: Approved');
    expect(files(dataDir)).toEqual(before);
  });

  it("counts the data dir's recent rollbacks in the risk, as a deployment's plan would", async () => {
    // Prepare
    const { dir, dataDir, ids } = await prepareLocal(SIGN_OFF_CONFIG, [
      { name: 'Release', listId: 'L1', status: 'Ready to Deploy', customFields: { QA: 'Approved' } },
    ]);
    const db = openDatabase(join(dataDir, 'devops-agent.db'));
    const at = new Date().toISOString();
    await new SqliteDeploymentStore(db).createDeployment({
      deploymentId: 'd-earlier',
      taskId: 'local-earlier',
      taskName: 'Earlier release',
      service: 'app',
      environment: 'production',
      trigger: 'status',
      status: 'rolled-back',
      stage: 'Done',
      createdAt: at,
      updatedAt: at,
      steps: [],
    });
    db.close();
    const before = files(dataDir);

    // Act
    const result = await cli(['plan', ids[0] ?? '', '--data-dir', 'data'], dir);

    // Assess
    expect(result.stdout).toContain('- 1 deployment of app rolled back in the last 30 days (d-earlier)');
    expect(result.code).toBe(0);
    expect(files(dataDir)).toEqual(before);
  });

  it('prints the plan and exits 3 with the reason when a gate fails', async () => {
    // Prepare
    const { dir, ids } = await prepareLocal(SIGN_OFF_CONFIG, [
      { name: 'Release', listId: 'L1', status: 'Ready to Deploy', customFields: { QA: 'Pending' } },
    ]);

    // Act
    const result = await cli(['plan', ids[0] ?? '', '--data-dir', 'data'], dir);

    // Assess
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('# Deployment Plan: Release');
    expect(result.stdout).toContain('- [ ] QA approved: QA: Pending');
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(
      '✗ Not ready: 1 of 2 gates did not pass, so a deployment now would stop at the gates — "QA approved" failed: set the task\'s "QA" field to Approved once the review is done',
    );
    expect(result.stderr).toBe('');
  });

  it('prints the plan and exits 3 naming the error when a gate cannot be evaluated', async () => {
    // Prepare
    const config = `services:
  - name: app
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: "L1" }
    repository: acme/app
    gates: { ci: true, pr_merged: false, sign_off: [], alarms_clear: false }
    steps: [{ name: Deploy, kind: command, run: [node, -e, "0"] }]
`;
    const { dir, ids } = await prepareLocal(config, [
      { name: 'Release', listId: 'L1', status: 'Ready to Deploy', customFields: { PR: '7' } },
    ]);

    // Act
    const result = await cli(
      ['plan', ids[0] ?? '', '--data-dir', 'data', '--source-control-fixture', 'missing.json'],
      dir,
    );

    // Assess
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('- [?] CI green: could not be evaluated');
    expect(result.stdout).toContain(
      `"CI green" could not be evaluated: BadRequestError: cannot read the source-control fixture ${join(dir, 'missing.json')} (ENOENT)`,
    );
  });

  it('prints {ready, hash, risk, gates, plan, markdown} for --json, the hash being the plan’s', async () => {
    // Prepare
    const { dir, ids } = await prepareLocal(SIGN_OFF_CONFIG, [
      { name: 'Release', listId: 'L1', status: 'Ready to Deploy', customFields: { QA: 'Pending' } },
    ]);

    // Act
    const result = await cli(['plan', ids[0] ?? '', '--data-dir', 'data', '--json'], dir);

    // Assess
    const output = JSON.parse(result.stdout) as {
      ready: boolean;
      hash: string;
      risk: string;
      gates: GateResult[];
      plan: DeploymentPlan;
      markdown: string;
    };
    expect(Object.keys(output)).toEqual(['ready', 'hash', 'risk', 'gates', 'plan', 'markdown']);
    expect(output.ready).toBe(false);
    expect(output.hash).toBe(planHash(output.plan));
    expect(output.risk).toBe(output.plan.risk.level);
    expect(output.gates.find((g) => g.name === 'QA approved')).toMatchObject({ passed: false });
    expect(output.markdown).toContain('## Rollback Plan');
    expect(result.code).toBe(3);
  });

  it('exits 1 naming the task and the tracker when the task does not exist', async () => {
    // Prepare
    const { dir, dataDir } = await prepareLocal(SIGN_OFF_CONFIG, []);

    // Act
    const result = await cli(['plan', 'local-000000', '--data-dir', 'data'], dir);

    // Assess
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `devops-agent: task local-000000 not found in the embedded tracker (${join(dataDir, 'devops-agent.db')}); check the task id in the console of devops-agent local, or pass the --data-dir it runs with\n`,
    });
  });

  it('exits 1 with the configured lists when no service is configured for the task’s list', async () => {
    // Prepare
    const { dir, ids } = await prepareLocal(SIGN_OFF_CONFIG, [
      { name: 'Elsewhere', listId: 'L9', status: 'Ready to Deploy' },
    ]);

    // Act
    const result = await cli(['plan', ids[0] ?? '', '--data-dir', 'data'], dir);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `devops-agent: task ${ids[0]} is in list L9, which no service is configured for (services: app (list L1))\n`,
    );
  });
});

describe('devops-agent plan on ClickUp', () => {
  let clickup: FakeClickUp | undefined;
  afterEach(async () => {
    await clickup?.stop();
    clickup = undefined;
  });

  const config = `services:
  - name: app
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: "901" }
    gates: { ci: false, pr_merged: false, sign_off: ["Security Review"], alarms_clear: false }
    steps: [{ name: Deploy, kind: command, run: [node, -e, "0"] }]
`;
  const securityReview = (value: number) => ({
    id: 'f-sec',
    name: 'Security Review',
    type: 'drop_down',
    type_config: {
      options: [
        { id: 'opt-pending', name: 'Pending', orderindex: 0 },
        { id: 'opt-approved', name: 'Approved', orderindex: 1 },
      ],
    },
    value,
  });

  it('reads the task with GET requests only: no comment, no status change', async () => {
    // Prepare
    clickup = await startFakeClickUp();
    clickup.addList('901', 'Releases', ['Ready to Deploy', 'Deployed']);
    clickup.addTask({
      id: '86rel',
      name: 'Release 7',
      listId: '901',
      status: 'Ready to Deploy',
      customFields: [securityReview(1)],
    });
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-plan-'));
    writeFileSync(join(dir, 'devops-agent.yaml'), config);
    const env = { CLICKUP_API_TOKEN: clickup.token, CLICKUP_API_URL: clickup.url };

    // Act
    const result = await cli(['plan', '86rel'], dir, env);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('# Deployment Plan: Release 7');
    expect(result.stdout).toContain('- [x] Security Review approved: Security Review: Approved');
    expect(result.code).toBe(0);
    expect(clickup.requests.length).toBeGreaterThan(0);
    expect(clickup.requests.map((r) => r.method)).toEqual(clickup.requests.map(() => 'GET'));
    expect(clickup.commentTexts('86rel')).toEqual([]);
    expect(clickup.statusOf('86rel')).toBe('Ready to Deploy');
    // the embedded tracker is not consulted, so its data dir is neither needed nor created
    expect(readdirSync(dir)).toEqual(['devops-agent.yaml']);
  });

  it('exits 1 naming the task and ClickUp when ClickUp does not know the task', async () => {
    // Prepare
    clickup = await startFakeClickUp();
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-plan-'));
    writeFileSync(join(dir, 'devops-agent.yaml'), config);

    // Act
    const result = await cli(['plan', '86gone'], dir, {
      CLICKUP_API_TOKEN: clickup.token,
      CLICKUP_API_URL: clickup.url,
    });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^devops-agent: task 86gone not found in ClickUp \(.*404.*\); check the task id/,
    );
  });
});
