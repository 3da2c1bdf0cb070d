import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickUpClient } from '../../../functions/shared/adapters/clickup-client.js';
import { ClickUpTracker } from '../../../functions/shared/adapters/clickup-tracker.js';
import { parseConfig } from '../../../functions/shared/config/load.js';
import { type LocalRuntime, startLocalRuntime } from '../../../local/runtime.js';
import { type FakeClickUp, type FakeUser, signBody, startFakeClickUp } from '../../fixtures/fake-clickup.js';
import { quiet, ROOT } from '../webhook/helpers.js';

const DANA: FakeUser = { id: 4242, username: 'Dana', email: 'dana@example.com' };
const LEAD: FakeUser = { id: 5150, username: 'Alice', email: 'lead@example.com' };

/** The team's statuses as ClickUp keeps them (lower case); the config names them in title case. */
const configWithBake = (bake: string, signOff = '[]') => `
devops_agent:
  bot_user_id: "99"
  input_status: Ready to Deploy
  deploying_status: Deploying
  output_status: Deployed
  failure_status: Rolled Back
  monitoring_period: ${bake}
services:
  - name: notifications
    tracker: { list_id: "901" }
    gates: { ci: false, pr_merged: false, sign_off: ${signOff}, alarms_clear: false }
    approvers: [{ email: lead@example.com, clickup_user_id: "5150" }]
    steps:
      - { name: Say hello, kind: command, run: [node, -e, "0"] }
`;

const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('the local runtime driving tasks on (fake) ClickUp through its signed webhook', () => {
  let clickup: FakeClickUp;
  let runtime: LocalRuntime;
  let secret: string;

  const start = async (bake = '1s', signOff = '[]') => {
    clickup = await startFakeClickUp();
    clickup.addList('901', 'Releases', ['to do', 'ready to deploy', 'deploying', 'deployed', 'rolled back']);
    const client = new ClickUpClient({ token: clickup.token, baseUrl: clickup.url });
    // the secret exists once the webhook does; the endpoint once the runtime listens
    const webhook = await client.createWebhook(String(clickup.teamId), {
      endpoint: 'http://127.0.0.1:1/pending',
      events: ['taskStatusUpdated', 'taskCommentPosted'],
      list_id: 901,
    });
    secret = webhook.secret ?? '';
    runtime = await startLocalRuntime({
      config: parseConfig(configWithBake(bake, signOff), 'clickup-test.yaml'),
      dataDir: mkdtempSync(join(tmpdir(), 'devops-agent-clickup-')),
      baseDir: ROOT,
      sourceControlFixture: join(ROOT, 'examples/demo/fixtures/source-control.json'),
      tracker: new ClickUpTracker({ token: clickup.token, baseUrl: clickup.url }),
      webhookSecret: [secret],
      logger: quiet,
      retryIntervalMs: 0,
      lockRetryMs: 5,
      timers: false,
    });
    await client.updateWebhook(webhook.id, {
      endpoint: `${runtime.url}/webhooks/clickup`,
      events: webhook.events,
    });
  };
  afterEach(async () => {
    await runtime.stop();
    await clickup.stop();
  });

  it('deploys a task a person moved to Ready to Deploy, approved by a /deploy approve comment', async () => {
    // Prepare
    await start();
    const task = clickup.addTask({ name: 'Release 2.4', listId: '901', status: 'to do' });
    const id = String(task.id);

    // Act
    const [moved] = await clickup.moveTask(id, 'ready to deploy', DANA);
    await until('the approval request', () =>
      clickup.commentTexts(id).some((t) => t.includes('/deploy approve')),
    );
    const [approved] = await clickup.postComment(id, '/deploy approve looks good', LEAD);
    await until('the bake', async () => clickup.statusOf(id) === 'deploying');
    await until('Deployed', async () => {
      await runtime.sweep();
      return clickup.statusOf(id) === 'deployed';
    });
    // the task is Deployed at Finalize; the lock is released after it
    await runtime.workflow.execution(`${id}-1`)?.done;

    // Assess
    expect(moved?.status).toBe(202);
    expect(approved?.status).toBe(202);
    expect(runtime.workflow.list().map((e) => [e.name, e.status])).toEqual([[`${id}-1`, 'SUCCEEDED']]);
    // the agent's own moves came back as deliveries too, and were acknowledged without a new deployment
    const own = clickup.deliveries.filter((d) => d.body.includes('"id":99'));
    expect(own.length).toBeGreaterThanOrEqual(2);
    expect(own.every((d) => d.status === 200)).toBe(true);
    const texts = clickup.commentTexts(id);
    expect(texts[0]).toMatch(/^🚀 DevOps: Preparing deployment of notifications/);
    expect(texts.some((t) => t.includes('PRODUCTION DEPLOY READY'))).toBe(true);
    expect(texts.at(-1)).toMatch(/^✅ DEPLOYED TO PRODUCTION/);
  });

  it('starts nothing for a move to another status or on another list', async () => {
    // Prepare
    await start();
    clickup.addList('902', 'Elsewhere', ['to do', 'ready to deploy']);
    const other = clickup.addTask({ name: 'Other list', listId: '902', status: 'to do' });
    const task = clickup.addTask({ name: 'Release 2.5', listId: '901', status: 'to do' });

    // Act
    const [review] = await clickup.moveTask(String(task.id), 'deployed', DANA);
    const elsewhere = await clickup.moveTask(String(other.id), 'ready to deploy', DANA);

    // Assess
    expect(review?.status).toBe(200);
    expect(elsewhere).toEqual([]); // the webhook is filtered to list 901, so ClickUp sends nothing
    expect(runtime.workflow.list()).toEqual([]);
  });

  it('picks up a task whose delivery was lost on the next polling pass, once', async () => {
    // Prepare: the task reached the input status while the webhook was down
    await start();
    const task = clickup.addTask({ name: 'Release 2.6', listId: '901', status: 'ready to deploy' });

    // Act
    const first = await runtime.poll();
    const second = await runtime.poll();
    await clickup.moveTask(String(task.id), 'ready to deploy', DANA);

    // Assess
    expect(first.started).toEqual([`${task.id}-1`]);
    expect(second.started).toEqual([]);
    expect(runtime.workflow.list()).toHaveLength(1);
  });

  it('rolls back during the bake on a /deploy rollback comment by an approver and moves the task to Rolled Back', async () => {
    // Prepare
    await start('10m');
    const task = clickup.addTask({ name: 'Release 2.7', listId: '901', status: 'to do' });
    const id = String(task.id);
    await clickup.moveTask(id, 'ready to deploy', DANA);
    await until('the approval request', () =>
      clickup.commentTexts(id).some((t) => t.includes('/deploy approve')),
    );
    await clickup.postComment(id, '/deploy approve', LEAD);
    await until('the bake', () => clickup.commentTexts(id).some((t) => t.startsWith('📈 Monitoring')));

    // Act
    const [rollback] = await clickup.postComment(id, `/deploy rollback ${id} error rate climbing`, LEAD);
    await until('Rolled Back', () => clickup.statusOf(id) === 'rolled back');

    // Assess
    expect(rollback?.status).toBe(202);
    await until('the execution to end', () => runtime.workflow.list().every((e) => e.status !== 'RUNNING'));
    expect(runtime.workflow.list().map((e) => [e.status, e.error])).toEqual([
      ['FAILED', 'DeploymentRolledBack'],
    ]);
    const [record] = await runtime.store.listDeployments({ taskId: id });
    expect(record?.status).toBe('rolled-back');
    expect(clickup.commentTexts(id).join('\n')).toMatch(/rollback requested by lead@example.com/i);
  });

  it('starts a blocked task again only when a person moves it again, not on a late duplicate or a poll', async () => {
    // Prepare: QA has not signed off, so the first deployment is blocked and the task stays in place
    await start('1s', '[QA]');
    const task = clickup.addTask({ name: 'Release 2.8', listId: '901', status: 'to do' });
    const id = String(task.id);
    const [first] = await clickup.moveTask(id, 'ready to deploy', DANA);
    await until('the block', () =>
      clickup.commentTexts(id).some((t) => t.startsWith('⚠️ DEPLOYMENT BLOCKED')),
    );
    await runtime.workflow.idle();

    // Act
    const duplicate = await fetch(first?.endpoint ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signBody(first?.body ?? '', secret) },
      body: first?.body,
    });
    const polled = await runtime.poll();
    await clickup.moveTask(id, 'to do', DANA);
    const [again] = await clickup.moveTask(id, 'ready to deploy', DANA);

    // Assess
    expect(duplicate.status).toBe(200);
    expect(await duplicate.json()).toMatchObject({
      result: 'ignored',
      reason: `this delivery already started ${id}-1`,
    });
    expect(polled).toEqual({ started: [], errors: [] });
    expect(again?.status).toBe(202);
    expect(runtime.workflow.list().map((e) => e.name)).toEqual([`${id}-1`, `${id}-2`]);
  });
});
