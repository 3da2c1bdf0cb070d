import { doraFigures, formatDora, median, quantile } from '../../../functions/shared/dora.js';
import type { DeploymentRecord, StepRecord } from '../../../functions/shared/ports/deployment-store.js';
import { aDeployment } from '../../fixtures/records.js';

const STEP: StepRecord = {
  index: 0,
  name: 'Deploy backend',
  kind: 'command',
  status: 'succeeded',
  startedAt: '2026-11-10T10:00:00.000Z',
  finishedAt: '2026-11-10T10:01:00.000Z',
};

const HOUR = 3_600_000;
const at = (iso: string, plusHours = 0) => new Date(Date.parse(iso) + plusHours * HOUR).toISOString();

/** A deployment that reached Deployed at `finishedAt`, its PR merged `leadHours` before. */
const deployed = (
  id: string,
  finishedAt: string,
  leadHours?: number,
  overrides: Partial<DeploymentRecord> = {},
) =>
  aDeployment({
    deploymentId: id,
    status: 'deployed',
    outcome: 'deployed',
    finishedAt,
    steps: [STEP],
    ...(leadHours === undefined ? {} : { release: { prNumber: 1, mergedAt: at(finishedAt, -leadHours) } }),
    ...overrides,
  });

/** A deployment rolled back after a breach `restoreMinutes` before it finished. */
const rolledBack = (
  id: string,
  finishedAt: string,
  restoreMinutes: number,
  overrides: Partial<DeploymentRecord> = {},
) =>
  aDeployment({
    deploymentId: id,
    status: 'rolled-back',
    outcome: 'rolled-back',
    finishedAt,
    steps: [STEP],
    monitoring: {
      startedAt: at(finishedAt, -1),
      endsAt: finishedAt,
      reports: [],
      breach: 'error rate',
      firstBreachAt: at(finishedAt, -restoreMinutes / 60),
    },
    rollback: { reason: 'error rate', steps: [], startedAt: at(finishedAt, -restoreMinutes / 120) },
    ...overrides,
  });

const WINDOW = { since: new Date('2026-11-01T00:00:00.000Z'), until: new Date('2026-11-15T00:00:00.000Z') };

describe('doraFigures', () => {
  it('counts a deployment undone later by a requested rollback as a failed change, and the run only as a restore', () => {
    // Prepare: two deployments, the second undone 30 minutes after someone asked for its rollback
    const records = [
      deployed('t1-1', '2026-11-10T10:00:00.000Z'),
      deployed('t2-1', '2026-11-11T10:00:00.000Z', undefined, {
        rolledBackBy: {
          deploymentId: 't2-1-rollback',
          at: '2026-11-12T09:00:00.000Z',
          by: 'lead@example.com',
        },
      }),
      rolledBack('t2-1-rollback', '2026-11-12T09:30:00.000Z', 0, {
        rollbackOf: 't2-1',
        createdAt: '2026-11-12T09:00:00.000Z',
        monitoring: undefined,
      }),
    ];

    // Act
    const figures = doraFigures(records, WINDOW);

    // Assess
    expect(figures.deployments).toBe(2);
    expect(figures.deploymentFrequency.deployed).toBe(2);
    expect(figures.changeFailureRate).toEqual({ started: 2, failed: 1, rate: 0.5 });
    expect(figures.timeToRestore).toMatchObject({ samples: 1, medianSeconds: 1800 });
  });

  it('counts the deployments that reached Deployed per day and per week in the window', () => {
    // Prepare
    const records = [
      deployed('a', '2026-11-02T10:00:00.000Z'),
      deployed('b', '2026-11-05T10:00:00.000Z'),
      deployed('c', '2026-11-09T10:00:00.000Z'),
      deployed('d', '2026-11-12T10:00:00.000Z'),
      rolledBack('e', '2026-11-13T10:00:00.000Z', 10),
      deployed('before', '2026-10-31T23:59:59.000Z'),
      deployed('after', '2026-11-15T00:00:01.000Z'),
      aDeployment({ deploymentId: 'running', status: 'monitoring', steps: [STEP] }),
    ];

    // Act
    const figures = doraFigures(records, WINDOW);

    // Assess
    expect(figures.deployments).toBe(5);
    expect(figures.deploymentFrequency).toEqual({ deployed: 4, perDay: 4 / 14, perWeek: 2 });
  });

  it('takes the median and p90 of PR merged → Deployed over the deployments that know their merge time', () => {
    // Prepare
    const records = [
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((hours, i) =>
        deployed(`d${i}`, `2026-11-0${(i % 9) + 1}T12:00:00.000Z`, hours),
      ),
      deployed('unknown-merge', '2026-11-10T12:00:00.000Z'),
      rolledBack('not-deployed', '2026-11-10T12:00:00.000Z', 5, {
        release: { mergedAt: '2026-01-01T00:00:00Z' },
      }),
    ];

    // Act
    const { leadTime } = doraFigures(records, WINDOW);

    // Assess
    expect(leadTime).toEqual({ samples: 10, medianSeconds: 5.5 * 3600, p90Seconds: 9 * 3600 });
  });

  it('divides the deployments rolled back or failed after starting steps by those that started steps', () => {
    // Prepare
    const records = [
      deployed('ok-1', '2026-11-02T10:00:00.000Z'),
      deployed('ok-2', '2026-11-03T10:00:00.000Z'),
      deployed('ok-3', '2026-11-04T10:00:00.000Z'),
      rolledBack('rb', '2026-11-05T10:00:00.000Z', 10),
      aDeployment({
        deploymentId: 'rf',
        status: 'rollback-failed',
        finishedAt: '2026-11-06T10:00:00.000Z',
        steps: [STEP],
      }),
      aDeployment({
        deploymentId: 'failed',
        status: 'blocked',
        outcome: 'failed',
        finishedAt: '2026-11-07T10:00:00.000Z',
        steps: [STEP],
      }),
      aDeployment({
        deploymentId: 'gates',
        status: 'blocked',
        outcome: 'blocked',
        finishedAt: '2026-11-07T10:00:00.000Z',
      }),
      aDeployment({
        deploymentId: 'held',
        status: 'held',
        outcome: 'held',
        finishedAt: '2026-11-08T10:00:00.000Z',
      }),
    ];

    // Act
    const { changeFailureRate } = doraFigures(records, WINDOW);

    // Assess
    expect(changeFailureRate).toEqual({ started: 6, failed: 3, rate: 0.5 });
  });

  it('takes the median of detection → rollback verified and counts failed rollbacks apart', () => {
    // Prepare
    const records = [
      rolledBack('r1', '2026-11-02T10:00:00.000Z', 4),
      rolledBack('r2', '2026-11-03T10:00:00.000Z', 10),
      rolledBack('r3', '2026-11-04T10:00:00.000Z', 30),
      // a failed step is detected when it ended
      aDeployment({
        deploymentId: 'step',
        status: 'rolled-back',
        outcome: 'rolled-back',
        finishedAt: '2026-11-05T10:02:00.000Z',
        steps: [{ ...STEP, status: 'failed', finishedAt: '2026-11-05T10:00:00.000Z' }],
        rollback: { reason: 'step failed', steps: [] },
      }),
      aDeployment({
        deploymentId: 'rf',
        status: 'rollback-failed',
        finishedAt: '2026-11-06T10:00:00.000Z',
        steps: [STEP],
      }),
    ];

    // Act
    const { timeToRestore } = doraFigures(records, WINDOW);

    // Assess
    expect(timeToRestore).toEqual({ samples: 4, medianSeconds: 7 * 60, unrestored: 1 });
  });

  it('has no figure where there is nothing to measure', () => {
    // Prepare
    const records = [
      aDeployment({
        deploymentId: 'gates',
        status: 'blocked',
        outcome: 'blocked',
        finishedAt: '2026-11-07T10:00:00.000Z',
      }),
    ];

    // Act
    const figures = doraFigures(records, WINDOW);

    // Assess
    expect(figures).toEqual({
      window: { since: '2026-11-01T00:00:00.000Z', until: '2026-11-15T00:00:00.000Z', days: 14 },
      deployments: 1,
      deploymentFrequency: { deployed: 0 },
      leadTime: { samples: 0 },
      changeFailureRate: { started: 0, failed: 0 },
      timeToRestore: { samples: 0, unrestored: 0 },
    });
  });

  it('keeps only the service and environment asked for', () => {
    // Prepare
    const records = [
      deployed('mine', '2026-11-02T10:00:00.000Z', 2),
      deployed('other-service', '2026-11-02T10:00:00.000Z', 20, { service: 'billing' }),
      deployed('staging', '2026-11-02T10:00:00.000Z', 40, { environment: 'staging' }),
      rolledBack('other-rb', '2026-11-03T10:00:00.000Z', 5, { service: 'billing' }),
    ];

    // Act
    const figures = doraFigures(records, { ...WINDOW, service: 'notifications', environment: 'production' });

    // Assess
    expect(figures.window).toMatchObject({ service: 'notifications', environment: 'production' });
    expect(figures.deployments).toBe(1);
    expect(figures.leadTime).toEqual({ samples: 1, medianSeconds: 7200, p90Seconds: 7200 });
    expect(figures.changeFailureRate).toEqual({ started: 1, failed: 0, rate: 0 });
  });
});

describe('formatDora', () => {
  it('writes one Markdown line per figure', () => {
    // Prepare
    const records = [
      deployed('a', '2026-11-02T10:00:00.000Z', 2),
      deployed('b', '2026-11-05T10:00:00.000Z', 26),
      rolledBack('c', '2026-11-06T10:00:00.000Z', 3),
      aDeployment({
        deploymentId: 'rf',
        status: 'rollback-failed',
        finishedAt: '2026-11-06T10:00:00.000Z',
        steps: [STEP],
      }),
    ];

    // Act
    const lines = formatDora(doraFigures(records, { ...WINDOW, service: 'notifications' }));

    // Assess
    expect(lines).toEqual([
      '**DORA figures** 2026-11-01 → 2026-11-15 (14 days, notifications)',
      '',
      '- Deployment frequency: 0.14 per day, 1 per week (2 deployments reached Deployed)',
      '- Lead time for changes (PR merged → Deployed): median 14 h, p90 26 h (2 deployments with a known merge time)',
      '- Change failure rate: 50% (2 of 4 deployments that started steps rolled back or failed)',
      '- Time to restore: median 3 min (1 rollback, detection → rollback verified); 1 rollback failed and did not restore',
    ]);
  });

  it('says "no data" instead of 0 where nothing was measured', () => {
    // Act
    const lines = formatDora(doraFigures([], WINDOW));

    // Assess
    expect(lines.slice(2)).toEqual([
      '- Deployment frequency: no data',
      '- Lead time for changes (PR merged → Deployed): no data',
      '- Change failure rate: no data',
      '- Time to restore: no data',
    ]);
  });
});

describe('median and quantile', () => {
  it('take the middle (or the mean of the two middle) values and the nearest rank', () => {
    // Act
    const values = {
      odd: median([1, 2, 9]),
      even: median([1, 2, 4, 9]),
      none: median([]),
      p90: quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9),
      p90Small: quantile([5], 0.9),
    };

    // Assess
    expect(values).toEqual({ odd: 2, even: 3, none: undefined, p90: 9, p90Small: 5 });
  });
});
