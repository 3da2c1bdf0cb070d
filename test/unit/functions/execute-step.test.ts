import { executeStep } from '../../../functions/execute-step/execute-step.js';
import { TransientDependencyError } from '../../../functions/shared/errors.js';
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

  it('leaves a step whose dependency stayed down running and rethrows TransientDependencyError for the workflow to retry, then clears it when the retry succeeds', async () => {
    // Prepare: the Kubernetes API is down for the first invocation only
    const f = fakePorts(CONFIG);
    f.tracker.add({ id: 't1' });
    await f.store.createDeployment(aDeployment({ status: 'deploying' }));
    let calls = 0;
    const flaky: StepRunner = {
      run: async (_step, context: StepContext) => {
        await context.saveUndo?.({ previous: 'v1' });
        calls++;
        if (calls === 1)
          throw new TransientDependencyError('Kubernetes API: patch failed 4 times, last with 503');
        return { summary: 'v2 rolled out', undo: { previous: 'v1' } };
      },
      undo: async () => ({ summary: 'undone' }),
    };
    const ports = { ...f.ports, steps: { ...f.ports.steps, command: flaky } };

    // Act
    const first = await executeStep(state, ports).catch((error: unknown) => error);
    const afterFirst = (await f.store.getDeployment('t1-1'))?.steps[0];
    const second = await executeStep(state, ports);
    const afterSecond = (await f.store.getDeployment('t1-1'))?.steps[0];

    // Assess
    expect(first).toBeInstanceOf(TransientDependencyError);
    expect(afterFirst).toMatchObject({ status: 'running', undo: { previous: 'v1' } });
    expect(afterFirst?.error).toMatch(/503 \(the workflow retries\)/);
    expect(second).toEqual({ next: 2, done: false });
    expect(afterSecond).toMatchObject({ status: 'succeeded', summary: 'v2 rolled out' });
    expect(afterSecond?.error).toBeUndefined();
    expect(f.tracker.comments.some((c) => c.text.startsWith('❌'))).toBe(false);
  });
});
