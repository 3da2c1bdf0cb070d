import type { MissingData } from '../../../functions/shared/config/schema.js';
import {
  bucketize,
  type Datapoint,
  evaluateTrigger,
  type TriggerRule,
} from '../../../functions/shared/trigger-evaluation.js';

const T0 = Date.parse('2026-11-02T10:00:00Z');
const MINUTE = 60_000;

/** A recorded one-minute series from T0: numbers are error rates (%), `null` a minute without data. */
const series = (...values: (number | null)[]): Datapoint[] =>
  values.map((value, i) => ({ at: T0 + i * MINUTE, value: value ?? undefined }));

/** Error rate above 1 %, 3 of 5 one-minute datapoints. */
const errorRate = (missingData: MissingData, overrides: Partial<TriggerRule> = {}): TriggerRule => ({
  threshold: 1,
  comparison: '>',
  periodSeconds: 60,
  evaluationPeriods: 5,
  datapointsToAlarm: 3,
  missingData,
  ...overrides,
});

/** Three failed probes in a row: 1 = failed, 0 = healthy. */
const health: TriggerRule = {
  threshold: 1,
  comparison: '>=',
  periodSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 3,
  missingData: 'breaching',
};

describe('evaluateTrigger', () => {
  it('breaches on M of N datapoints that are not in a row', () => {
    // Act
    const result = evaluateTrigger(series(0.2, 5, 0.1, 7, 9), errorRate('notBreaching'));

    // Assess
    expect(result).toMatchObject({ breached: true, breaching: 3, firstBreachAt: T0 + MINUTE });
  });

  it('does not breach on fewer than M breaching datapoints among the newest N', () => {
    // Act: the breaching minutes 0 and 1 have slid out of the window
    const result = evaluateTrigger(series(8, 8, 0.1, 0.2, 0.1, 4, 6), errorRate('notBreaching'));

    // Assess
    expect(result).toMatchObject({ breached: false, breaching: 2 });
    expect(result.firstBreachAt).toBeUndefined();
  });

  it('reaches back past gaps for N real datapoints, so the policy plays no part', () => {
    // Prepare: 5 real datapoints (3 breaching) within the evaluation range of 10
    const recorded = series(4, 5, null, 0.1, null, null, 6, 0.3, null, null);

    // Act
    const results = (['breaching', 'notBreaching', 'ignore', 'missing'] as const).map((policy) =>
      evaluateTrigger(recorded, errorRate(policy)),
    );

    // Assess
    expect(results.map((r) => [r.breached, r.firstBreachAt])).toEqual(Array(4).fill([true, T0]));
    expect(results[0]?.evaluated.map((d) => d.value)).toEqual([4, 5, 0.1, 6, 0.3]);
  });

  it('fills the newest gaps with breaching datapoints when fewer than N are real (breaching)', () => {
    // Prepare: one real breaching minute, then a service that stopped reporting
    const recorded = series(0.1, 0.2, 5, null, null);

    // Act
    const result = evaluateTrigger(recorded, errorRate('breaching', { evaluationRange: 5 }));

    // Assess
    expect(result).toMatchObject({ breached: true, breaching: 3, firstBreachAt: T0 + 2 * MINUTE });
  });

  it('treats missing datapoints as fine when a quiet service is not failing (notBreaching)', () => {
    // Act
    const result = evaluateTrigger(
      series(5, null, null, null, 7),
      errorRate('notBreaching', { evaluationRange: 5 }),
    );

    // Assess
    expect(result).toMatchObject({ breached: false, breaching: 2 });
  });

  it('leaves missing datapoints out under ignore and missing, breaching only on M real ones', () => {
    // Prepare
    const two = series(5, null, null, null, 7);
    const three = series(5, null, 6, null, 7);

    // Act
    const verdicts = (['ignore', 'missing'] as const).map((policy) => [
      evaluateTrigger(two, errorRate(policy, { evaluationRange: 5 })).breached,
      evaluateTrigger(three, errorRate(policy, { evaluationRange: 5 })).breached,
    ]);

    // Assess
    expect(verdicts).toEqual([
      [false, true],
      [false, true],
    ]);
  });

  it('breaches on a series without any data only when missing data is breaching', () => {
    // Prepare
    const silent = series(null, null, null, null, null);

    // Act
    const verdicts = (['breaching', 'notBreaching', 'ignore', 'missing'] as const).map(
      (policy) => evaluateTrigger(silent, errorRate(policy)).breached,
    );

    // Assess
    expect(verdicts).toEqual([true, false, false, false]);
  });

  it('does not fill in periods before the series starts (a bake that just began)', () => {
    // Act
    const result = evaluateTrigger(series(9, 9), errorRate('breaching'));

    // Assess
    expect(result).toMatchObject({ breached: false, breaching: 2 });
  });

  it('breaches on consecutive health failures, and a success in between resets the run', () => {
    // Prepare: fail, fail, ok, fail, fail, then the third failure in a row
    const probes = series(1, 1, 0, 1, 1);
    const more = series(1, 1, 0, 1, 1, 1);

    // Act
    const before = evaluateTrigger(probes, { ...health, evaluationRange: 3 });
    const after = evaluateTrigger(more, { ...health, evaluationRange: 3 });

    // Assess
    expect(before).toMatchObject({ breached: false, breaching: 2 });
    expect(after).toMatchObject({ breached: true, breaching: 3, firstBreachAt: T0 + 3 * MINUTE });
  });

  it('compares with each operator at the threshold', () => {
    // Prepare
    const atThreshold = series(1);
    const rule = (comparison: TriggerRule['comparison']) =>
      errorRate('notBreaching', { comparison, evaluationPeriods: 1, datapointsToAlarm: 1 });

    // Act
    const verdicts = (['>', '>=', '<', '<='] as const).map(
      (c) => evaluateTrigger(atThreshold, rule(c)).breached,
    );

    // Assess
    expect(verdicts).toEqual([false, true, false, true]);
  });
});

describe('bucketize', () => {
  it('puts a reading at a period end into that period and keeps empty periods', () => {
    // Prepare
    const readings = [{ at: T0 }, { at: T0 + MINUTE }, { at: T0 + 2.5 * MINUTE }];

    // Act
    const buckets = bucketize(readings, T0, T0 + 4 * MINUTE, 60);

    // Assess
    expect(buckets.map((b) => [b.at - T0, b.readings.length])).toEqual([
      [0, 2],
      [MINUTE, 0],
      [2 * MINUTE, 1],
      [3 * MINUTE, 0],
    ]);
  });

  it('keeps only the newest periods when `from` lies far back', () => {
    // Act
    const buckets = bucketize([{ at: T0 }], 0, T0, 2, 3);

    // Assess
    expect(buckets.map((b) => T0 - b.at)).toEqual([6000, 4000, 2000]);
  });
});
