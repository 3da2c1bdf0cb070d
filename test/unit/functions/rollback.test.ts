import { rollback } from '../../../functions/rollback/rollback.js';
import { CONFIG } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, T1_STATE } from '../../fixtures/records.js';

const NO_KEEP = `${CONFIG}    rollback: { keep_database: false }\n`;

const setup = async (migrations: { irreversible: boolean }[]) => {
  const f = fakePorts(NO_KEEP);
  f.tracker.add({ id: 't1', name: 'User Notifications', customFields: {} });
  await f.store.createDeployment(
    aDeployment({
      status: 'deploying',
      migrations: migrations.map((m, i) => ({
        path: `db/migrations/00${i}.sql`,
        kind: m.irreversible ? 'destructive' : 'additive',
        irreversible: m.irreversible,
        reasons: [],
      })),
      steps: [
        {
          index: 0,
          name: 'Database migration',
          kind: 'migration',
          status: 'succeeded',
          startedAt: '2026-11-28T10:00:00.000Z',
        },
        {
          index: 1,
          name: 'Deploy backend',
          kind: 'command',
          status: 'failed',
          startedAt: '2026-11-28T10:01:00.000Z',
          undo: { previous: 'v1' },
        },
      ],
    }),
  );
  return f;
};

describe('rollback of a migration', () => {
  it('never runs a down migration automatically after an irreversible one, and says so', async () => {
    // Prepare
    const f = await setup([{ irreversible: true }]);

    // Act
    await rollback({ ...T1_STATE, error: { Error: 'StepFailedError', Cause: 'boom' } }, f.ports);

    // Assess
    expect(f.steps.undone).toEqual(['Deploy backend']);
    const step = (await f.store.getDeployment('t1-1'))?.rollback?.steps.find(
      (s) => s.name === 'Database migration',
    );
    expect(step).toMatchObject({
      status: 'kept',
      summary: expect.stringContaining('no automatic database rollback'),
    });
    expect(f.tracker.comments.at(-1)?.text).toContain('irreversible migration (db/migrations/000.sql)');
  });

  it('runs the down migration of a reversible one when the database is not kept', async () => {
    // Prepare
    const f = await setup([{ irreversible: false }]);

    // Act
    await rollback({ ...T1_STATE, error: { Error: 'StepFailedError', Cause: 'boom' } }, f.ports);

    // Assess
    expect(f.steps.undone).toEqual(['Deploy backend', 'Database migration']);
  });

  it('undoes a step cut off while running (a timed-out Lambda), not only the ones that ended', async () => {
    // Prepare
    const f = await setup([]);
    const record = await f.store.getDeployment('t1-1');
    await f.store.updateDeployment('t1-1', {
      steps: (record?.steps ?? []).map((s) => (s.index === 1 ? { ...s, status: 'running' as const } : s)),
    });

    // Act
    await rollback(
      { ...T1_STATE, error: { Error: 'States.Timeout', Cause: 'ExecuteStep timed out' } },
      f.ports,
    );

    // Assess
    expect(f.steps.undone).toEqual(['Deploy backend', 'Database migration']);
  });
});
