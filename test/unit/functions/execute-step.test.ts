import { executeStep } from '../../../functions/execute-step/execute-step.js';
import type { StepContext, StepRunner } from '../../../functions/shared/ports/step-runner.js';
import { CONFIG } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment } from '../../fixtures/records.js';

const state = {
  deploymentId: 't1-1',
  taskId: 't1',
  service: 'notifications',
  environment: 'production',
  trigger: 'status',
  requestedAt: '2026-11-28T10:00:00.000Z',
  progress: { next: 1, done: false },
};

describe('executeStep', () => {
  it('keeps what the step recorded for its undo while the step still runs, so a crash mid-step can be undone', async () => {
    // Prepare: a runner that records the previous release, then never finishes (the process dies here)
    const f = fakePorts(CONFIG);
    f.tracker.add({ id: 't1' });
    await f.store.createDeployment(aDeployment({ status: 'deploying' }));
    let recorded: () => void = () => undefined;
    const saved = new Promise<void>((done) => {
      recorded = done;
    });
    const hanging: StepRunner = {
      run: async (_step, context: StepContext) => {
        await context.saveUndo?.({ previous: 'v1' });
        recorded();
        return new Promise(() => undefined);
      },
      undo: async () => ({ summary: 'undone' }),
    };
    const ports = { ...f.ports, steps: { ...f.ports.steps, command: hanging } };

    // Act
    void executeStep(state, ports);
    await saved;

    // Assess
    const record = await f.store.getDeployment('t1-1');
    expect(record?.steps).toEqual([
      expect.objectContaining({
        index: 1,
        name: 'Deploy backend',
        status: 'running',
        undo: { previous: 'v1' },
      }),
    ]);
  });
});
