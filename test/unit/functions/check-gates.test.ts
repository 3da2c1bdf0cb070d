import { checkGates } from '../../../functions/check-gates/check-gates.js';
import { NotFoundError } from '../../../functions/shared/errors.js';
import { RELEASE_FIELDS } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment } from '../../fixtures/records.js';

const STATE = {
  deploymentId: 't1-1',
  taskId: 't1',
  service: 'notifications',
  environment: 'production',
  trigger: 'cli',
  requestedAt: '2026-11-28T10:00:00.000Z',
};
const FIELDS = RELEASE_FIELDS;

const setup = async (config?: string) => {
  const f = fakePorts(config);
  f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...FIELDS } });
  await f.store.createDeployment(aDeployment({ status: 'checking', stage: 'AcquireLock' }));
  return f;
};

describe('checkGates', () => {
  it('passes with evidence for every gate when all are met', async () => {
    // Prepare
    const f = await setup();

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result).toEqual({ passed: true, failed: [] });
    const gates = (await f.store.getDeployment('t1-1'))?.gates ?? [];
    expect(gates.map((g) => [g.name, g.evidence])).toEqual([
      ['Runtime can run every step', '3 steps, 1 checks'],
      ['PR merged', 'https://github.com/acme/notifications/pull/42 merged into main'],
      ['CI green', '1 checks passed on abc1234'],
      ['Security Review approved', 'Security Review: Approved'],
      ['QA approved', 'QA: Approved'],
      ['No alarms firing', 'all triggers within targets'],
    ]);
  });

  it('says how to fix a task without a pull request', async () => {
    // Prepare
    const f = await setup();
    f.tracker.add({
      id: 't1',
      name: 'User Notifications',
      customFields: { 'Security Review': 'Approved', QA: 'Approved' },
    });

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['PR merged', 'CI green']);
    const gate = (await f.store.getDeployment('t1-1'))?.gates?.find((g) => g.name === 'PR merged');
    expect(gate?.reason).toBe(
      'set the task\'s "PR" (pull request number) and "Repository" (owner/name) fields',
    );
  });

  it('fails the PR gates when the pull request does not exist', async () => {
    // Prepare
    const f = await setup();
    f.sourceControl.failures = [new NotFoundError('no such PR')];

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['PR merged', 'CI green']);
  });

  it('fails when the runtime has no runner for a configured step kind', async () => {
    // Prepare
    const f = await setup(`
services:
  - name: notifications
    tracker: { list_id: L1 }
    steps: [{ name: Deploy API, kind: kubernetes, deployment: api, image: "api:v2" }]
`);

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['Runtime can run every step']);
    const gate = (await f.store.getDeployment('t1-1'))?.gates?.[0];
    expect(gate?.reason).toContain('no runner for step "Deploy API" (kubernetes)');
  });

  it('blocks when alarms are already firing or cannot be read', async () => {
    // Prepare
    const f = await setup();
    f.alarms.check = async () => {
      throw new Error('connection refused');
    };

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['No alarms firing']);
  });

  it('lets a transient dependency failure escape so the workflow retries it', async () => {
    // Prepare
    const f = await setup();
    f.sourceControl.failures = [Object.assign(new Error('GitHub 502'), { name: 'TransientDependencyError' })];

    // Act
    const act = checkGates(STATE, f.ports);

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'TransientDependencyError' });
  });
});
