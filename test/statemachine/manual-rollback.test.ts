import { ConflictError, ForbiddenError } from '../../functions/shared/errors.js';
import { requestRollback } from '../../functions/shared/manual-rollback.js';
import { createHarness } from './harness.js';

const byLead = { name: 'lead@example.com', ids: ['lead@example.com'] };

describe('manual rollback after Deployed (a rollback run of the same definition)', () => {
  it('undoes the deployed steps newest first from what they recorded, without gates, plan or approval', async () => {
    // Prepare: a deployment that went all the way
    const h = createHarness();
    const deployed = await h.run();
    const mailsBefore = h.notifier.sent.length;
    const commentsBefore = h.tracker.textsOf('t1').length;

    // Act
    const accepted = await requestRollback(
      { taskId: 't1', actor: byLead, channel: 'cli', reason: 'customers get every notification twice' },
      h.ports,
    );
    const execution = await h.drive(accepted.deploymentId);

    // Assess
    expect(deployed.record.outcome).toBe('deployed');
    expect(accepted.deploymentId).toBe(`${deployed.deploymentId}-rollback`);
    expect(execution).toMatchObject({ status: 'SUCCEEDED', currentState: 'RolledBackOnRequest' });
    const run = await h.store.getDeployment(accepted.deploymentId);
    expect(run).toMatchObject({ rollbackOf: deployed.deploymentId, outcome: 'rolled-back' });
    expect(run?.rollback?.reason).toBe(
      `rollback of ${deployed.deploymentId} requested by lead@example.com from the devops-agent command line: customers get every notification twice`,
    );
    expect(run?.rollback?.steps.map((s) => [s.name, s.status])).toEqual([
      ['Deploy frontend', 'rolled-back'],
      ['Deploy backend', 'rolled-back'],
      ['Database migration', 'kept'],
    ]);
    expect(h.steps.undone).toEqual(['Deploy frontend', 'Deploy backend']);
    expect((await h.store.getDeployment(deployed.deploymentId))?.rolledBackBy).toMatchObject({
      deploymentId: accepted.deploymentId,
      by: 'lead@example.com',
    });
    const comments = h.tracker.textsOf('t1').slice(commentsBefore);
    expect(comments[0]).toMatch(/^↩️ DevOps: Rolling back t1-1 of User Notifications in production/);
    expect(comments.some((c) => c.startsWith('↩️ Starting the requested rollback of t1-1'))).toBe(true);
    expect(comments.at(-1)).toMatch(/^↩️ ROLLED BACK: t1-1 was undone on request\./);
    expect(comments.some((c) => c.includes('Deployment Plan') || c.includes('Quality gates'))).toBe(false);
    expect(h.notifier.sent).toHaveLength(mailsBefore);
    expect(h.store.locks.get('notifications/production')?.owner).toBe('');
    expect((await h.store.listAudit(deployed.deploymentId)).map((a) => a.action)).toContain(
      'rollback-requested',
    );
  }, 30_000);

  it('refuses someone who is not an approver, and a second rollback of the same deployment', async () => {
    // Prepare
    const h = createHarness();
    await h.run();

    // Act
    const stranger = requestRollback(
      { taskId: 't1', actor: { name: 'intern@example.com', ids: ['intern@example.com'] }, channel: 'cli' },
      h.ports,
    );
    await expect(stranger).rejects.toThrow(ForbiddenError);
    const first = await requestRollback({ taskId: 't1', actor: byLead, channel: 'comment' }, h.ports);
    await h.drive(first.deploymentId);
    const second = requestRollback({ taskId: 't1', actor: byLead, channel: 'comment' }, h.ports);

    // Assess
    await expect(second).rejects.toThrow(ConflictError);
    await expect(second).rejects.toThrow(/already rolled back t1-1/);
    expect(h.workflow.execution('t1-1-rollback')).toBeDefined();
    expect((await h.store.listDeployments({ taskId: 't1' })).map((d) => d.deploymentId).sort()).toEqual([
      't1-1',
      't1-1-rollback',
    ]);
  }, 30_000);
});
