import { ConflictError, ForbiddenError, NotFoundError } from '../../../functions/shared/errors.js';
import { requestRollback } from '../../../functions/shared/manual-rollback.js';
import { CONFIG } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment } from '../../fixtures/records.js';

const WITH_CLICKUP_ID = CONFIG.replace(
  'approvers: [{ email: lead@example.com }]',
  'approvers: [{ email: lead@example.com, clickup_user_id: "5150" }]',
);

const baking = async () => {
  const f = fakePorts(WITH_CLICKUP_ID);
  await f.store.createDeployment(aDeployment({ status: 'monitoring', stage: 'Monitor' }));
  await f.store.setMonitorToken('t1-1', 'bake-token');
  return f;
};

const cli = (as: string, reason?: string) => ({
  taskId: 't1',
  actor: { name: as, ids: [as] },
  channel: 'cli' as const,
  ...(reason ? { reason } : {}),
});

describe('requestRollback', () => {
  it('fails the bake interval with RollbackRequestedError for an approver and audits it on the channel', async () => {
    // Prepare
    const f = await baking();

    // Act
    const accepted = await requestRollback(cli('Lead@Example.com', 'p99 climbing'), f.ports);

    // Assess
    expect(accepted).toEqual({
      deploymentId: 't1-1',
      approver: 'lead@example.com',
      reason: 'rollback requested by lead@example.com from the devops-agent command line: p99 climbing',
    });
    expect(f.workflow.failures).toEqual([
      { token: 'bake-token', error: 'RollbackRequestedError', cause: accepted.reason },
    ]);
    expect(await f.store.getMonitorToken('t1-1')).toBeUndefined();
    expect(f.store.audit).toContainEqual(
      expect.objectContaining({
        deploymentId: 't1-1',
        action: 'rollback-requested',
        actor: 'Lead@Example.com',
        channel: 'cli',
      }),
    );
  });

  it("recognises an approver by their ClickUp id and names the comment's origin and reference", async () => {
    // Prepare
    const f = await baking();

    // Act
    const accepted = await requestRollback(
      {
        taskId: 't1',
        actor: { name: 'Alice', ids: ['5150'] },
        channel: 'comment',
        origin: 'in a ClickUp comment on task t2',
        reference: 'comment c9',
      },
      f.ports,
    );

    // Assess
    expect(accepted.reason).toBe('rollback requested by lead@example.com in a ClickUp comment on task t2');
    expect(f.store.audit).toContainEqual(
      expect.objectContaining({ channel: 'comment', detail: `${accepted.reason}; comment c9` }),
    );
  });

  it('refuses a non-approver with ForbiddenError, audits the refusal and leaves the bake running', async () => {
    // Prepare
    const f = await baking();

    // Act
    const attempt = requestRollback(cli('mallory@example.com'), f.ports);

    // Assess
    await expect(attempt).rejects.toThrow(ForbiddenError);
    await expect(attempt).rejects.toThrow(
      'mallory@example.com is not a configured approver of notifications/production; only approvers may roll back. Nothing changed.',
    );
    expect(f.workflow.failures).toEqual([]);
    expect(await f.store.getMonitorToken('t1-1')).toBe('bake-token');
    expect(f.store.audit).toEqual([
      expect.objectContaining({ action: 'rollback-refused', actor: 'mallory@example.com', channel: 'cli' }),
    ]);
  });

  it('answers between two bake intervals with a ConflictError saying to run it again', async () => {
    // Prepare
    const f = fakePorts();
    await f.store.createDeployment(aDeployment({ status: 'monitoring', stage: 'Monitor' }));

    // Act
    const attempt = requestRollback(cli('lead@example.com'), f.ports);

    // Assess
    await expect(attempt).rejects.toThrow(ConflictError);
    await expect(attempt).rejects.toThrow(
      't1-1 is between two bake intervals right now; run `devops-agent rollback t1` again in a moment.',
    );
    expect(f.workflow.failures).toEqual([]);
  });

  it.each([
    // a rolled-back deployment has nothing live to roll back (after Deployed is another path of the core)
    ['rolled back', 'rolled-back' as const, 't1-1'],
    ['still deploying', 'deploying' as const, 'is deploying, not baking; `devops-agent rollback` interrupts'],
  ])('refuses a %s deployment with a ConflictError and changes nothing', async (_name, status, answer) => {
    // Prepare
    const f = fakePorts();
    await f.store.createDeployment(aDeployment({ status }));

    // Act
    const attempt = requestRollback(cli('lead@example.com'), f.ports);

    // Assess
    await expect(attempt).rejects.toThrow(ConflictError);
    await expect(attempt).rejects.toThrow(answer);
    expect(f.workflow.failures).toEqual([]);
    expect((await f.store.getDeployment('t1-1'))?.status).toBe(status);
  });

  it('refuses a task without a deployment with NotFoundError', async () => {
    // Prepare
    const f = fakePorts();

    // Act
    const attempt = requestRollback(cli('lead@example.com'), f.ports);

    // Assess
    await expect(attempt).rejects.toThrow(NotFoundError);
    await expect(attempt).rejects.toThrow('Task t1 has no deployment to roll back.');
    expect(f.store.audit).toEqual([
      expect.objectContaining({ deploymentId: 'task:t1', action: 'rollback-refused' }),
    ]);
  });
});
