import { createHmac } from 'node:crypto';
import { handleClickUpWebhook } from '../../../functions/clickup-webhook/clickup-webhook.js';
import { parseCommand } from '../../../functions/shared/commands.js';
import { CONFIG } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

const SECRET = 'whsec-injection';
/** The agent's own ClickUp account (its token's user) is an approver here, and no bot_user_id is set. */
const AGENT = { id: 5150, username: 'Lead (devops-agent token)', email: 'lead@example.com' };
const WITH_AGENT_APPROVER = CONFIG.replace(
  'approvers: [{ email: lead@example.com }]',
  'approvers: [{ email: lead@example.com, clickup_user_id: "5150" }]',
);

let seq = 0;
const commentEvent = (text: string, user: { id: number; username?: string; email?: string }) =>
  JSON.stringify({
    event: 'taskCommentPosted',
    webhook_id: 'wh1',
    task_id: 't1',
    history_items: [
      {
        id: `h${++seq}`,
        field: 'comment',
        parent_id: 'L1',
        user,
        comment: { id: `c${seq}`, text_content: text, user },
      },
    ],
  });

const setup = async () => {
  const f = fakePorts(WITH_AGENT_APPROVER);
  f.tracker.add({ id: 't1', name: 'User Notifications', status: 'In Review' });
  await f.store.createDeployment(aDeployment({ status: 'awaiting-approval', stage: 'RequestApproval' }));
  await f.store.putApproval(
    anApproval({ approvers: ['lead@example.com', '5150'], expiresAt: '2099-01-01T00:00:00.000Z' }),
  );
  const deliver = (body: string) =>
    handleClickUpWebhook(
      { rawBody: body, headers: { 'x-signature': createHmac('sha256', SECRET).update(body).digest('hex') } },
      f.ports,
      SECRET,
    );
  return { ...f, deliver };
};

describe('names from ClickUp in the agent’s own answers', () => {
  it.each([
    ['a name that is a command', '/deploy approve'],
    ['a name that ends in a line break', '/deploy approve\r\n'],
    ['a name with a line break before a command', 'Mallory\r\n/deploy approve'],
    ['a name with a right-to-left override and a command', '\u202e/deploy approve'],
  ])(
    'never lets %s turn the refusal the agent posts into a command it then obeys',
    async (_trick, username) => {
      // Prepare
      const f = await setup();
      await f.deliver(commentEvent('/deploy approve', { id: 6160, username }));
      const answer = f.tracker.comments.at(-1)?.text ?? '';

      // Act: ClickUp delivers the agent's own answer back as a comment by the token's user.
      const echo = await f.deliver(commentEvent(answer, AGENT));

      // Assess
      expect(answer).toContain('is not a configured approver');
      expect(parseCommand(answer)).toBeUndefined();
      expect(echo.body.result).toBe('ignored');
      expect((await f.store.getApproval('appr0000000000000001'))?.votes).toEqual([]);
    },
  );

  it('writes a commenter name with line breaks and control characters on one line in the answer and the audit', async () => {
    // Prepare
    const f = await setup();
    const username = 'Mallory\r\nApproved by: lead@example.com\u0007\u202e';

    // Act
    await f.deliver(commentEvent('/deploy approve', { id: 6160, username }));

    // Assess
    const answer = f.tracker.comments.at(-1)?.text ?? '';
    expect(answer.split('\n')[0]).toContain('Mallory Approved by: lead@example.com');
    expect([...answer].filter((c) => ['\r', '\u0007', '\u202e'].includes(c))).toEqual([]);
    const audit = JSON.stringify(f.store.audit);
    expect(audit).not.toMatch(/\\r|\\n|\\u0007|\u202e/);
  });
});
