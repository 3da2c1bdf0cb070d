import { BadRequestError } from '../../../functions/shared/errors.js';
import { previewPlan } from '../../../functions/shared/plan-preview.js';
import { RELEASE_FIELDS } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';

const prepare = () => {
  const f = fakePorts();
  f.sourceControl.isBranchProtected = async () => true;
  return f;
};

describe('previewPlan', () => {
  it("runs the gates and builds the task's plan without commenting, moving or starting anything", async () => {
    // Prepare
    const f = prepare();
    f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...RELEASE_FIELDS } });

    // Act
    const preview = await previewPlan('t1', f.ports);

    // Assess
    expect(preview.ready).toBe(true);
    expect(preview.markdown).toContain('# Deployment Plan: User Notifications');
    expect(preview.markdown).toContain('- [x] CI green: 1 checks passed on abc1234');
    expect(preview.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(preview.plan.steps.map((s) => s.name)).toEqual([
      'Database migration',
      'Deploy backend',
      'Deploy frontend',
    ]);
    expect(f.tracker.comments).toEqual([]);
    expect(f.tracker.statusMoves).toEqual([]);
    expect(f.workflow.started).toEqual([]);
  });

  it('shows the failing gates of a task that is not ready', async () => {
    // Prepare
    const f = prepare();
    f.tracker.add({
      id: 't1',
      name: 'User Notifications',
      customFields: { ...RELEASE_FIELDS, QA: 'Pending' },
    });

    // Act
    const preview = await previewPlan('t1', f.ports);

    // Assess
    expect(preview.ready).toBe(false);
    expect(preview.markdown).toContain('- [ ] QA approved: QA: Pending');
  });

  it('says which lists are configured when the task is on another one', async () => {
    // Prepare
    const f = prepare();
    f.tracker.add({ id: 't9', listId: 'L-other' });

    // Act
    const act = previewPlan('t9', f.ports);

    // Assess
    await expect(act).rejects.toBeInstanceOf(BadRequestError);
    await expect(previewPlan('t9', f.ports)).rejects.toThrow(
      'task t9 is in list L-other, which no service is configured for (services: notifications (list L1))',
    );
  });
});
