import {
  requestApproval,
  requesterIdentities,
} from '../../../functions/request-approval/request-approval.js';
import { verifyLink } from '../../../functions/shared/approval-links.js';
import { parseConfig } from '../../../functions/shared/config/load.js';
import { CONFIG } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment } from '../../fixtures/records.js';

const TWO = CONFIG.replace(
  'approvers: [{ email: lead@example.com }]',
  'approvers: [{ email: Lead@Example.com, clickup_user_id: "101" }, { email: cto@example.com }, { clickup_user_id: "103" }]\n    approval: { quorum: 2 }',
);
const HASH = 'a'.repeat(64);

const input = (token: string, extra: Record<string, unknown> = {}) => ({
  token,
  state: {
    deploymentId: 't1-1',
    taskId: 't1',
    service: 'notifications',
    environment: 'production',
    trigger: 'status',
    requestedAt: '2026-11-28T10:00:00.000Z',
    requestedBy: 'dana@example.com',
    requesterIds: ['4242', 'dana@example.com'],
    plan: { hash: HASH, key: 'plans/t1-1.md', risk: 'low' },
    ...extra,
  },
});

const setup = async () => {
  const f = fakePorts(TWO);
  f.tracker.add({ id: 't1', name: 'User Notifications', customFields: {} });
  await f.store.createDeployment(
    aDeployment({
      status: 'checking',
      plan: {
        hash: HASH,
        key: 'plans/t1-1.md',
        risk: 'low',
        markdown:
          '# Plan\n\n## Deployment Steps\n1. **Deploy backend** (command): `deploy backend`\n\n## Verification Plan\n- x',
      },
    }),
  );
  return f;
};

describe('requestApproval', () => {
  it('mails each approver with an email a personal signed link, and never the task token', async () => {
    // Prepare
    const f = await setup();

    // Act
    await requestApproval(input('task-token-SECRET'), f.ports);

    // Assess
    const approval = await f.store.findApprovalByDeployment('t1-1');
    expect(approval).toMatchObject({
      taskToken: 'task-token-SECRET',
      planHash: HASH,
      approvers: ['lead@example.com', 'cto@example.com', '103'],
      quorum: 2,
      votes: [],
      requester: ['4242', 'dana@example.com'],
      status: 'pending',
    });
    expect(f.notifier.sent.map((m) => m.to)).toEqual([['Lead@Example.com'], ['cto@example.com']]);
    const keys = await f.ports.approvalKeys.all();
    const claims = f.notifier.sent.map((m) => {
      const token = decodeURIComponent(/\?t=(\S+)/.exec(m.text)?.[1] ?? '');
      return verifyLink(keys, token, approval?.approvalId ?? '', f.clock.now());
    });
    expect(claims.map((c) => c.approver)).toEqual(['lead@example.com', 'cto@example.com']);
    expect(claims[0]?.linkId).not.toBe(claims[1]?.linkId);
    for (const m of f.notifier.sent) {
      expect(m.text).toContain(`Plan hash: ${HASH}`);
      expect(m.text).toContain('1. **Deploy backend** (command): `deploy backend`');
      expect(m.html).toContain('Review the plan and decide');
    }
    const everything = JSON.stringify([f.notifier.sent, f.tracker.comments, f.store.audit]);
    expect(everything).not.toContain('task-token-SECRET');
    expect(f.tracker.comments.at(-1)?.text).toContain('Approvals needed: 2 of 3');
    expect(f.store.audit.at(-1)?.detail).toContain('self-approval forbidden for 4242, dana@example.com');
  });

  it('supersedes the pending request of an earlier attempt, so its links can no longer decide', async () => {
    // Prepare
    const f = await setup();
    await requestApproval(input('token-1'), f.ports);
    const first = await f.store.findApprovalByDeployment('t1-1');

    // Act
    await requestApproval(input('token-1'), f.ports);
    const mailsAfterRetry = f.notifier.sent.length;
    await requestApproval(input('token-2'), f.ports);

    // Assess
    expect(mailsAfterRetry).toBe(2);
    expect(await f.store.getApproval(first?.approvalId ?? '')).toMatchObject({
      status: 'expired',
      comment: 'superseded by a newer approval request',
    });
    expect((await f.store.findApprovalByDeployment('t1-1'))?.taskToken).toBe('token-2');
  });

  it('counts every identity of a requester who is an approver as the requester', () => {
    // Prepare
    const [service] = parseConfig(TWO, 'test.yaml').services;
    if (!service) throw new Error('no service');

    // Act
    const byClickUpId = requesterIdentities(service, ['101']);
    const byEmail = requesterIdentities(service, ['LEAD@example.com']);
    const stranger = requesterIdentities(service, ['4242', 'dana@example.com']);

    // Assess
    expect(byClickUpId).toEqual(['101', 'lead@example.com']);
    expect(byEmail).toEqual(['lead@example.com']);
    expect(stranger).toEqual(['4242', 'dana@example.com']);
  });
});
