import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalArtifactStore } from '../../../local/adapters/local-artifact-store.js';
import { startLocalServer } from '../../../local/server.js';
import { CONFIG } from '../../fixtures/config.js';
import { fakePorts, NO_CONSOLE } from '../../fixtures/ports.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

const SECRET = 'whsec-hostile';
const sign = (body: string) => createHmac('sha256', SECRET).update(body).digest('hex');
const OVER_LIMIT = 'x'.repeat(256 * 1024 + 1);
const DEEP = 100_000;
const WITH_CLICKUP_APPROVER = CONFIG.replace(
  'approvers: [{ email: lead@example.com }]',
  'approvers: [{ email: lead@example.com, clickup_user_id: "5150" }]',
);

/** The local server over fake ports, with task t1 waiting for approval by lead@example.com (ClickUp user 5150). */
const setup = async () => {
  const f = fakePorts(WITH_CLICKUP_APPROVER);
  f.tracker.add({ id: 't1', name: 'User Notifications', status: 'In Review' });
  f.tracker.add({ id: 't2', name: 'Other', status: 'Ready to Deploy' });
  await f.store.createDeployment(aDeployment({ status: 'awaiting-approval', stage: 'RequestApproval' }));
  await f.store.putApproval(
    anApproval({ approvers: ['lead@example.com', '5150'], expiresAt: '2099-01-01T00:00:00.000Z' }),
  );
  const server = await startLocalServer({
    ports: f.ports,
    webhookSecret: SECRET,
    sources: NO_CONSOLE,
  });
  const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** What a request may have changed: deployments started, votes cast, statuses set, comments posted. */
  const state = async () => ({
    started: f.workflow.started.length,
    deployments: (await f.store.listDeployments()).length,
    votes: (await f.store.getApproval('appr0000000000000001'))?.votes ?? [],
    statuses: [...f.tracker.statusMoves],
    comments: f.tracker.comments.length,
  });
  return { ...f, server, post, state };
};

/** A `taskCommentPosted` delivery from `user` on list L1. */
const commentEvent = (text: string, user: { id: unknown; username?: string; email?: string }) =>
  JSON.stringify({
    event: 'taskCommentPosted',
    webhook_id: 'wh1',
    task_id: 't1',
    history_items: [
      {
        id: `h-${Math.random()}`,
        field: 'comment',
        parent_id: 'L1',
        user,
        comment: { id: `c-${Math.random()}`, text_content: text, user },
      },
    ],
  });

describe('local server with hostile input', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    ctx = await setup();
  });
  afterEach(async () => {
    await ctx.server.close();
  });

  it.each([
    ['/webhooks/clickup', (body: string) => ({ 'x-signature': sign(body) })],
    ['/approvals/appr0000000000000001', () => ({ 'content-type': 'application/x-www-form-urlencoded' })],
    ['/api/tasks/t2/deploy', () => ({})],
    ['/api/tasks/t1/approve', () => ({})],
    ['/api/tasks/t1/status', () => ({})],
  ])('refuses a body over 256 KiB on POST %s with 400 and changes nothing', async (path, headers) => {
    // Prepare
    const before = await ctx.state();
    const body = path.startsWith('/approvals')
      ? `decision=approve&comment=${OVER_LIMIT}`
      : `{"as":"lead@example.com","status":"Deployed","pad":"${OVER_LIMIT}"}`;

    // Act
    const answer = await ctx.post(path, body, headers(body));

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('body larger than 256 KiB');
    expect(await ctx.state()).toEqual(before);
  });

  it.each([
    ['unterminated', '['.repeat(DEEP)],
    ['balanced', `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`],
    ['inside an event', `{"event":"taskStatusUpdated","task_id":${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`],
  ])(
    'answers a signed webhook of %s JSON nested 100000 levels deep with 400, and keeps serving',
    async (_shape, body) => {
      // Prepare
      const before = await ctx.state();

      // Act
      const answer = await ctx.post('/webhooks/clickup', body, { 'x-signature': sign(body) });
      const next = await fetch(`${ctx.server.url}/api/deployments`);

      // Assess
      expect(answer.status).toBe(400);
      expect(String(answer.body.error)).toMatch(/not JSON|not a ClickUp webhook event/);
      expect(next.status).toBe(200);
      expect(await ctx.state()).toEqual(before);
    },
  );

  it('answers a signed event with a 100000-level value in a field it does not read like any other event', async () => {
    // Prepare
    const body = `{"event":"taskStatusUpdated","task_id":"t2","history_items":[{"field":"status","parent_id":"L1","after":"Ready to Deploy","extra":${'['.repeat(DEEP)}${']'.repeat(DEEP)}}]}`;

    // Act
    const answer = await ctx.post('/webhooks/clickup', body, { 'x-signature': sign(body) });

    // Assess
    expect(answer.status).toBe(202);
    expect(ctx.workflow.started).toHaveLength(1);
  });

  it.each([['/api/tasks/t1/approve'], ['/api/tasks/t2/deploy'], ['/api/tasks/t1/status']])(
    'answers POST %s with JSON nested 100000 levels deep with 400 and changes nothing',
    async (path) => {
      // Prepare
      const before = await ctx.state();

      // Act
      const unterminated = await ctx.post(path, '['.repeat(DEEP));
      const balanced = await ctx.post(path, `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`);

      // Assess
      expect([unterminated.status, balanced.status]).toEqual([400, 400]);
      expect(await ctx.state()).toEqual(before);
    },
  );

  it.each([
    ['a Cyrillic а in the approver email', { id: 6160, username: 'Alice', email: 'le\u0430d@example.com' }],
    [
      'a right-to-left override in the name',
      { id: 6160, username: '\u202eecilA', email: 'lead@example.com' },
    ],
    ['a zero-width joiner after the approver id', { id: '5150\u200d', username: 'Alice' }],
    ['a full-width approver id', { id: '\uff15\uff11\uff15\uff10', username: 'Alice' }],
    ['spaces around the approver id', { id: ' 5150 ', username: 'Alice' }],
  ])('does not let a commenter with %s approve for the configured approver', async (_trick, user) => {
    // Prepare
    const body = commentEvent('/deploy approve', user);

    // Act
    const answer = await ctx.post('/webhooks/clickup', body, { 'x-signature': sign(body) });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ result: 'refused' });
    expect((await ctx.store.getApproval('appr0000000000000001'))?.votes).toEqual([]);
  });

  it.each([
    ['a Cyrillic а', 'le\u0430d@example.com'],
    ['a zero-width joiner', 'lead\u200d@example.com'],
    ['a right-to-left override', '\u202elead@example.com'],
    ['a full-width @', 'lead\uff20example.com'],
  ])(
    'does not count an approval from the command line as %s in the approver email as the approver',
    async (_trick, as) => {
      // Act
      const answer = await ctx.post('/api/tasks/t1/approve', JSON.stringify({ as }));

      // Assess
      expect(answer.status).toBe(403);
      expect((await ctx.store.getApproval('appr0000000000000001'))?.votes).toEqual([]);
    },
  );
});

describe('local server artifacts with hostile paths', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startLocalServer>>;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'devops-agent-served-'));
    mkdirSync(join(dir, 'artifacts'));
    writeFileSync(join(dir, 'secret.txt'), 'not for the web');
    const { ports } = fakePorts();
    server = await startLocalServer({
      ports: { ...ports, artifacts: new LocalArtifactStore(join(dir, 'artifacts')) },
      sources: NO_CONSOLE,
    });
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['/artifacts/..%2Fsecret.txt'],
    ['/artifacts/%2Fsecret.txt'],
    ['/artifacts/plans%5C..%5C..%5Csecret'],
    ['/artifacts/plans%00.md'],
  ])('refuses GET %s with 400 instead of reading outside the artifact folder', async (path) => {
    // Act
    const response = await fetch(`${server.url}${path}`);

    // Assess
    const text = await response.text();
    expect(response.status).toBe(400);
    expect((JSON.parse(text) as { error: string }).error).toMatch(/artifact key/);
    expect(text).not.toContain('not for the web');
  });

  it.each([['/artifacts/%'], ['/artifacts/%E0%A4%A'], ['/artifacts/plans/%zz.md']])(
    'answers GET %s, which is not valid percent-encoding, with 400 naming the key, not 500',
    async (path) => {
      // Act
      const response = await fetch(`${server.url}${path}`);

      // Assess
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(/artifact key .*percent-encoding/);
    },
  );
});
