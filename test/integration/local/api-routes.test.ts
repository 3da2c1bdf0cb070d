import { startLocalServer } from '../../../local/server.js';
import { fakePorts, NO_CONSOLE } from '../../fixtures/ports.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

/** The local server over fake ports, with task t1 waiting for approval. */
const setup = async () => {
  const f = fakePorts();
  f.tracker.add({ id: 't1', name: 'User Notifications', status: 'In Review' });
  await f.store.createDeployment(aDeployment({ status: 'awaiting-approval', stage: 'RequestApproval' }));
  await f.store.putApproval(anApproval({ expiresAt: '2099-01-01T00:00:00.000Z' }));
  const server = await startLocalServer({
    ports: f.ports,
    sources: NO_CONSOLE,
  });
  const post = async (path: string, body: string) => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { ...f, server, post };
};

describe('local server: the command line API', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    ctx = await setup();
  });
  afterEach(async () => {
    await ctx.server.close();
  });

  it.each([
    ['/api/tasks/t1/approve', '{}', 'as: '],
    ['/api/tasks/t1/hold', '{"as":"lead@example.com"}', 'reason: '],
    ['/api/tasks/t1/approve', '{"as":"lead@example.com","sudo":true}', 'sudo'],
    ['/api/tasks/t1/rollback', '{not json', 'the body is not JSON'],
  ])('answers POST %s with a bad body %s with 400 and changes nothing', async (path, body, message) => {
    // Act
    const answer = await ctx.post(path, body);

    // Assess
    expect(answer.status).toBe(400);
    expect(String(answer.body.error)).toContain(message);
    expect(ctx.workflow.successes).toEqual([]);
    expect((await ctx.store.getApproval('appr0000000000000001'))?.votes).toEqual([]);
  });

  it('answers a refused vote with 403 and the rule, and an accepted one with the outcome', async () => {
    // Act
    const refused = await ctx.post('/api/tasks/t1/approve', '{"as":"mallory@example.com"}');
    const accepted = await ctx.post('/api/tasks/t1/approve', '{"as":"Lead@Example.com"}');

    // Assess
    expect(refused).toEqual({
      status: 403,
      body: { error: 'mallory@example.com is not an approver of this deployment; nothing changed' },
    });
    expect(accepted).toEqual({
      status: 200,
      body: {
        deploymentId: 't1-1',
        outcome: 'approved',
        approvals: 1,
        quorum: 1,
        url: 'http://127.0.0.1/#t1-1',
      },
    });
    expect(ctx.workflow.successes).toHaveLength(1);
  });

  it('answers a rollback of a deployment that is not baking with 409', async () => {
    // Act
    const answer = await ctx.post('/api/tasks/t1/rollback', '{"as":"lead@example.com"}');

    // Assess
    expect(answer.status).toBe(409);
    expect(answer.body.error).toContain('is awaiting-approval, not baking');
  });

  it('lists deployments with their progress and refuses a malformed since', async () => {
    // Act
    const listed = await fetch(`${ctx.server.url}/api/deployments?taskId=t1`);
    const wrong = await fetch(`${ctx.server.url}/api/deployments?since=yesterday`);

    // Assess
    expect(listed.status).toBe(200);
    expect(await listed.json()).toMatchObject({
      deployments: [
        {
          deploymentId: 't1-1',
          status: 'awaiting-approval',
          steps: { done: 0, total: 3 },
          approval: { status: 'pending', approvals: 0, quorum: 1 },
        },
      ],
    });
    expect(wrong.status).toBe(400);
  });
});
