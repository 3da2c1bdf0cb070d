import { TASK_STATE_NAMES } from '../../functions/shared/workflow.js';
import { assertEveryTaskHandled, CORES } from '../../local/registry.js';
import { taskStateNames } from '../../statemachine/extract-asl.js';
import { loadAsl } from './harness.js';

describe('local handler registry', () => {
  it('has a handler for every Task state of the synthesized definition', () => {
    // Prepare
    const asl = loadAsl();

    // Act
    const tasks = taskStateNames(asl);

    // Assess
    expect(tasks.sort()).toEqual([...TASK_STATE_NAMES].sort());
    expect(() => assertEveryTaskHandled(asl, CORES)).not.toThrow();
  });

  it('refuses a definition with a Task it cannot run, also inside Parallel and Map', () => {
    // Prepare
    const asl = {
      States: {
        Fan: {
          Type: 'Parallel',
          Branches: [{ States: { DeployEdge: { Type: 'Task' } } }],
        },
        Each: { Type: 'Map', ItemProcessor: { States: { DeployRegion: { Type: 'Task' } } } },
        Acknowledge: { Type: 'Task' },
      },
    };

    // Act
    const act = () => assertEveryTaskHandled(asl, CORES);

    // Assess
    expect(act).toThrow('no handler for Task state(s) DeployEdge, DeployRegion');
  });

  it('gives every Task state an explicit timeout, as the local interpreter defaults to 60 s', () => {
    // Prepare
    const asl = loadAsl();

    // Act
    const without = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task' && !s.TimeoutSeconds);

    // Assess
    expect(without).toEqual([]);
  });
});
