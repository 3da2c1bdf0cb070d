import { CONFIG } from '../fixtures/config.js';
import { createHarness } from './harness.js';

/** The seed's five-component release as five steps: the migration first, the websocket server last. */
const FIVE_STEPS = CONFIG.replace(
  / {4}steps:\n( {6}- .*\n)+/,
  [
    '    steps:',
    '      - { name: Database migration, kind: migration, run: [npm, run, migrate:up], down: [npm, run, migrate:down] }',
    '      - { name: Deploy backend, kind: command, run: [deploy, backend], record: [current], undo: [deploy, backend, "{{previous}}"] }',
    '      - { name: Deploy frontend, kind: command, run: [deploy, frontend], record: [current], undo: [deploy, frontend, "{{previous}}"] }',
    '      - { name: Invalidate CDN, kind: command, run: [invalidate], record: [current], undo: [invalidate, again] }',
    '      - { name: Deploy WebSocket server, kind: command, run: [deploy, ws], record: [current], undo: [deploy, ws, "{{previous}}"] }',
    '',
  ].join('\n'),
);
const NAMES = [
  'Database migration',
  'Deploy backend',
  'Deploy frontend',
  'Invalidate CDN',
  'Deploy WebSocket server',
];

describe('compensation of a five-step plan', () => {
  it.each(NAMES.map((name, index) => [name, index] as const))(
    'undoes exactly what ran, newest first, when "%s" fails, and reports it on the task',
    async (failing, index) => {
      // Prepare
      const h = createHarness({ config: FIVE_STEPS });
      h.steps.failOn = failing;

      // Act
      const { execution, record, comments } = await h.run();

      // Assess: every step that ran, the failed one included (it may be half applied), undone in reverse;
      // the migration is kept (keep database), nothing after the failure ran or was undone.
      const ran = NAMES.slice(0, index + 1);
      expect(execution).toMatchObject({ status: 'FAILED', error: 'DeploymentRolledBack' });
      expect(h.steps.ran).toEqual(ran);
      expect(h.steps.undone).toEqual([...ran].reverse().filter((n) => n !== 'Database migration'));
      expect(record.steps.map((s) => [s.name, s.status])).toEqual(
        ran.map((n) => [n, n === failing ? 'failed' : 'succeeded']),
      );
      expect(record.rollback?.steps.map((s) => [s.name, s.status])).toEqual(
        [...ran].reverse().map((n) => [n, n === 'Database migration' ? 'kept' : 'rolled-back']),
      );
      expect(comments.filter((c) => c.startsWith('✓ ') && c.includes('complete'))).toHaveLength(index);
      expect(comments).toContain(
        `❌ Deployment failed at step: ${failing}\nError: exit code 1: ${failing} broke`,
      );
      const undoReport = comments.find((c) => c.includes(': rolled-back') || c.includes(': kept')) ?? '';
      expect(undoReport.split('\n')).toEqual(
        [...ran]
          .reverse()
          .map((n) =>
            n === 'Database migration'
              ? '✓ Database migration: kept (keep database: the migration stays)'
              : `✓ ${n}: rolled-back (restored v1)`,
          ),
      );
      const report = comments.at(-1) ?? '';
      expect(report).toMatch(new RegExp(`^❌ DEPLOYMENT FAILED\\n\\nFailed at: ${failing} step`));
      expect(report).toContain('Automatic rollback completed successfully.');
      expect(h.tracker.statusMoves).toEqual(['t1: Deploying', 't1: Deploy Failed']);
    },
  );
});

describe('baselines for checks that compare with before the deploy', () => {
  it('reads them once before the first step and hands them to verification and to the rollback check', async () => {
    // Prepare
    const h = createHarness({
      config: CONFIG.replace('monitoring_period: 30m', 'monitoring_period: 30m\n  verification_timeout: 3s'),
    });
    h.checks.before = '1200';
    h.checks.results = [false, false, false, false, false, false, false, false, false, true];

    // Act
    const { record } = await h.run();

    // Assess
    expect(record.baselines).toEqual({ 'API health': '1200' });
    expect(h.checks.handed.length).toBeGreaterThan(1);
    expect(new Set(h.checks.handed)).toEqual(new Set(['1200']));
  });
});
