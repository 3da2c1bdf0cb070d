import { TransientDependencyError } from '../../functions/shared/errors.js';
import { CONFIG, RELEASE_FIELDS } from '../fixtures/config.js';
import { createHarness } from './harness.js';

describe('deployment workflow paths (synthesized definition, local runner)', () => {
  it('deploys, bakes and sets the task to Deployed when everything passes', async () => {
    // Prepare
    const h = createHarness();

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'SUCCEEDED', currentState: 'Deployed' });
    expect(record).toMatchObject({ status: 'deployed', outcome: 'deployed' });
    expect(record.steps.map((s) => [s.name, s.status])).toEqual([
      ['Database migration', 'succeeded'],
      ['Deploy backend', 'succeeded'],
      ['Deploy frontend', 'succeeded'],
    ]);
    expect(record.monitoring?.reports).toHaveLength(2);
    expect(record.approval).toMatchObject({ decision: 'approved', by: 'lead@example.com' });
    expect(h.tracker.statusMoves).toEqual(['t1: Deploying', 't1: Deployed']);
    expect(comments[0]).toMatch(/^🚀 DevOps: Preparing deployment of User Notifications/);
    expect(comments.some((c) => c.startsWith('# Deployment Plan: User Notifications'))).toBe(true);
    expect(comments.some((c) => c.includes('PRODUCTION DEPLOY READY'))).toBe(true);
    expect(comments.filter((c) => c.startsWith('📊 Deployment Status Update'))).toHaveLength(2);
    expect(comments.at(-1)).toMatch(/^✅ DEPLOYED TO PRODUCTION/);
    expect(h.notifier.sent[0]).toMatchObject({ to: ['lead@example.com'] });
    expect(h.artifacts.files.has(`records/${record.deploymentId}.md`)).toBe(true);
    expect(h.store.locks.get('notifications/production')?.owner).toBe('');
    // Tens of transitions for a bake, not hundreds (Step Functions bills per transition).
    expect(execution.transitions).toBeLessThan(40);
  });

  it('blocks and deploys nothing when a quality gate is not met', async () => {
    // Prepare
    const h = createHarness();
    h.tracker.add({
      id: 't1',
      name: 'User Notifications',
      customFields: { ...RELEASE_FIELDS, QA: 'Pending' },
    });
    h.sourceControl.status = { state: 'pending', checks: [] };

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'GatesNotMet', currentState: 'Blocked' });
    expect(record).toMatchObject({ status: 'blocked', outcome: 'blocked' });
    expect(h.steps.ran).toEqual([]);
    const blocked = comments.find((c) => c.startsWith('⚠️ DEPLOYMENT BLOCKED'));
    expect(blocked).toContain('✗ QA approved: QA: Pending');
    expect(blocked).toContain('✗ CI green: pending on abc1234 (no checks reported)');
    expect(blocked).toContain(`Deployment record: memory://records/${record.deploymentId}.md`);
    expect(h.artifacts.files.get(`records/${record.deploymentId}.md`)).toContain('✗ QA approved');
    expect(h.store.locks.get('notifications/production')?.owner).toBe('');
  });

  it('holds and deploys nothing when the approver holds', async () => {
    // Prepare
    const h = createHarness({ approval: 'hold' });

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'DeploymentHeld' });
    expect(record).toMatchObject({
      status: 'held',
      approval: { decision: 'held', comment: 'wait for the marketing launch' },
    });
    expect(h.steps.ran).toEqual([]);
    expect(comments.at(-1)).toMatch(
      /^⏸️ DEPLOYMENT HELD by lead@example.com\n\nReason: wait for the marketing launch/,
    );
    expect(comments.at(-1)).toContain(`Deployment record: memory://records/${record.deploymentId}.md`);
    expect(h.artifacts.files.get(`records/${record.deploymentId}.md`)).toContain(
      'wait for the marketing launch',
    );
    expect(h.store.audit.map((a) => a.action)).toEqual([
      'deployment-requested',
      'approval-requested',
      'held',
    ]);
  });

  it('holds and records the expiry when nobody approves in time', async () => {
    // Prepare
    const h = createHarness({ approval: 'expire' });

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'DeploymentHeld' });
    expect(record).toMatchObject({ status: 'held', approval: { decision: 'expired' } });
    expect((await h.store.findApprovalByDeployment(record.deploymentId))?.status).toBe('expired');
    expect(comments.at(-1)).toMatch(/^⌛ APPROVAL EXPIRED/);
    expect(h.steps.ran).toEqual([]);
  });

  it.each([
    ['Database migration', [], []],
    ['Deploy backend', ['Database migration'], ['Deploy backend']],
    ['Deploy frontend', ['Database migration', 'Deploy backend'], ['Deploy frontend', 'Deploy backend']],
  ])('rolls back in reverse order when "%s" fails', async (failing, _before, undone) => {
    // Prepare
    const h = createHarness();
    h.steps.failOn = failing;

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'DeploymentRolledBack' });
    expect(record.status).toBe('rolled-back');
    // The migration is kept (keep database), everything else is undone newest first.
    expect(h.steps.undone).toEqual(undone);
    const migration = record.rollback?.steps.find((s) => s.name === 'Database migration');
    expect(migration?.status).toBe('kept');
    expect(comments).toContain(
      `❌ Deployment failed at step: ${failing}\nError: exit code 1: ${failing} broke`,
    );
    const report = comments.at(-1) ?? '';
    expect(report).toMatch(/^❌ DEPLOYMENT FAILED\n\nFailed at: .+ step/);
    expect(report).toContain('Automatic rollback completed successfully.');
    expect(h.tracker.statusMoves).toEqual(['t1: Deploying', 't1: Deploy Failed']);
    expect(h.store.locks.get('notifications/production')?.owner).toBe('');
  });

  it('rolls back when verification fails', async () => {
    // Prepare
    const h = createHarness({
      config: CONFIG.replace('monitoring_period: 30m', 'monitoring_period: 30m\n  verification_timeout: 3s'),
    });
    h.checks.results = [false, false, false, false, false];

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'DeploymentRolledBack' });
    expect(record.verification?.[0]).toMatchObject({ passed: false });
    expect(h.steps.undone).toEqual(['Deploy frontend', 'Deploy backend']);
    expect(comments.at(-1)).toContain('Failed at: verification');
  });

  it('rolls back when an alarm fires during the bake, with the root cause', async () => {
    // Prepare
    const h = createHarness();
    h.alarms.breachAfter = 3; // gates, first interval, first report pass; the next reading breaches

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'DeploymentRolledBack' });
    expect(record.monitoring?.breach ?? record.rollback?.reason).toContain('error rate 34.0% > 1% for 5m');
    expect(h.steps.undone).toEqual(['Deploy frontend', 'Deploy backend']);
    const report = comments.at(-1) ?? '';
    expect(report).toContain('Failed at: post-deploy monitoring');
    expect(report).toContain(
      'Root cause: the release deployed by Database migration, Deploy backend, Deploy frontend degraded production',
    );
    expect(report).toContain('error rate 34.0% > 1% for 5m');
  });

  it('escalates and keeps the lock when the rollback itself fails', async () => {
    // Prepare
    const h = createHarness();
    h.steps.failOn = 'Deploy frontend';
    h.steps.failUndoOn = 'Deploy backend';

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'RollbackFailed' });
    expect(record.status).toBe('rollback-failed');
    expect(comments.at(-1)).toMatch(/^@human 🚨 ROLLBACK FAILED/);
    expect(comments.some((c) => c.includes('Automatic rollback completed successfully'))).toBe(false);
    expect(h.notifier.sent.at(-1)?.subject).toMatch(/^URGENT: rollback failed/);
    expect(h.store.locks.get('notifications/production')?.owner).toBe(record.deploymentId);
  });

  it('escalates when the rollback does not verify', async () => {
    // Prepare
    const h = createHarness({
      config: CONFIG.replace('monitoring_period: 30m', 'monitoring_period: 30m\n  verification_timeout: 2s'),
    });
    h.alarms.breachAfter = 2;
    h.checks.results = [true, false, false, false, false];

    // Act
    const { execution, record } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'RollbackFailed' });
    expect(record.rollback?.error).toContain('after the rollback');
  });

  it('retries a transient dependency failure and carries on', async () => {
    // Prepare
    const h = createHarness();
    h.sourceControl.failures = [
      new TransientDependencyError('GitHub answered 502'),
      new TransientDependencyError('GitHub answered 502'),
    ];

    // Act
    const { execution } = await h.run();

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
  });

  it('reports and blocks when a dependency keeps failing', async () => {
    // Prepare
    const h = createHarness();
    h.sourceControl.failures = Array.from(
      { length: 10 },
      () => new TransientDependencyError('GitHub answered 503'),
    );

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'GatesNotMet' });
    expect(record.error).toMatchObject({ name: 'TransientDependencyError' });
    expect(comments.at(-1)).toContain('GitHub answered 503');
  });

  it('skips the approval when the configuration does not require one', async () => {
    // Prepare
    const h = createHarness({
      config: CONFIG.replace(
        'monitoring_period: 30m',
        'monitoring_period: 30m\n  require_human_approval: false',
      ),
      approval: 'none',
    });

    // Act
    const { execution } = await h.run();

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(h.notifier.sent).toEqual([]);
  });

  it('reports without rolling back when automatic rollback is disabled', async () => {
    // Prepare
    const h = createHarness({
      config: CONFIG.replace(
        'monitoring_period: 30m',
        'monitoring_period: 30m\n  auto_rollback_enabled: false',
      ),
    });
    h.steps.failOn = 'Deploy backend';

    // Act
    const { execution, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'DeploymentFailed' });
    expect(h.steps.undone).toEqual([]);
    expect(comments.at(-1)).toContain('Automatic rollback is disabled');
    expect(h.notifier.sent.at(-1)?.subject).toMatch(/^URGENT: .* automatic rollback is disabled$/);
  });
});

describe('deployment lock', () => {
  it('queues a second deployment of the same service until the first ends', async () => {
    // Prepare
    const h = createHarness();
    h.tracker.add({
      id: 't2',
      name: 'Dark mode',
      customFields: RELEASE_FIELDS,
    });

    // Act
    const [first, second] = await Promise.all([h.run('t1'), h.run('t2')]);

    // Assess
    expect(first.execution.status).toBe('SUCCEEDED');
    expect(second.execution.status).toBe('SUCCEEDED');
    const [early, late] = [first.record, second.record].sort((a, b) =>
      (a.finishedAt ?? '').localeCompare(b.finishedAt ?? ''),
    );
    const lateComments = h.tracker.textsOf(late?.taskId ?? '');
    expect(
      lateComments.some((c) => c.startsWith('⏳ Queued:') && c.includes(early?.deploymentId ?? '?')),
    ).toBe(true);
  });
});
