import { formatDuration } from './deployment.js';
import type { DeploymentRecord } from './ports/deployment-store.js';

/**
 * The four DORA figures, computed from deployment records alone (pure: no clock, no store).
 *
 * A record belongs to the window when it finished inside it (`since` ≤ `finishedAt` ≤ `until`); a deployment
 * still running has no outcome yet and is left out. `service` and `environment` narrow the records.
 *
 * - **Deployment frequency**: deployments that reached Deployed in the window, per day and per week
 *   (the count divided by the window's length in days, or weeks).
 * - **Lead time for changes**: from the pull request's merge (`release.mergedAt`, read by the gates) to
 *   Deployed (`finishedAt`), median and 90th percentile, over the deployed records that know their merge time.
 * - **Change failure rate**: the deployments that started steps and then were rolled back or failed
 *   (outcome `rolled-back` or `failed`, or status `rollback-failed`), divided by all deployments that
 *   started steps. Blocked and held deployments never changed anything and do not count. A deployment
 *   undone after Deployed by a requested rollback run (`rolledBackBy`) counts as failed; the rollback runs
 *   themselves (`rollbackOf`) are not deployments and count nowhere but in the time to restore.
 * - **Time to restore**: from detection (the bake's first breaching datapoint, else the failed step's end,
 *   else the rollback's start) to the rollback completed and verified (`finishedAt` of a rolled-back
 *   record), median over the rolled-back deployments; for a requested rollback run, from the request (its
 *   start) to its end. A failed rollback did not restore: it is counted apart (`unrestored`).
 *
 * Where there is nothing to measure the figure is `undefined` and `formatDora` says "no data", never 0.
 */
export interface DoraWindow {
  since: Date;
  until: Date;
  service?: string;
  environment?: string;
}

export interface DoraFigures {
  window: { since: string; until: string; days: number; service?: string; environment?: string };
  /** finished records in the window (after the service/environment filters) */
  deployments: number;
  deploymentFrequency: { deployed: number; perDay?: number; perWeek?: number };
  leadTime: { samples: number; medianSeconds?: number; p90Seconds?: number };
  changeFailureRate: { started: number; failed: number; rate?: number };
  timeToRestore: { samples: number; medianSeconds?: number; unrestored: number };
}

const DAY_MS = 86_400_000;

const time = (at: string | undefined) => (at ? Date.parse(at) : Number.NaN);

/** The value at quantile q (0..1) of sorted values, nearest rank; undefined when there are none. */
export const quantile = (sorted: number[], q: number): number | undefined => {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
};

/** The median: the middle value, or the mean of the two middle values. */
export const median = (sorted: number[]): number | undefined => {
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] as number) + upper) / 2;
};

const failedAfterSteps = (r: DeploymentRecord) =>
  r.outcome === 'rolled-back' ||
  r.outcome === 'failed' ||
  r.status === 'rollback-failed' ||
  r.rolledBackBy !== undefined;

/** When the failure was seen: the first breaching datapoint, the failed step's end, the rollback's start. */
const detectedAt = (r: DeploymentRecord): number => {
  // a requested rollback run: a person saw the problem when they asked, which is when the run started
  if (r.rollbackOf) return time(r.createdAt);
  const candidates = [
    r.monitoring?.firstBreachAt,
    r.steps.find((s) => s.status === 'failed')?.finishedAt,
    r.rollback?.startedAt,
  ];
  for (const at of candidates) {
    const t = time(at);
    if (Number.isFinite(t)) return t;
  }
  return Number.NaN;
};

/** The DORA figures of the records that finished in the window (see the definitions above). */
export const doraFigures = (records: DeploymentRecord[], window: DoraWindow): DoraFigures => {
  const since = window.since.getTime();
  const until = window.until.getTime();
  const finishedInWindow = records.filter((r) => {
    const finished = time(r.finishedAt);
    return (
      Number.isFinite(finished) &&
      finished >= since &&
      finished <= until &&
      (window.service === undefined || r.service === window.service) &&
      (window.environment === undefined || r.environment === window.environment)
    );
  });
  const inWindow = finishedInWindow.filter((r) => !r.rollbackOf);
  const days = Math.max(0, (until - since) / DAY_MS);
  const deployed = inWindow.filter((r) => r.outcome === 'deployed');

  const leads = deployed
    .map((r) => (time(r.finishedAt) - time(r.release?.mergedAt)) / 1000)
    .filter((s) => Number.isFinite(s) && s >= 0)
    .sort((a, b) => a - b);

  const started = inWindow.filter((r) => r.steps.length > 0);
  const failed = started.filter(failedAfterSteps);

  const restores = finishedInWindow
    .filter((r) => r.outcome === 'rolled-back' && r.rollback)
    .map((r) => (time(r.finishedAt) - detectedAt(r)) / 1000)
    .filter((s) => Number.isFinite(s) && s >= 0)
    .sort((a, b) => a - b);
  const unrestored = finishedInWindow.filter((r) => r.status === 'rollback-failed').length;

  const leadMedian = median(leads);
  const leadP90 = quantile(leads, 0.9);
  const restoreMedian = median(restores);
  return {
    window: {
      since: window.since.toISOString(),
      until: window.until.toISOString(),
      days,
      ...(window.service !== undefined ? { service: window.service } : {}),
      ...(window.environment !== undefined ? { environment: window.environment } : {}),
    },
    deployments: inWindow.length,
    deploymentFrequency: {
      deployed: deployed.length,
      ...(days > 0 && deployed.length > 0
        ? { perDay: deployed.length / days, perWeek: (deployed.length / days) * 7 }
        : {}),
    },
    leadTime: {
      samples: leads.length,
      ...(leadMedian !== undefined ? { medianSeconds: leadMedian } : {}),
      ...(leadP90 !== undefined ? { p90Seconds: leadP90 } : {}),
    },
    changeFailureRate: {
      started: started.length,
      failed: failed.length,
      ...(started.length > 0 ? { rate: failed.length / started.length } : {}),
    },
    timeToRestore: {
      samples: restores.length,
      ...(restoreMedian !== undefined ? { medianSeconds: restoreMedian } : {}),
      unrestored,
    },
  };
};

const NO_DATA = 'no data';

const rate = (value: number) => {
  const fixed = value >= 10 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toFixed(2);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The figures as Markdown lines (a heading, then one bullet per figure); "no data" where nothing was measured. */
export const formatDora = (f: DoraFigures): string[] => {
  const scope = [f.window.service, f.window.environment].filter(Boolean).join(' · ');
  const freq = f.deploymentFrequency;
  const lead = f.leadTime;
  const cfr = f.changeFailureRate;
  const ttr = f.timeToRestore;
  return [
    `**DORA figures** ${f.window.since.slice(0, 10)} → ${f.window.until.slice(0, 10)} (${rate(f.window.days)} days${scope ? `, ${scope}` : ''})`,
    '',
    `- Deployment frequency: ${
      freq.perDay === undefined || freq.perWeek === undefined
        ? NO_DATA
        : `${rate(freq.perDay)} per day, ${rate(freq.perWeek)} per week (${plural(freq.deployed, 'deployment')} reached Deployed)`
    }`,
    `- Lead time for changes (PR merged → Deployed): ${
      lead.medianSeconds === undefined || lead.p90Seconds === undefined
        ? NO_DATA
        : `median ${formatDuration(lead.medianSeconds)}, p90 ${formatDuration(lead.p90Seconds)} (${plural(lead.samples, 'deployment')} with a known merge time)`
    }`,
    `- Change failure rate: ${
      cfr.rate === undefined
        ? NO_DATA
        : `${Math.round(cfr.rate * 100)}% (${cfr.failed} of ${plural(cfr.started, 'deployment')} that started steps rolled back or failed)`
    }`,
    `- Time to restore: ${
      ttr.medianSeconds === undefined
        ? NO_DATA
        : `median ${formatDuration(ttr.medianSeconds)} (${plural(ttr.samples, 'rollback')}, detection → rollback verified)`
    }${ttr.unrestored > 0 ? `; ${plural(ttr.unrestored, 'rollback')} failed and did not restore` : ''}`,
  ];
};
