import { createHmac } from 'node:crypto';
import { startLocalServer } from '../../../local/server.js';
import { fakePorts } from '../../fixtures/ports.js';

const SECRET = 'whsec-local';

const setup = async () => {
  const f = fakePorts();
  f.tracker.add({ id: 't1', name: 'User Notifications', status: 'Ready to Deploy' });
  const server = await startLocalServer({
    ports: f.ports,
    webhookSecret: SECRET,
    sources: {
      tasks: async () => [...f.tracker.tasks.values()],
      comments: async () => [],
      outbox: async () => [],
      executions: () => [],
    },
  });
  return { ...f, server };
};

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe('local HTTP server', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    ctx = await setup();
  });
  afterEach(async () => {
    await ctx.server.close();
  });

  it('starts a deployment from a signed ClickUp webhook', async () => {
    // Prepare
    const body = JSON.stringify({
      event: 'taskStatusUpdated',
      task_id: 't1',
      history_items: [{ field: 'status', after: { status: 'Ready to Deploy' } }],
    });

    // Act
    const response = await post(`${ctx.server.url}/webhooks/clickup`, body, {
      'x-signature': createHmac('sha256', SECRET).update(body).digest('hex'),
    });

    // Assess
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ result: 'started', deploymentId: 't1-1' });
    expect(ctx.workflow.started).toHaveLength(1);
  });

  it('answers a body that is not JSON with 400 and a reason, and starts nothing', async () => {
    // Prepare
    const body = '{not json';

    // Act
    const response = await post(`${ctx.server.url}/webhooks/clickup`, body, {
      'x-signature': createHmac('sha256', SECRET).update(body).digest('hex'),
    });

    // Assess
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'the body is not JSON; ClickUp webhooks send application/json',
    });
    expect(ctx.workflow.started).toEqual([]);
  });

  it('answers a bad signature with 403, never 401 or 410', async () => {
    // Act
    const response = await post(`${ctx.server.url}/webhooks/clickup`, '{}', {
      'x-signature': 'f'.repeat(64),
    });

    // Assess
    expect(response.status).toBe(403);
    expect(ctx.workflow.started).toEqual([]);
  });

  it('refuses a body over 256 KiB', async () => {
    // Act
    const response = await post(`${ctx.server.url}/webhooks/clickup`, 'x'.repeat(300 * 1024));

    // Assess
    expect(response.status).toBe(400);
  });

  it('answers an unknown approval link with 404', async () => {
    // Act
    const response = await fetch(`${ctx.server.url}/approvals/unknownapproval00`);

    // Assess
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain(
      'this approval link is unknown; use the newest link from the request',
    );
  });

  it('refuses a task status change without a status', async () => {
    // Act
    const response = await post(`${ctx.server.url}/api/tasks/t1/status`, '{}');

    // Assess
    expect(response.status).toBe(400);
    expect((await ctx.tracker.getTask('t1')).status).toBe('Ready to Deploy');
  });
});
