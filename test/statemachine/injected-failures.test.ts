import type { TaskStateName } from '../../functions/shared/workflow.js';
import { type ApprovalScript, createHarness } from './harness.js';

type Setup = 'default' | 'gates-fail' | 'step-fails' | 'rollback-fails';

/** Where a deployment must end when a Task state's code fails outright (a bug, a dependency gone for good). */
const CASES: [
  TaskStateName,
  Setup,
  ApprovalScript,
  { end: string; error: string; lock: 'released' | 'kept' | 'never taken' },
][] = [
  ['Acknowledge', 'default', 'approve', { end: 'Acknowledge', error: 'Error', lock: 'never taken' }],
  ['AcquireLock', 'default', 'approve', { end: 'Blocked', error: 'GatesNotMet', lock: 'never taken' }],
  ['CheckGates', 'default', 'approve', { end: 'Blocked', error: 'GatesNotMet', lock: 'released' }],
  ['ReportBlocked', 'gates-fail', 'approve', { end: 'Failed', error: 'DeploymentFailed', lock: 'released' }],
  ['CreatePlan', 'default', 'approve', { end: 'Blocked', error: 'GatesNotMet', lock: 'released' }],
  ['RequestApproval', 'default', 'approve', { end: 'Blocked', error: 'GatesNotMet', lock: 'released' }],
  ['ReportHeld', 'default', 'hold', { end: 'Failed', error: 'DeploymentFailed', lock: 'released' }],
  [
    'ExecuteStep',
    'default',
    'approve',
    { end: 'RolledBack', error: 'DeploymentRolledBack', lock: 'released' },
  ],
  ['Verify', 'default', 'approve', { end: 'RolledBack', error: 'DeploymentRolledBack', lock: 'released' }],
  [
    'StartMonitoring',
    'default',
    'approve',
    { end: 'RolledBack', error: 'DeploymentRolledBack', lock: 'released' },
  ],
  ['Monitor', 'default', 'approve', { end: 'RolledBack', error: 'DeploymentRolledBack', lock: 'released' }],
  [
    'ReportStatus',
    'default',
    'approve',
    { end: 'RolledBack', error: 'DeploymentRolledBack', lock: 'released' },
  ],
  ['Finalize', 'default', 'approve', { end: 'Failed', error: 'DeploymentFailed', lock: 'released' }],
  ['Rollback', 'step-fails', 'approve', { end: 'RollbackFailed', error: 'RollbackFailed', lock: 'kept' }],
  [
    'VerifyRollback',
    'step-fails',
    'approve',
    { end: 'RollbackFailed', error: 'RollbackFailed', lock: 'kept' },
  ],
  ['ReportFailure', 'step-fails', 'approve', { end: 'Failed', error: 'DeploymentFailed', lock: 'released' }],
  [
    'EscalateRollbackFailure',
    'rollback-fails',
    'approve',
    { end: 'RollbackFailed', error: 'RollbackFailed', lock: 'kept' },
  ],
  ['ReleaseLock', 'default', 'approve', { end: 'ReleaseLock', error: 'Error', lock: 'kept' }],
];

describe('a failure injected at each Task state', () => {
  it.each(CASES)(
    'ends a failure in %s (%s) where it must, never as Deployed',
    async (failAt, setup, approval, expected) => {
      // Prepare
      const h = createHarness({ failAt, approval });
      if (setup === 'gates-fail')
        h.sourceControl.status = { state: 'failure', checks: [{ name: 'test', state: 'failure' }] };
      if (setup === 'step-fails' || setup === 'rollback-fails') h.steps.failOn = 'Deploy frontend';
      if (setup === 'rollback-fails') h.steps.failUndoOn = 'Deploy backend';

      // Act
      await h.run().catch(() => undefined);
      const [deployment] = await h.store.listDeployments({ taskId: 't1' });
      const execution = h.workflow.execution(deployment?.deploymentId ?? 't1-1');

      // Assess
      expect(execution).toMatchObject({
        status: 'FAILED',
        currentState: expected.end,
        error: expected.error,
      });
      const holder = h.store.locks.get('notifications/production')?.owner;
      if (expected.lock === 'released') expect(holder).toBe('');
      if (expected.lock === 'kept') expect(holder).toBe(deployment?.deploymentId);
      if (expected.lock === 'never taken') expect(holder ?? '').toBe('');
    },
  );
});
