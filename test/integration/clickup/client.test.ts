import { ClickUpClient, ClickUpRequestError } from '../../../functions/shared/adapters/clickup-client.js';
import { ClickUpTracker } from '../../../functions/shared/adapters/clickup-tracker.js';
import { NotFoundError, TransientDependencyError } from '../../../functions/shared/errors.js';
import { type FakeClickUp, startFakeClickUp } from '../../fixtures/fake-clickup.js';

const STATUSES = ['to do', 'ready to deploy', 'deploying', 'deployed', 'rolled back'];

const SECURITY_FIELD = {
  id: 'f-sec',
  name: 'Security Review',
  type: 'drop_down',
  type_config: {
    options: [
      { id: 'opt-pending', name: 'Pending', orderindex: 0 },
      { id: 'opt-approved', name: 'Approved', orderindex: 1 },
    ],
  },
};

/** Waits are recorded, not slept: the retry policy is checked without slowing the suite. */
const recordingClock = () => {
  const waits: number[] = [];
  return { waits, now: () => new Date(), sleep: async (ms: number) => void waits.push(ms) };
};

describe('ClickUp client against the fake ClickUp server', () => {
  let clickup: FakeClickUp;
  let client: ClickUpClient;
  let clock: ReturnType<typeof recordingClock>;

  beforeEach(async () => {
    clickup = await startFakeClickUp({ pageSize: 2 });
    clickup.addList('901', 'Releases', STATUSES);
    clock = recordingClock();
    client = new ClickUpClient({ token: clickup.token, baseUrl: clickup.url, clock, backoffMs: 50 });
  });
  afterEach(async () => {
    await clickup.stop();
  });

  it('lists every task in a status across pages until last_page', async () => {
    // Prepare
    for (let i = 0; i < 5; i++)
      clickup.addTask({ id: `t${i}`, name: `Release ${i}`, listId: '901', status: 'ready to deploy' });
    clickup.addTask({ id: 'other', name: 'Not ready', listId: '901', status: 'to do' });

    // Act
    const tasks = await client.listTasks('901', ['Ready to Deploy']);

    // Assess
    expect(tasks.map((t) => t.id)).toEqual(['t0', 't1', 't2', 't3', 't4']);
    const pages = clickup.requests
      .filter((r) => r.path === '/v2/list/901/task')
      .map((r) => r.query.get('page'));
    expect(pages).toEqual(['0', '1', '2']);
  });

  it('reads a task, comments, moves its status and reads the comments back through the tracker', async () => {
    // Prepare
    clickup.addTask({ id: '86rel', name: 'Release 2.4', listId: '901', status: 'ready to deploy' });
    const tracker = new ClickUpTracker({ token: clickup.token, baseUrl: clickup.url });

    // Act
    const task = await tracker.getTask('86rel');
    await tracker.comment('86rel', '🚀 Deploying Release 2.4');
    await tracker.setStatus('86rel', 'Deploying');
    const comments = await tracker.getComments('86rel');

    // Assess
    expect(task).toMatchObject({ id: '86rel', status: 'ready to deploy', listId: '901' });
    expect(clickup.statusOf('86rel')).toBe('deploying');
    expect(comments.map((c) => [c.text, c.author])).toEqual([['🚀 Deploying Release 2.4', 'devops-agent']]);
  });

  it('sets a drop-down by option name and reads it back as the option name', async () => {
    // Prepare
    clickup.addTask({
      id: '86rel',
      name: 'Release 2.4',
      listId: '901',
      status: 'ready to deploy',
      customFields: [{ ...SECURITY_FIELD, value: 0 }],
    });
    const tracker = new ClickUpTracker({ token: clickup.token, baseUrl: clickup.url });

    // Act
    await tracker.setCustomField('86rel', 'Security Review', 'Approved');
    const task = await tracker.getTask('86rel');

    // Assess
    expect(clickup.requests.find((r) => r.method === 'POST')?.body).toEqual({ value: 'opt-approved' });
    expect(task.customFields['Security Review']).toBe('Approved');
  });

  it('creates, lists, updates and deletes webhooks', async () => {
    // Act
    const created = await client.createWebhook(String(clickup.teamId), {
      endpoint: 'https://agent.example.com/webhooks/clickup',
      events: ['taskStatusUpdated'],
      list_id: 901,
    });
    const listed = await client.listWebhooks(String(clickup.teamId));
    const updated = await client.updateWebhook(created.id, {
      endpoint: 'https://agent.example.com/webhooks/clickup',
      events: ['taskStatusUpdated', 'taskCommentPosted'],
      status: 'active',
    });
    await client.deleteWebhook(created.id);

    // Assess
    expect(created.secret).toMatch(/^[0-9A-F]{32}$/);
    expect(listed.map((w) => [w.id, w.list_id])).toEqual([[created.id, '901']]);
    expect(updated.events).toEqual(['taskStatusUpdated', 'taskCommentPosted']);
    expect(clickup.webhooks.size).toBe(0);
  });

  it('waits for X-RateLimit-Reset after a 429 and then gets the answer', async () => {
    // Prepare
    clickup.addTask({ id: '86rel', name: 'Release 2.4', listId: '901', status: 'ready to deploy' });
    const reset = Math.ceil(Date.now() / 1000) + 2;
    clickup.fail({
      path: '/v2/task/86rel',
      status: 429,
      body: { err: 'Rate limit reached', ECODE: 'APP_002' },
      headers: { 'X-RateLimit-Reset': String(reset) },
    });

    // Act
    const task = await client.getTask('86rel');

    // Assess
    expect(task.id).toBe('86rel');
    expect(clock.waits).toHaveLength(1);
    expect(clock.waits[0]).toBeGreaterThan(0);
    expect(clock.waits[0]).toBeLessThanOrEqual(3000);
  });

  it('retries 5xx with a doubling backoff and succeeds when ClickUp recovers', async () => {
    // Prepare
    clickup.addTask({ id: '86rel', name: 'Release 2.4', listId: '901', status: 'ready to deploy' });
    clickup.fail({ path: '/v2/task/86rel', status: 502, times: 2 });

    // Act
    const task = await client.getTask('86rel');

    // Assess
    expect(task.id).toBe('86rel');
    expect(clock.waits).toEqual([50, 100]);
  });

  it('gives up on a 5xx that outlasts the attempts with a TransientDependencyError', async () => {
    // Prepare
    clickup.fail({ path: '/v2/task/86rel', status: 503, times: 10 });

    // Act
    const error = await client.getTask('86rel').catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(String(error)).toMatch(/answered 503; gave up after 4 attempts/);
    expect(clickup.requests).toHaveLength(4);
  });

  it("surfaces ClickUp's {err, ECODE} as named errors without retrying", async () => {
    // Prepare
    clickup.addTask({ id: '86rel', name: 'Release 2.4', listId: '901', status: 'ready to deploy' });
    const stranger = new ClickUpClient({ token: 'pk_wrong', baseUrl: clickup.url, clock });

    // Act
    const badStatus = await client.updateStatus('86rel', 'Shipped').catch((e: unknown) => e);
    const badToken = await stranger.getTask('86rel').catch((e: unknown) => e);
    const missing = await client.getTask('nope').catch((e: unknown) => e);

    // Assess
    expect(badStatus).toBeInstanceOf(ClickUpRequestError);
    expect(badStatus).toMatchObject({ status: 400, code: 'ITEM_017' });
    expect(String(badStatus)).toMatch(
      /PUT \/v2\/task\/86rel answered 400: Status does not exist \(ITEM_017\)/,
    );
    expect(badToken).toMatchObject({ name: 'ClickUpRequestError', status: 401, code: 'OAUTH_025' });
    expect(String(badToken)).not.toContain('pk_wrong');
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(clock.waits).toEqual([]);
  });
});
