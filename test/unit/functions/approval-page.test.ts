import {
  type ApprovalRequest,
  CSRF_COOKIE,
  handleApprovalRequest,
} from '../../../functions/approval-page/approval-page.js';
import { runCommentCommand } from '../../../functions/clickup-webhook/comment-commands.js';
import { signLink } from '../../../functions/shared/approval-links.js';
import { castVote } from '../../../functions/shared/approval-votes.js';
import { parseCommand } from '../../../functions/shared/commands.js';
import type { ApprovalRecord } from '../../../functions/shared/ports/deployment-store.js';
import { CONFIG } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

const APPROVAL_ID = 'appr0000000000000001';
const HASH = 'f'.repeat(64);
const TWO_APPROVERS = CONFIG.replace(
  'approvers: [{ email: lead@example.com }]',
  'approvers: [{ email: lead@example.com, clickup_user_id: "101" }, { email: cto@example.com, clickup_user_id: "102" }]\n    approval: { break_glass: [{ email: oncall@example.com, clickup_user_id: "103" }] }',
);

const setup = async (approval: Partial<ApprovalRecord> = {}) => {
  const f = fakePorts(TWO_APPROVERS);
  f.tracker.add({ id: 't1', name: 'User Notifications', customFields: {} });
  await f.store.createDeployment(
    aDeployment({
      status: 'awaiting-approval',
      stage: 'RequestApproval',
      plan: {
        hash: HASH,
        key: 'plans/t1-1.md',
        risk: 'low',
        markdown: '# Deployment Plan: <script>x</script>',
      },
    }),
  );
  await f.store.putApproval(
    anApproval({
      approvalId: APPROVAL_ID,
      approvers: ['lead@example.com', 'cto@example.com'],
      breakGlass: ['oncall@example.com'],
      requester: ['mover@example.com', '999'],
      quorum: 1,
      votes: [],
      expiresAt: new Date(f.clock.now().getTime() + 3600_000).toISOString(),
      ...approval,
    }),
  );
  const key = await f.ports.approvalKeys.current();
  const expiresAt = new Date(f.clock.now().getTime() + 3600_000).toISOString();
  const link = (approver: string, approvalId = APPROVAL_ID) =>
    signLink(key, { approvalId, approver, expiresAt }).token;
  const request = (over: Partial<ApprovalRequest>): ApprovalRequest => ({
    method: 'GET',
    approvalId: APPROVAL_ID,
    query: {},
    cookies: {},
    formAction: `/approvals/${APPROVAL_ID}`,
    secure: false,
    sourceIp: '203.0.113.9',
    userAgent: 'test-browser',
    ...over,
  });
  /** GET the page with a link as a browser would, returning the cookie and the form's hidden fields */
  const open = async (token: string, cookie?: string) => {
    const page = await handleApprovalRequest(
      request({ query: { t: token }, cookies: cookie ? { [CSRF_COOKIE]: cookie } : {} }),
      f.ports,
    );
    const field = (name: string) =>
      new RegExp(`name="${name}" value="([^"]*)"`).exec(page.html)?.[1]?.replace(/&amp;/g, '&') ?? '';
    const set = /da_csrf=([^;]+)/.exec(page.headers['set-cookie'] ?? '')?.[1] ?? '';
    return { page, cookie: set, form: { t: field('t'), csrf: field('csrf'), plan_hash: field('plan_hash') } };
  };
  /** POST the form of a page opened with `token`, with changes */
  const decide = async (
    token: string,
    decision: 'approve' | 'hold',
    over: { form?: Record<string, string>; cookie?: string; comment?: string } = {},
  ) => {
    const opened = await open(token);
    return handleApprovalRequest(
      request({
        method: 'POST',
        form: {
          ...opened.form,
          t: opened.form.t || token,
          decision,
          ...(over.comment ? { comment: over.comment } : {}),
          ...over.form,
        },
        cookies: { [CSRF_COOKIE]: over.cookie ?? opened.cookie },
      }),
      f.ports,
    );
  };
  const refusals = () => f.store.audit.filter((a) => a.action === 'decision-refused');
  return { ...f, link, request, open, decide, refusals };
};

describe('approval page', () => {
  it('shows the plan, its hash and who the link is for, without the task token and without deciding', async () => {
    // Prepare
    const f = await setup();

    // Act
    const { page, cookie } = await f.open(f.link('lead@example.com'));

    // Assess
    expect(page.statusCode).toBe(200);
    expect(page.html).toContain('Approve deployment: User Notifications');
    expect(page.html).toContain(HASH);
    expect(page.html).toContain('You are <strong>lead@example.com</strong>');
    expect(page.html).toContain('&lt;script&gt;');
    expect(page.html).not.toContain('secret-token');
    expect(page.html).toContain('name="viewport"');
    expect(page.html).not.toMatch(/<(script|link|img)\b/);
    expect(page.headers['set-cookie']).toMatch(/HttpOnly; SameSite=Strict/);
    expect(cookie.length).toBeGreaterThan(16);
    expect(f.workflow.successes).toEqual([]);
    expect(f.store.audit.map((a) => [a.action, a.actor])).toEqual([['approval-viewed', 'lead@example.com']]);
    expect(f.store.audit[0]?.detail).toContain('ip 203.0.113.9; ua test-browser');
  });

  it('approves for the approver the link was made for and answers the workflow once', async () => {
    // Prepare
    const f = await setup();

    // Act
    const answer = await f.decide(f.link('lead@example.com'), 'approve', { comment: 'looks good' });

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(answer.html).toContain('Recorded: approved by lead@example.com');
    expect(f.workflow.successes).toHaveLength(1);
    expect(f.workflow.successes[0]?.output).toMatchObject({
      decision: 'approved',
      by: 'lead@example.com',
      planHash: HASH,
    });
    const approval = await f.store.getApproval(APPROVAL_ID);
    expect(approval).toMatchObject({ status: 'approved', decidedBy: 'lead@example.com' });
    expect(approval?.votes).toEqual([
      expect.objectContaining({ by: 'lead@example.com', channel: 'link', linkId: expect.any(String) }),
    ]);
    expect((await f.store.getDeployment('t1-1'))?.approval).toMatchObject({
      decision: 'approved',
      by: 'lead@example.com',
    });
  });

  it('waits for the quorum: the first of two approvals answers nothing, the second approves', async () => {
    // Prepare
    const f = await setup({ quorum: 2 });

    // Act
    const first = await f.decide(f.link('lead@example.com'), 'approve');
    const afterFirst = f.workflow.successes.length;
    const second = await f.decide(f.link('cto@example.com'), 'approve');

    // Assess
    expect(first.html).toContain('1 of 2 approvals needed');
    expect(afterFirst).toBe(0);
    expect(f.tracker.comments.at(0)?.text).toContain(
      'Approved by lead@example.com (1 of 2 approvals needed)',
    );
    expect(second.html).toContain('Recorded: approved by cto@example.com');
    expect(f.workflow.successes).toHaveLength(1);
    expect((await f.store.getApproval(APPROVAL_ID))?.decidedBy).toBe('lead@example.com, cto@example.com');
  });

  it('fails the workflow with ApprovalHeldError on hold, and a hold needs a reason', async () => {
    // Prepare
    const f = await setup();

    // Act
    const bare = await f.decide(f.link('cto@example.com'), 'hold');
    const held = await f.decide(f.link('cto@example.com'), 'hold', { comment: 'wait for the launch' });

    // Assess
    expect(bare.statusCode).toBe(400);
    expect(bare.html).toContain('a hold needs a reason');
    expect(held.statusCode).toBe(200);
    expect(f.workflow.failures).toEqual([
      {
        token: 'secret-token',
        error: 'ApprovalHeldError',
        cause: 'held by cto@example.com: wait for the launch',
      },
    ]);
  });

  it('forbids self-approval: the person who moved the task cannot approve it', async () => {
    // Prepare
    const f = await setup({ requester: ['lead@example.com', '101'] });

    // Act
    const answer = await f.decide(f.link('lead@example.com'), 'approve');

    // Assess
    expect(answer.statusCode).toBe(403);
    expect(answer.html).toContain('self-approval is forbidden');
    expect(f.workflow.successes).toEqual([]);
    expect(f.refusals().map((r) => r.actor)).toEqual(['lead@example.com']);
  });

  describe('attacks: none approves, each is audited', () => {
    it('refuses a forged signature, on GET and on POST', async () => {
      // Prepare
      const f = await setup();
      const token = f.link('lead@example.com');
      const forged = `${token.slice(0, -4)}AAAA`;

      // Act
      const page = await handleApprovalRequest(f.request({ query: { t: forged } }), f.ports);
      const post = await handleApprovalRequest(
        f.request({ method: 'POST', form: { t: forged, csrf: 'x', plan_hash: HASH, decision: 'approve' } }),
        f.ports,
      );

      // Assess
      expect([page.statusCode, post.statusCode]).toEqual([403, 403]);
      expect(page.html).toContain('this approval link is not valid');
      expect(f.workflow.successes).toEqual([]);
      expect(f.refusals().map((r) => r.detail?.split(';')[0])).toEqual([
        'link bad-signature',
        'link bad-signature',
      ]);
    });

    it('refuses the link of another approver edited to name someone else', async () => {
      // Prepare
      const f = await setup();
      const [v, kid, body, mac] = f.link('cto@example.com').split('.');
      const claims = JSON.parse(Buffer.from(body ?? '', 'base64url').toString()) as Record<string, unknown>;
      const edited = [
        v,
        kid,
        Buffer.from(JSON.stringify({ ...claims, p: 'lead@example.com' })).toString('base64url'),
        mac,
      ].join('.');

      // Act
      const answer = await f.decide(edited, 'approve');

      // Assess
      expect(answer.statusCode).toBe(403);
      expect(f.workflow.successes).toEqual([]);
      expect(f.refusals().length).toBeGreaterThanOrEqual(1);
    });

    it('refuses a valid link of another approval request', async () => {
      // Prepare
      const f = await setup();

      // Act
      const answer = await f.decide(f.link('lead@example.com', 'appr0000000000000002'), 'approve');

      // Assess
      expect(answer.statusCode).toBe(403);
      expect(answer.html).toContain('belongs to another approval request');
      expect(f.workflow.successes).toEqual([]);
    });

    it('refuses an expired link', async () => {
      // Prepare
      const f = await setup();
      const token = f.link('lead@example.com');
      f.clock.advance(3601);

      // Act
      const answer = await f.decide(token, 'approve');

      // Assess
      expect(answer.statusCode).toBe(410);
      expect(answer.html).toContain('expired');
      expect(f.workflow.successes).toEqual([]);
      expect(f.refusals().at(-1)?.detail).toContain('link expired');
    });

    it('refuses a replayed link: the same POST sent again changes nothing', async () => {
      // Prepare
      const f = await setup({ quorum: 2 });
      const token = f.link('lead@example.com');
      const opened = await f.open(token);
      const post = f.request({
        method: 'POST',
        form: { ...opened.form, decision: 'approve' },
        cookies: { [CSRF_COOKIE]: opened.cookie },
      });
      const first = await handleApprovalRequest(post, f.ports);

      // Act
      const replay = await handleApprovalRequest(post, f.ports);
      const page = await f.open(token);

      // Assess
      expect(first.statusCode).toBe(200);
      expect(replay.statusCode).toBe(409);
      expect(replay.html).toContain('already decided &quot;approve&quot;');
      expect(page.page.html).toContain('You already approved');
      expect((await f.store.getApproval(APPROVAL_ID))?.votes).toHaveLength(1);
      expect(f.workflow.successes).toEqual([]);
      expect(f.refusals()).toHaveLength(1);
    });

    it('never decides on GET, even with the approve action in the query', async () => {
      // Prepare
      const f = await setup();

      // Act
      const page = await handleApprovalRequest(
        f.request({ query: { t: f.link('lead@example.com'), decision: 'approve' } }),
        f.ports,
      );

      // Assess
      expect(page.statusCode).toBe(200);
      expect(page.html).toContain('Opening a link never decides anything');
      expect((await f.store.getApproval(APPROVAL_ID))?.status).toBe('pending');
      expect(f.workflow.successes).toEqual([]);
    });

    it('refuses a POST without the anti-forgery token, or with the cookie of another browser', async () => {
      // Prepare
      const f = await setup();
      const token = f.link('lead@example.com');

      // Act
      const missing = await f.decide(token, 'approve', { form: { csrf: '' } });
      const otherBrowser = await f.decide(token, 'approve', { cookie: 'someone-elses-cookie-value' });

      // Assess
      expect([missing.statusCode, otherBrowser.statusCode]).toEqual([403, 403]);
      expect(missing.html).toContain('anti-forgery check failed');
      expect(f.workflow.successes).toEqual([]);
      expect(f.refusals()).toHaveLength(2);
    });

    it('refuses an approval after a hold', async () => {
      // Prepare
      const f = await setup();
      const lead = await f.open(f.link('lead@example.com'));
      await f.decide(f.link('cto@example.com'), 'hold', { comment: 'not today' });

      // Act
      const page = await f.open(f.link('lead@example.com'));
      const late = await handleApprovalRequest(
        f.request({
          method: 'POST',
          form: { ...lead.form, decision: 'approve' },
          cookies: { [CSRF_COOKIE]: lead.cookie },
        }),
        f.ports,
      );

      // Assess
      expect(page.page.html).toContain('Held by cto@example.com');
      expect(page.page.html).not.toContain('<form');
      expect(late.statusCode).toBe(409);
      expect(late.html).toContain('already held by cto@example.com');
      expect(f.workflow.successes).toEqual([]);
      expect(f.refusals().map((r) => r.actor)).toEqual(['lead@example.com']);
    });

    it('refuses an approval for a different plan hash than the request', async () => {
      // Prepare
      const f = await setup();

      // Act
      const answer = await f.decide(f.link('lead@example.com'), 'approve', {
        form: { plan_hash: 'e'.repeat(64) },
      });

      // Assess
      expect(answer.statusCode).toBe(409);
      expect(answer.html).toContain('the plan changed since this page was shown');
      expect(f.workflow.successes).toEqual([]);
      expect(f.refusals()).toHaveLength(1);
    });

    it('refuses a ClickUp /deploy approve from someone who is not an approver', async () => {
      // Prepare
      const f = await setup();
      await f.store.updateDeployment('t1-1', { status: 'awaiting-approval' });

      // Act
      const outcome = await runCommentCommand(
        parseCommand('/deploy approve') ?? { ok: false, error: '', usage: '' },
        { taskId: 't1', commentId: 'c1', commenter: { id: '555', email: 'mallory@example.com' } },
        f.ports,
      );

      // Assess
      expect(outcome).toMatchObject({ result: 'refused' });
      expect(f.workflow.successes).toEqual([]);
      expect(f.refusals().map((r) => [r.actor, r.channel])).toEqual([['mallory@example.com', 'comment']]);
      expect(f.tracker.comments.at(-1)?.text).toContain('not a configured approver');
    });
  });

  it('lets the break-glass role approve alone with a reason, and says so loudly on the task', async () => {
    // Prepare
    const f = await setup({ quorum: 2 });

    // Act
    const bare = await runCommentCommand(
      parseCommand('/deploy break-glass') ?? { ok: false, error: '', usage: '' },
      { taskId: 't1', commentId: 'c1', commenter: { id: '103' } },
      f.ports,
    );
    const approved = await runCommentCommand(
      parseCommand('/deploy break-glass database on fire, approvers asleep') ?? {
        ok: false,
        error: '',
        usage: '',
      },
      { taskId: 't1', commentId: 'c2', commenter: { id: '103' } },
      f.ports,
    );

    // Assess
    expect(bare).toMatchObject({ result: 'refused' });
    expect(approved).toMatchObject({ result: 'accepted', action: 'approve' });
    expect(f.workflow.successes).toHaveLength(1);
    expect(
      f.tracker.comments.some((c) => c.text.startsWith('🚨 BREAK-GLASS APPROVAL by oncall@example.com')),
    ).toBe(true);
    expect(f.store.audit.map((a) => a.action)).toContain('break-glass-approved');
    expect((await f.store.getDeployment('t1-1'))?.approval).toMatchObject({ breakGlass: true });
  });

  it('counts a ClickUp approval by an approver toward the quorum like a link', async () => {
    // Prepare
    const f = await setup({ quorum: 2 });
    await f.decide(f.link('lead@example.com'), 'approve');

    // Act
    const outcome = await runCommentCommand(
      parseCommand('/deploy approve ship it') ?? { ok: false, error: '', usage: '' },
      { taskId: 't1', commentId: 'c9', commenter: { id: '102' } },
      f.ports,
    );

    // Assess
    expect(outcome).toMatchObject({ result: 'accepted' });
    expect(f.workflow.successes).toHaveLength(1);
    expect((await f.store.getApproval(APPROVAL_ID))?.votes.map((v) => [v.by, v.channel])).toEqual([
      ['lead@example.com', 'link'],
      ['cto@example.com', 'clickup'],
    ]);
  });

  it('refuses a vote after the request expired, whatever the channel', async () => {
    // Prepare
    const f = await setup();
    f.clock.advance(3601);

    // Act
    const vote = castVote(
      APPROVAL_ID,
      { by: 'lead@example.com', decision: 'approve', at: f.clock.now().toISOString(), channel: 'cli' },
      {},
      f.ports,
    );

    // Assess
    await expect(vote).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining('expired'),
    });
    expect(f.workflow.successes).toEqual([]);
  });

  it('answers an unknown or malformed approval id with 404 and a page that says so', async () => {
    // Prepare
    const f = await setup();

    // Act
    const [unknown, malformed] = await Promise.all([
      handleApprovalRequest(f.request({ approvalId: 'appr9999999999999999' }), f.ports),
      handleApprovalRequest(f.request({ approvalId: '../etc' }), f.ports),
    ]);

    // Assess
    expect([unknown.statusCode, malformed.statusCode]).toEqual([404, 404]);
    expect(unknown.html).toContain('this approval link is unknown');
  });
});
