import { createHmac } from 'node:crypto';
import { handleClickUpWebhook } from '../../../functions/clickup-webhook/clickup-webhook.js';
import { fakePorts } from '../../fixtures/ports.js';

const SECRET = 'whsec-test';
const sign = (body: string) => createHmac('sha256', SECRET).update(body).digest('hex');
const statusEvent = (taskId: string, status: string, userId = '7') =>
  JSON.stringify({
    event: 'taskStatusUpdated',
    task_id: taskId,
    webhook_id: 'wh1',
    history_items: [
      { id: 'h1', field: 'status', user: { id: Number(userId) }, after: { status, type: 'custom' } },
    ],
  });

const setup = () => {
  const f = fakePorts();
  f.tracker.add({ id: 't1', name: 'User Notifications', status: 'Ready to Deploy' });
  return f;
};

describe('handleClickUpWebhook', () => {
  it('starts a deployment when a task moves to the input status', async () => {
    // Prepare
    const { ports, workflow } = setup();
    const body = statusEvent('t1', 'Ready to Deploy');

    // Act
    const response = await handleClickUpWebhook(
      { rawBody: body, headers: { 'x-signature': sign(body) } },
      ports,
      SECRET,
    );

    // Assess
    expect(response).toEqual({ statusCode: 202, body: { result: 'started', deploymentId: 't1-1' } });
    expect(workflow.started).toEqual([
      expect.objectContaining({
        deploymentId: 't1-1',
        taskId: 't1',
        service: 'notifications',
        trigger: 'status',
      }),
    ]);
  });

  it('starts one deployment for duplicated deliveries', async () => {
    // Prepare
    const { ports, workflow } = setup();
    const body = statusEvent('t1', 'Ready to Deploy');

    // Act
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        handleClickUpWebhook({ rawBody: body, headers: { 'x-signature': sign(body) } }, ports, SECRET),
      ),
    );

    // Assess
    expect(workflow.started).toHaveLength(1);
    expect(responses.filter((r) => r.body.result === 'started')).toHaveLength(1);
  });

  it('refuses a bad signature with 403-class error and starts nothing', async () => {
    // Prepare
    const { ports, workflow } = setup();
    const body = statusEvent('t1', 'Ready to Deploy');

    // Act
    const act = handleClickUpWebhook(
      { rawBody: body, headers: { 'x-signature': sign(`${body} `) } },
      ports,
      SECRET,
    );

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'SignatureInvalidError' });
    expect(workflow.started).toEqual([]);
  });

  it('refuses a body that is not JSON with a clear error and starts nothing', async () => {
    // Prepare
    const { ports, workflow } = setup();
    const body = 'event=taskStatusUpdated';

    // Act
    const act = handleClickUpWebhook(
      { rawBody: body, headers: { 'x-signature': sign(body) } },
      ports,
      SECRET,
    );

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'BadRequestError',
      message: 'the body is not JSON; ClickUp webhooks send application/json',
    });
    expect(workflow.started).toEqual([]);
  });

  it('refuses JSON that is not a ClickUp event', async () => {
    // Prepare
    const { ports } = setup();
    const body = JSON.stringify({ hello: 'world' });

    // Act
    const act = handleClickUpWebhook(
      { rawBody: body, headers: { 'x-signature': sign(body) } },
      ports,
      SECRET,
    );

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'BadRequestError',
      message: expect.stringContaining('event'),
    });
  });

  it("ignores other statuses, other events and the agent's own changes", async () => {
    // Prepare
    const { ports, workflow } = setup();
    ports.config.devops_agent.bot_user_id = '99';
    const bodies = [
      statusEvent('t1', 'In Review'),
      JSON.stringify({ event: 'taskCreated', task_id: 't1' }),
      statusEvent('t1', 'Ready to Deploy', '99'),
    ];

    // Act
    const responses = await Promise.all(
      bodies.map((b) =>
        handleClickUpWebhook({ rawBody: b, headers: { 'x-signature': sign(b) } }, ports, SECRET),
      ),
    );

    // Assess
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(responses.map((r) => r.body.result)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(workflow.started).toEqual([]);
  });
});
