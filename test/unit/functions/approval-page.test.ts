import {
  getApprovalView,
  renderApprovalPage,
  submitApprovalDecision,
} from '../../../functions/approval-page/approval-page.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

const APPROVAL_ID = 'appr0000000000000001';

const setup = async () => {
  const f = fakePorts();
  await f.store.createDeployment(
    aDeployment({
      status: 'awaiting-approval',
      stage: 'RequestApproval',
      plan: {
        hash: 'f'.repeat(64),
        key: 'plans/t1-1.md',
        risk: 'low',
        markdown: '# Deployment Plan: <script>x</script>',
      },
    }),
  );
  await f.store.putApproval(
    anApproval({
      approvalId: APPROVAL_ID,
      expiresAt: new Date(f.clock.now().getTime() + 3600_000).toISOString(),
    }),
  );
  return f;
};

describe('approval page', () => {
  it('shows the plan without the task token and without deciding anything', async () => {
    // Prepare
    const { ports, workflow, store } = await setup();

    // Act
    const html = renderApprovalPage(await getApprovalView(APPROVAL_ID, ports), `/approvals/${APPROVAL_ID}`);

    // Assess
    expect(html).toContain('Approve deployment: User Notifications');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('secret-token');
    expect(html).toContain('method="post"');
    expect(workflow.successes).toEqual([]);
    expect((await store.getApproval(APPROVAL_ID))?.status).toBe('pending');
  });

  it('answers the workflow once when an approver approves', async () => {
    // Prepare
    const { ports, workflow, store } = await setup();

    // Act
    const decision = await submitApprovalDecision(
      APPROVAL_ID,
      { decision: 'approve', approver: 'Lead@Example.com' },
      { channel: 'link', sourceIp: '127.0.0.1' },
      ports,
    );
    const again = submitApprovalDecision(
      APPROVAL_ID,
      { decision: 'approve', approver: 'lead@example.com' },
      { channel: 'link' },
      ports,
    );

    // Assess
    expect(decision).toMatchObject({ decision: 'approved', by: 'Lead@Example.com', channel: 'link' });
    expect(workflow.successes).toEqual([{ token: 'secret-token', output: decision }]);
    await expect(again).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining('already approved by Lead@Example.com'),
    });
    expect(workflow.successes).toHaveLength(1);
    expect(store.audit.map((a) => a.action)).toEqual(['approved', 'decision-refused']);
  });

  it('fails the workflow token with ApprovalHeldError on hold, and needs a reason', async () => {
    // Prepare
    const { ports, workflow } = await setup();

    // Act
    const noReason = submitApprovalDecision(
      APPROVAL_ID,
      { decision: 'hold', approver: 'lead@example.com' },
      { channel: 'link' },
      ports,
    );
    await expect(noReason).rejects.toMatchObject({
      name: 'BadRequestError',
      message: 'a hold needs a reason in the comment',
    });
    await submitApprovalDecision(
      APPROVAL_ID,
      { decision: 'hold', approver: 'lead@example.com', comment: 'launch tomorrow' },
      { channel: 'link' },
      ports,
    );

    // Assess
    expect(workflow.failures).toEqual([
      {
        token: 'secret-token',
        error: 'ApprovalHeldError',
        cause: 'held by lead@example.com: launch tomorrow',
      },
    ]);
  });

  it('refuses someone who is not an approver, and changes nothing', async () => {
    // Prepare
    const { ports, workflow, store } = await setup();

    // Act
    const act = submitApprovalDecision(
      APPROVAL_ID,
      { decision: 'approve', approver: 'mallory@example.com' },
      { channel: 'link' },
      ports,
    );

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ForbiddenError' });
    expect(workflow.successes).toEqual([]);
    expect((await store.getApproval(APPROVAL_ID))?.status).toBe('pending');
  });

  it('refuses a late decision after the request expired', async () => {
    // Prepare
    const { ports, workflow, clock } = await setup();
    clock.advance(3601);

    // Act
    const act = submitApprovalDecision(
      APPROVAL_ID,
      { decision: 'approve', approver: 'lead@example.com' },
      { channel: 'link' },
      ports,
    );

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'ConflictError',
      message: expect.stringContaining('expired'),
    });
    expect(workflow.successes).toEqual([]);
  });

  it('answers unknown and malformed links with NotFound', async () => {
    // Prepare
    const { ports } = await setup();

    // Act
    const unknown = getApprovalView('doesnotexist000000', ports);
    const malformed = getApprovalView('../../etc/passwd', ports);

    // Assess
    await expect(unknown).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(malformed).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
