import type { MissingData } from './config/schema.js';

/** One datapoint of a trigger's series: `at` is the start of its period (ms), `value` undefined = missing. */
export interface Datapoint {
  at: number;
  value: number | undefined;
}

/** How a datapoint is compared with the threshold (CloudWatch's ComparisonOperator, shortened). */
export type Comparison = '>' | '>=' | '<' | '<=';

/** One rollback trigger as a CloudWatch alarm would state it. */
export interface TriggerRule {
  threshold: number;
  comparison: Comparison;
  /** seconds per datapoint (informational: the series is already bucketed by it) */
  periodSeconds: number;
  /** N: how many of the newest datapoints are evaluated */
  evaluationPeriods: number;
  /** M: how many of those N must breach (not necessarily in a row) */
  datapointsToAlarm: number;
  /** what a missing datapoint counts as when fewer than N real ones are at hand */
  missingData: MissingData;
  /**
   * How many of the newest periods CloudWatch may look back into for real datapoints (its "evaluation
   * range"); default 2 × N. AWS does not publish the exact number, so this is the local approximation.
   */
  evaluationRange?: number;
}

/** The verdict on one trigger. */
export interface TriggerEvaluation {
  breached: boolean;
  /** breaching datapoints among the evaluated ones */
  breaching: number;
  /** the datapoints evaluated, oldest first (missing ones included where the policy filled them in) */
  evaluated: Datapoint[];
  /** when breached: the start of the oldest breaching datapoint of the evaluated window (ms) */
  firstBreachAt?: number;
}

const breaches = (value: number, rule: TriggerRule): boolean => {
  switch (rule.comparison) {
    case '>':
      return value > rule.threshold;
    case '>=':
      return value >= rule.threshold;
    case '<':
      return value < rule.threshold;
    case '<=':
      return value <= rule.threshold;
  }
};

/**
 * Decides whether a trigger breaches, the way a CloudWatch alarm with the same settings evaluates
 * (docs "Using Amazon CloudWatch alarms", "Configuring how alarms treat missing data"). Pure: no I/O, no clock.
 *
 * - The series is one datapoint per period, oldest first, gaps as `value: undefined`. Only the newest
 *   `evaluationRange` periods are looked at.
 * - With at least N real datapoints in that range, the newest N real ones are evaluated and the missing-data
 *   policy plays no part (CloudWatch reaches further back rather than inventing data).
 * - With fewer than N real datapoints, all of them are evaluated and the rest of the window is filled in by
 *   the policy, with the newest gaps: `breaching` counts each as breaching, `notBreaching` as fine,
 *   `ignore` and `missing` leave them out (the alarm keeps its state or has insufficient data, so no new
 *   breach unless M real datapoints breach on their own). A series with no real datapoint therefore breaches
 *   only under `breaching`. Periods before the series starts (before the bake) are outside the range and
 *   are never filled in, so a short series is evaluated on what it has.
 * - It breaches when at least M of the evaluated datapoints breach; `firstBreachAt` is the oldest of those.
 *
 * @example
 * // 3 of 5 one-minute datapoints above 1 %, idle minutes not breaching
 * evaluateTrigger(series, { threshold: 1, comparison: '>', periodSeconds: 60, evaluationPeriods: 5,
 *   datapointsToAlarm: 3, missingData: 'notBreaching' });
 */
export const evaluateTrigger = (series: readonly Datapoint[], rule: TriggerRule): TriggerEvaluation => {
  const n = Math.max(1, Math.floor(rule.evaluationPeriods));
  const m = Math.min(n, Math.max(1, Math.floor(rule.datapointsToAlarm)));
  const range = series.slice(-Math.max(n, rule.evaluationRange ?? 2 * n));
  const real = range.filter((d) => d.value !== undefined);
  let evaluated: Datapoint[];
  if (real.length >= n) {
    evaluated = real.slice(-n);
  } else {
    // periods before the series starts (before the bake) are not in the range: they are not filled in
    const gaps = range.filter((d) => d.value === undefined).slice(-(n - real.length));
    const chosen = new Set<Datapoint>([...real, ...gaps]);
    evaluated = range.filter((d) => chosen.has(d));
  }
  const isBreaching = (d: Datapoint) =>
    d.value === undefined ? rule.missingData === 'breaching' : breaches(d.value, rule);
  const breachingPoints = evaluated.filter(isBreaching);
  const breached = breachingPoints.length >= m;
  return {
    breached,
    breaching: breachingPoints.length,
    evaluated,
    ...(breached && breachingPoints[0] ? { firstBreachAt: breachingPoints[0].at } : {}),
  };
};

/**
 * Groups readings into periods of `periodSeconds` from `from`: a reading at time t belongs to the period
 * that ends at or after it, (start, start + period], so a reading taken at a period's end closes it. Returns
 * one entry per period up to the one holding `until`, empty periods included, but at most the newest
 * `maxPeriods` (an evaluation needs only its range; a `from` far back must not build millions of periods).
 */
export const bucketize = <T extends { at: number }>(
  readings: readonly T[],
  from: number,
  until: number,
  periodSeconds: number,
  maxPeriods = 10_000,
): { at: number; readings: T[] }[] => {
  const periodMs = periodSeconds * 1000;
  const index = (t: number) => Math.max(0, Math.ceil((t - from) / periodMs) - 1);
  if (until < from) return [];
  const first = Math.max(0, index(until) + 1 - maxPeriods);
  const buckets = Array.from({ length: index(until) + 1 - first }, (_, i) => ({
    at: from + (first + i) * periodMs,
    readings: [] as T[],
  }));
  for (const reading of readings) {
    if (reading.at < from || reading.at > until) continue;
    buckets[index(reading.at) - first]?.readings.push(reading);
  }
  return buckets;
};
