import { createHmac } from 'node:crypto';
import { handleClickUpWebhook } from '../../../functions/clickup-webhook/clickup-webhook.js';
import { CONFIG } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

const SECRET = 'whsec-test';
const APPROVER = { id: 5150, username: 'Alice', email: 'lead@example.com' };
const STRANGER = { id: 6160, username: 'Mallory', email: 'mallory@example.com' };
const BOT = { id: 99, username: 'devops-agent', email: 'bot@example.com' };
const WITH_CLICKUP_APPROVER = CONFIG.replace(
  'approvers: [{ email: lead@example.com }]',
  'approvers: [{ email: lead@example.com, clickup_user_id: "5150" }]',
).replace('devops_agent:', 'devops_agent:\n  bot_user_id: "99"');

let commentSeq = 0;
/** A `taskCommentPosted` delivery shaped after §1.5 of the API notes. */
const commentEvent = (taskId: string, text: string, user = APPROVER, commentId = `c${++commentSeq}`) =>
  JSON.stringify({
    event: 'taskCommentPosted',
    webhook_id: 'wh1',
    task_id: taskId,
    history_items: [
      {
        id: `h-${commentId}`,
        type: 1,
        date: '1764320999000',
        field: 'comment',
        parent_id: 'L1',
        data: {},
        source: null,
        user,
        before: null,
        after: commentId,
        comment: {
          id: commentId,
          date: '1764320999000',
          parent: taskId,
          type: 1,
          comment: [
            { text, attributes: {} },
            { text: '\n', attributes: { 'block-id': 'block-0a1b2c3d' } },
          ],
          text_content: `${text}\n`,
          user: { id: user.id, username: user.username },
          reactions: [],
          threaded_replies: 0,
        },
      },
    ],
  });

const setup = () => {
  const f = fakePorts(WITH_CLICKUP_APPROVER);
  f.tracker.add({ id: 't1', name: 'User Notifications', status: 'In Review' });
  const deliver = (body: string) =>
    handleClickUpWebhook(
      { rawBody: body, headers: { 'x-signature': createHmac('sha256', SECRET).update(body).digest('hex') } },
      f.ports,
      SECRET,
    );
  return { ...f, deliver };
};

const awaitingApproval = async (f: ReturnType<typeof setup>) => {
  await f.store.createDeployment(aDeployment({ status: 'awaiting-approval', stage: 'RequestApproval' }));
  await f.store.putApproval(
    anApproval({ approvers: ['lead@example.com', '5150'], expiresAt: '2099-01-01T00:00:00.000Z' }),
  );
};

const baking = async (f: ReturnType<typeof setup>) => {
  await f.store.createDeployment(aDeployment({ status: 'monitoring', stage: 'Monitor' }));
  await f.store.setMonitorToken('t1-1', 'bake-token');
};

describe('handleClickUpWebhook: /deploy commands', () => {
  it('starts a deployment on /deploy even when the task is not in the input status', async () => {
    // Prepare
    const f = setup();

    // Act
    const response = await f.deliver(commentEvent('t1', '/deploy'));

    // Assess
    expect(response).toEqual({ statusCode: 202, body: { result: 'started', deploymentId: 't1-1' } });
    expect(f.workflow.started).toEqual([
      expect.objectContaining({ deploymentId: 't1-1', trigger: 'comment', requestedBy: 'lead@example.com' }),
    ]);
  });

  it('approves the pending plan on /deploy approve by a configured approver', async () => {
    // Prepare
    const f = setup();
    await awaitingApproval(f);

    // Act
    const response = await f.deliver(commentEvent('t1', '/deploy approve ship it'));

    // Assess
    expect(response).toEqual({
      statusCode: 202,
      body: { result: 'accepted', action: 'approve', deploymentId: 't1-1' },
    });
    expect(f.workflow.successes).toEqual([
      {
        token: 'secret-token',
        output: expect.objectContaining({ decision: 'approved', by: 'lead@example.com', channel: 'comment' }),
      },
    ]);
    expect(f.store.approvals.get('appr0000000000000001')).toMatchObject({
      status: 'approved',
      comment: 'ship it',
    });
  });

  it('holds the pending plan on /deploy hold with a reason', async () => {
    // Prepare
    const f = setup();
    await awaitingApproval(f);

    // Act
    const response = await f.deliver(commentEvent('t1', '/deploy hold wait for the launch'));

    // Assess
    expect(response.body).toMatchObject({ result: 'accepted', action: 'hold' });
    expect(f.workflow.failures).toEqual([
      {
        token: 'secret-token',
        error: 'ApprovalHeldError',
        cause: 'held by lead@example.com: wait for the launch',
      },
    ]);
  });

  it('approves once for a duplicated delivery and answers nothing for the duplicate', async () => {
    // Prepare
    const f = setup();
    await awaitingApproval(f);
    const body = commentEvent('t1', '/deploy approve');

    // Act
    const responses = await Promise.all([f.deliver(body), f.deliver(body)]);
    const retried = await f.deliver(body);

    // Assess
    expect(f.workflow.successes).toHaveLength(1);
    expect([...responses, retried].map((r) => r.body.result).sort()).toEqual([
      'accepted',
      'ignored',
      'ignored',
    ]);
    expect(f.tracker.textsOf('t1')).toEqual([]);
  });

  it.each([
    [
      'a non-approver approves',
      '/deploy approve',
      STRANGER,
      true,
      'mallory@example.com is not a configured approver',
    ],
    ['a non-approver holds', '/deploy hold because', STRANGER, true, 'not a configured approver'],
    [
      'approve without a pending approval',
      '/deploy approve',
      APPROVER,
      false,
      'no deployment of this task is waiting for approval',
    ],
    ['hold without a reason', '/deploy hold', APPROVER, true, 'a hold needs a reason'],
    ['an unknown subcommand', '/deploy sideways', APPROVER, true, 'Usage:'],
  ])('refuses when %s, answers on the task and audits it', async (_name, text, user, pending, answer) => {
    // Prepare
    const f = setup();
    if (pending) await awaitingApproval(f);

    // Act
    const response = await f.deliver(commentEvent('t1', text, user));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.body.result).toBe('refused');
    expect(f.tracker.textsOf('t1')).toEqual([expect.stringContaining(answer)]);
    // the approval rules audit a refused decision themselves (decision-refused), the rest is command-refused
    expect(f.store.audit).toContainEqual(
      expect.objectContaining({
        action: expect.stringMatching(/^(command|decision)-refused$/),
        channel: 'comment',
        actor: user.email,
      }),
    );
    expect(f.workflow.successes).toEqual([]);
    expect(f.workflow.failures).toEqual([]);
    expect(f.workflow.started).toEqual([]);
  });

  it('fails the bake interval on /deploy rollback by an approver, naming the requester', async () => {
    // Prepare
    const f = setup();
    await baking(f);
    f.tracker.add({ id: 't2', name: 'Another task', status: 'In Review' });

    // Act
    const response = await f.deliver(commentEvent('t2', '/deploy rollback t1 errors spiking'));

    // Assess
    expect(response).toEqual({
      statusCode: 202,
      body: { result: 'accepted', action: 'rollback', deploymentId: 't1-1' },
    });
    expect(f.workflow.failures).toEqual([
      {
        token: 'bake-token',
        error: 'RollbackRequestedError',
        cause: expect.stringContaining('rollback requested by lead@example.com'),
      },
    ]);
    expect(f.store.audit).toContainEqual(
      expect.objectContaining({ deploymentId: 't1-1', action: 'rollback-requested', channel: 'comment' }),
    );
  });

  it('refuses /deploy rollback by a non-approver and leaves the bake running', async () => {
    // Prepare
    const f = setup();
    await baking(f);

    // Act
    const response = await f.deliver(commentEvent('t1', '/deploy rollback t1', STRANGER));

    // Assess
    expect(response.body.result).toBe('refused');
    expect(f.workflow.failures).toEqual([]);
    expect(await f.store.getMonitorToken('t1-1')).toBe('bake-token');
    expect(f.tracker.textsOf('t1')).toEqual([expect.stringContaining('only approvers may roll back')]);
  });

  it('starts a rollback run for /deploy rollback of a deployed deployment, and answers a redelivery once', async () => {
    // Prepare
    const f = setup();
    await f.store.createDeployment(aDeployment({ status: 'deployed', outcome: 'deployed' }));
    const event = commentEvent('t1', '/deploy rollback t1 emails go out twice');

    // Act
    const response = await f.deliver(event);
    const again = await f.deliver(event);

    // Assess
    expect(response.body).toMatchObject({
      result: 'accepted',
      action: 'rollback',
      deploymentId: 't1-1-rollback',
    });
    expect(again.body.result).toBe('ignored');
    expect(f.workflow.started).toEqual([
      expect.objectContaining({
        deploymentId: 't1-1-rollback',
        rollbackOf: 't1-1',
        trigger: 'comment',
        reason: expect.stringContaining('emails go out twice'),
      }),
    ]);
    expect((await f.store.getDeployment('t1-1'))?.rolledBackBy?.deploymentId).toBe('t1-1-rollback');
  });

  it.each([
    ['rolled back', { status: 'rolled-back' as const }, 'nothing of it is live to roll back'],
    ['still deploying', { status: 'deploying' as const }, 'is deploying, not baking'],
  ])('answers /deploy rollback of a %s deployment without changing it', async (_name, record, answer) => {
    // Prepare
    const f = setup();
    await f.store.createDeployment(aDeployment(record));

    // Act
    const response = await f.deliver(commentEvent('t1', '/deploy rollback t1'));

    // Assess
    expect(response.body.result).toBe('refused');
    expect(f.workflow.failures).toEqual([]);
    expect(f.tracker.textsOf('t1')).toEqual([expect.stringContaining(answer)]);
  });

  it("ignores ordinary comments and the agent's own comments without answering", async () => {
    // Prepare
    const f = setup();
    await awaitingApproval(f);

    // Act
    const responses = [
      await f.deliver(commentEvent('t1', 'Looks good to me')),
      await f.deliver(commentEvent('t1', '/deploy approve', BOT)),
      await f.deliver(commentEvent('t1', '／deploy approve')),
    ];

    // Assess
    expect(responses.map((r) => r.body)).toEqual([
      { result: 'ignored', reason: 'not a /deploy command' },
      { result: 'ignored', reason: 'comment by devops-agent itself' },
      { result: 'ignored', reason: 'not a /deploy command' },
    ]);
    expect(f.tracker.textsOf('t1')).toEqual([]);
    expect(f.workflow.successes).toEqual([]);
  });

  it('still acts when answering on the task fails', async () => {
    // Prepare
    const f = setup();
    f.tracker.failComment = new Error('ClickUp is down');

    // Act
    const response = await f.deliver(commentEvent('t1', '/deploy hold'));

    // Assess
    expect(response).toEqual({ statusCode: 200, body: expect.objectContaining({ result: 'refused' }) });
  });
});
