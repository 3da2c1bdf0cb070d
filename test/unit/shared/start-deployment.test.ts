import { jest } from '@jest/globals';
import type { DeploymentStatus } from '../../../functions/shared/ports/deployment-store.js';
import { startDeployment } from '../../../functions/shared/start-deployment.js';
import { CONFIG } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment } from '../../fixtures/records.js';

/** The shared CONFIG without its failure status: a rolled-back task stays in the input status. */
const NO_FAILURE_STATUS = CONFIG.replace(/^\s*failure_status: .*$/m, '');

const withPrevious = async (status: DeploymentStatus, config = CONFIG) => {
  const f = fakePorts(config);
  f.tracker.add({ id: 't1' });
  await f.store.createDeployment(aDeployment({ status, sourceEvent: 'clickup:w1:h1' }));
  return f;
};

describe('startDeployment', () => {
  it('starts the next attempt for a delivery it has not seen', async () => {
    // Prepare
    const f = await withPrevious('deployed');

    // Act
    const result = await startDeployment(
      { taskId: 't1', trigger: 'status', requireInputStatus: true, sourceEvent: 'clickup:w1:h2' },
      f.ports,
    );

    // Assess
    expect(result).toEqual({ started: true, deploymentId: 't1-2' });
    expect(f.workflow.started).toEqual([expect.objectContaining({ sourceEvent: 'clickup:w1:h2' })]);
  });

  it('answers a delivery for a task already deploying from the store alone, with no ClickUp call', async () => {
    // Prepare
    const f = await withPrevious('deploying');
    const getTask = jest.spyOn(f.tracker, 'getTask');

    // Act
    const result = await startDeployment(
      { taskId: 't1', trigger: 'status', requireInputStatus: true, sourceEvent: 'clickup:w1:h9' },
      f.ports,
    );

    // Assess
    expect(result).toEqual({
      started: false,
      deploymentId: 't1-1',
      reason: 'deployment t1-1 is already running for this task',
    });
    expect(getTask).not.toHaveBeenCalled();
    expect(f.workflow.started).toEqual([]);
  });

  it('starts nothing for a late duplicate of the delivery that started a finished deployment', async () => {
    // Prepare
    const f = await withPrevious('blocked');

    // Act
    const result = await startDeployment(
      { taskId: 't1', trigger: 'status', requireInputStatus: true, sourceEvent: 'clickup:w1:h1' },
      f.ports,
    );

    // Assess
    expect(result).toEqual({
      started: false,
      deploymentId: 't1-1',
      reason: 'this delivery already started t1-1',
    });
    expect(f.workflow.started).toEqual([]);
  });

  it.each<[DeploymentStatus, string]>([
    ['blocked', CONFIG],
    ['held', CONFIG],
    ['rolled-back', NO_FAILURE_STATUS],
    ['rollback-failed', NO_FAILURE_STATUS],
  ])(
    'does not poll a task again whose last deployment ended %s in the input status',
    async (status, config) => {
      // Prepare
      const f = await withPrevious(status, config);

      // Act
      const result = await startDeployment(
        { taskId: 't1', trigger: 'poll', requireInputStatus: true },
        f.ports,
      );

      // Assess
      expect(result).toMatchObject({ started: false, deploymentId: 't1-1' });
      expect(result.started === false && result.reason).toMatch(/move the task again or comment \/deploy/);
      expect(f.workflow.started).toEqual([]);
    },
  );

  it.each<[DeploymentStatus]>([['deployed'], ['rolled-back']])(
    'polls a task again that a person moved back after a deployment that ended %s and moved it away',
    async (status) => {
      // Prepare: the failure status is configured, so the task left the input status and came back
      const f = await withPrevious(status);

      // Act
      const result = await startDeployment(
        { taskId: 't1', trigger: 'poll', requireInputStatus: true },
        f.ports,
      );

      // Assess
      expect(result).toEqual({ started: true, deploymentId: 't1-2' });
    },
  );

  it('starts nothing while a deployment of the task is running', async () => {
    // Prepare
    const f = await withPrevious('awaiting-approval');

    // Act
    const result = await startDeployment(
      { taskId: 't1', trigger: 'poll', requireInputStatus: true },
      f.ports,
    );

    // Assess
    expect(result).toMatchObject({
      started: false,
      reason: 'deployment t1-1 is already running for this task',
    });
  });
});
