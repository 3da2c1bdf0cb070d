import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type SampleApp, startSampleApp } from '../../../examples/demo/sample-app/server.js';
import { loadConfigFile } from '../../../functions/shared/config/load.js';
import type { ApiDeployment } from '../../../local/api-routes.js';
import { demoConfigText, demoTaskFields } from '../../../local/demo.js';
import { embeddedTracker, type LocalRuntime, startLocalRuntime } from '../../../local/runtime.js';
import { runCli } from '../../fixtures/cli.js';
import { silentLogger } from '../../fixtures/fakes.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const APPROVER = 'demo@example.com';
const STRANGER = 'mallory@example.com';

/**
 * The operating commands against a real local runtime: the demo configuration (its command steps, checks
 * and sample app) with a short bake, the embedded tracker, and the commands run in-process over HTTP.
 */
let app: SampleApp;
let runtime: LocalRuntime;
let url: string;

const cli = (argv: string[]) => runCli([...argv, '--url', url], { cwd: ROOT });

/** A task of the demo's list that is not in the input status: only `devops-agent deploy` starts it. */
const newTask = async (name: string) =>
  (
    await embeddedTracker(runtime).createTask({
      name,
      listId: 'demo-list',
      status: 'In Review',
      customFields: demoTaskFields('v2'),
    })
  ).id;

const statusOf = async (taskId: string): Promise<ApiDeployment> => {
  const result = await cli(['status', taskId, '--json']);
  expect(result.code).toBe(0);
  const [deployment] = (JSON.parse(result.stdout) as { deployments: ApiDeployment[] }).deployments;
  if (!deployment) throw new Error(`no deployment of ${taskId}`);
  return deployment;
};

/** Polls `status --json` until the task's deployment is in `status`. */
const waitFor = async (taskId: string, status: string, timeoutMs = 45_000): Promise<ApiDeployment> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const deployment = await statusOf(taskId);
    if (deployment.status === status) return deployment;
    if (deployment.finished || Date.now() > deadline)
      throw new Error(`${taskId} is ${deployment.status}, not ${status}: ${JSON.stringify(deployment)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

beforeAll(async () => {
  app = await startSampleApp({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'devops-agent-operate-'));
  const file = join(dir, 'devops-agent.yaml');
  const text = demoConfigText(app.port);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, text);
  const config = loadConfigFile(file);
  for (const service of config.services) {
    service.monitoring.period = 12;
    service.monitoring.report_interval = 3;
  }
  runtime = await startLocalRuntime({
    config,
    dataDir: join(dir, 'data'),
    baseDir: ROOT,
    sourceControlFixture: join(ROOT, 'examples/demo/fixtures/source-control.json'),
    port: 0,
    logger: silentLogger,
    retryIntervalMs: 200,
    lockRetryMs: 200,
  });
  url = runtime.url;
});

afterAll(async () => {
  await runtime?.stop();
  await app?.close();
});

describe('devops-agent deploy, status, approve, history against the local runtime', () => {
  it('deploys a task through the approval to Deployed and lists it in the history', async () => {
    // Prepare
    const taskId = await newTask('Release with approval');

    // Act
    const deploy = await cli(['deploy', taskId]);
    const again = await cli(['deploy', taskId]);
    const waiting = await waitFor(taskId, 'awaiting-approval');
    const status = await cli(['status', taskId]);
    const stranger = await cli(['approve', taskId, '--as', STRANGER]);
    const approve = await cli(['approve', taskId, '--as', APPROVER, '--comment', 'ship it']);
    const watch = await cli(['status', taskId, '--watch']);
    const history = await cli(['history']);
    const json = await cli(['history', '--json', '--since', '1h', '--service', 'user-notifications']);

    // Assess
    expect(deploy.stderr).toBe('');
    expect(deploy.code).toBe(0);
    expect(deploy.stdout).toContain(`Started deployment ${taskId}-1 of task ${taskId}.`);
    expect(deploy.stdout).toContain(`watch it: devops-agent status ${taskId} --watch --url ${url}`);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Deployment ${taskId}-1 is already running for task ${taskId}`);
    expect(waiting).toMatchObject({
      trigger: 'cli',
      steps: { done: 0, total: 2 },
      approval: { status: 'pending', approvals: 0, quorum: 1 },
    });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${taskId}-1  "Release with approval" (task ${taskId})`);
    expect(status.stdout).toContain('  steps     0/2');
    expect(status.stdout).toContain(`approval  pending: 0 of 1 approvals`);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toBe(
      `devops-agent: ${STRANGER} is not an approver of this deployment; nothing changed\n`,
    );
    expect(approve.stderr).toBe('');
    expect(approve.code).toBe(0);
    expect(approve.stdout).toContain(`Approved ${taskId}-1 as ${APPROVER} (1 of 1 approvals)`);
    expect(watch.stderr).toBe('');
    expect(watch.code).toBe(0);
    expect(watch.stdout).toMatch(new RegExp(`${taskId}-1 deploying · step \\d/2`));
    expect(watch.stdout).toMatch(new RegExp(`${taskId}-1 monitoring · bake \\d+%`));
    expect(watch.stdout).toContain('  steps     2/2');
    expect(watch.stdout).toContain('  outcome   deployed');
    expect(watch.stdout).toContain(`  approval  approved by ${APPROVER} (approved by ${APPROVER} (cli))`);
    expect(watch.stdout).toContain(`  record    ${url}/artifacts/records/${taskId}-1.md`);
    expect(history.code).toBe(0);
    expect(history.stdout).toContain(`${taskId}-1  deployed  user-notifications/production  task ${taskId}`);
    expect(history.stdout).toContain(`record ${url}/artifacts/records/${taskId}-1.md`);
    expect(history.stdout).toContain('**DORA figures**');
    expect(history.stdout).toMatch(/- Deployment frequency: [\d.]+ per day/);
    const listed = JSON.parse(json.stdout) as {
      deployments: ApiDeployment[];
      dora: { deploymentFrequency: { deployed: number } };
    };
    expect(listed.deployments.map((d) => d.deploymentId)).toContain(`${taskId}-1`);
    expect(listed.dora.deploymentFrequency.deployed).toBeGreaterThanOrEqual(1);
    const record = await fetch(`${url}/artifacts/records/${taskId}-1.md`);
    expect(record.status).toBe(200);
    const audit = await runtime.store.listAudit(`${taskId}-1`);
    expect(audit).toContainEqual(expect.objectContaining({ action: 'deploy-requested', channel: 'cli' }));
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'decision-refused', actor: STRANGER, channel: 'cli' }),
    );
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'approved', actor: APPROVER, channel: 'cli' }),
    );
  });

  it('holds a deployment at the approval with a reason, and refuses a hold without one or by a non-approver', async () => {
    // Prepare
    const taskId = await newTask('Release to hold');
    await cli(['deploy', taskId]);
    await waitFor(taskId, 'awaiting-approval');

    // Act
    const noReason = await cli(['hold', taskId, '--as', APPROVER]);
    const stranger = await cli(['hold', taskId, '--as', STRANGER, '--reason', 'no']);
    const hold = await cli(['hold', taskId, '--as', APPROVER, '--reason', 'freeze until Monday']);
    const watch = await cli(['status', taskId, '--watch']);

    // Assess
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason is required');
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain('is not an approver of this deployment; nothing changed');
    expect(hold.code).toBe(0);
    expect(hold.stdout).toContain(`Held ${taskId}-1 as ${APPROVER}: freeze until Monday`);
    expect(watch.code).toBe(1);
    expect(watch.stdout).toContain('  outcome   held');
    expect(watch.stdout).toContain('  steps     0/2');
  });

  it('rolls back during the bake for an approver and refuses a non-approver', async () => {
    // Prepare
    const taskId = await newTask('Release to roll back');
    await cli(['deploy', taskId]);
    await waitFor(taskId, 'awaiting-approval');
    await cli(['approve', taskId, '--as', APPROVER]);
    await waitFor(taskId, 'monitoring');

    // Act
    const stranger = await cli(['rollback', taskId, '--as', STRANGER, '--reason', 'why not']);
    let rollback = await cli(['rollback', taskId, '--as', APPROVER, '--reason', 'p99 creeping up']);
    // the bake may be between two intervals for a moment: the answer says to run it again
    for (let i = 0; i < 20 && rollback.stderr.includes('between two bake intervals'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      rollback = await cli(['rollback', taskId, '--as', APPROVER, '--reason', 'p99 creeping up']);
    }
    const watch = await cli(['status', taskId, '--watch', '--json']);

    // Assess
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toBe(
      `devops-agent: ${STRANGER} is not a configured approver of user-notifications/production; only approvers may roll back. Nothing changed.\n`,
    );
    expect(rollback.stderr).toBe('');
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain(
      `Rollback of ${taskId}-1 requested: rollback requested by ${APPROVER} from the devops-agent command line: p99 creeping up`,
    );
    expect(watch.code).toBe(1);
    const lines = watch.stdout.trim().split('\n');
    const last = JSON.parse(lines.at(-1) as string) as { deployments: ApiDeployment[] };
    expect(last.deployments[0]).toMatchObject({
      status: 'rolled-back',
      finished: true,
      rollback: { reason: expect.stringContaining('p99 creeping up') },
    });
    const after = await cli(['rollback', taskId, '--as', APPROVER]);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(new RegExp(`^devops-agent: ${taskId}-1 .*rolled-back.*\\n$`));
    const history = await cli(['history']);
    expect(history.stdout).toContain(`${taskId}-1  rolled-back`);
    expect(history.stdout).toContain('  rollback: rollback requested by demo@example.com');
  });

  it('rolls back a Deployed deployment with a rollback run that restores the previous release', async () => {
    // Prepare: a release v3 deployed all the way
    const before = app.version();
    const { id: taskId } = await embeddedTracker(runtime).createTask({
      name: 'Release to undo after Deployed',
      listId: 'demo-list',
      status: 'In Review',
      customFields: demoTaskFields('v3'),
    });
    await cli(['deploy', taskId]);
    await waitFor(taskId, 'awaiting-approval');
    await cli(['approve', taskId, '--as', APPROVER]);
    const deployed = await cli(['status', taskId, '--watch']);
    const live = app.version();

    // Act
    const stranger = await cli(['rollback', taskId, '--as', STRANGER]);
    const rollback = await cli(['rollback', taskId, '--as', APPROVER, '--reason', 'emails go out twice']);
    const runId = `${taskId}-1-rollback`;
    const deadline = Date.now() + 45_000;
    let run = await runtime.store.getDeployment(runId);
    while (!run?.outcome && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      run = await runtime.store.getDeployment(runId);
    }
    const again = await cli(['rollback', taskId, '--as', APPROVER]);

    // Assess
    expect(deployed.code).toBe(0);
    expect(live).toBe('v3');
    expect(stranger.code).toBe(1);
    expect(rollback.stderr).toBe('');
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain(`Rollback of ${runId} requested`);
    expect(run).toMatchObject({ rollbackOf: `${taskId}-1`, outcome: 'rolled-back' });
    expect(run?.rollback?.steps.map((s) => [s.name, s.status])).toEqual([
      ['Deploy backend', 'rolled-back'],
      ['Database migration', 'kept'],
    ]);
    expect(app.version()).toBe(before);
    expect((await runtime.store.getDeployment(`${taskId}-1`))?.rolledBackBy?.deploymentId).toBe(runId);
    const comments = (await embeddedTracker(runtime).comments(taskId)).map((c) => c.text);
    expect(comments.at(-1)).toMatch(new RegExp(`^↩️ ROLLED BACK: ${taskId}-1 was undone on request\\.`));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`already rolled back ${taskId}-1`);
  });

  it('says a task has no deployment and an unknown task is unknown, with exit 1', async () => {
    // Prepare
    const taskId = await newTask('Never deployed');

    // Act
    const status = await cli(['status', taskId]);
    const unknown = await cli(['deploy', 'no-such-task']);
    const nothingWaiting = await cli(['approve', taskId, '--as', APPROVER]);

    // Assess
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(
      `task ${taskId} has no deployment at ${url}; start one with devops-agent deploy ${taskId}`,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no-such-task');
    expect(nothingWaiting.code).toBe(1);
    expect(nothingWaiting.stderr).toContain(
      `nothing to approve: no deployment of task ${taskId} is waiting for approval`,
    );
  });
});
