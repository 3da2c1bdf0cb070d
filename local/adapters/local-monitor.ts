import type { Service } from '../../functions/shared/config/schema.js';
import { type HealthSample, probeHealth } from '../../functions/shared/health-probe.js';
import type { AlarmCheck, AlarmQuery, AlarmSource } from '../../functions/shared/ports/alarm-source.js';
import type { Clock } from '../../functions/shared/ports/clock.js';
import type { MetricsSnapshot } from '../../functions/shared/ports/deployment-store.js';
import { missingDataFor } from '../../functions/shared/service-alarms.js';
import { bucketize, evaluateTrigger } from '../../functions/shared/trigger-evaluation.js';

/** The Prometheus series the local monitor reads from `metrics_url` (counters summed over labels, p99 the max). */
export const METRIC_NAMES = {
  requests: 'http_requests_total',
  errors: 'http_request_errors_total',
  p99: 'http_request_duration_p99_ms',
} as const;

export type MonitoringSettings = Pick<Service['monitoring'], 'health_url' | 'metrics_url' | 'check_interval'>;

/** Finds a service's monitoring block (`undefined`: nothing to watch). */
export type MonitoringLookup = (service: string, environment: string) => MonitoringSettings | undefined;

export interface LocalMonitorOptions {
  /** how long one probe or scrape may take (ms) */
  timeoutMs?: number;
  /** readings kept per service */
  maxSamples?: number;
  fetch?: typeof fetch;
}

interface MetricsSample {
  at: number;
  requests: number;
  errors: number;
  p99?: number;
}

/** One reading of the local monitor, as the console charts it. */
export interface MonitorReading {
  at: string;
  /** percent of the requests since the previous scrape that failed (none: first reading, or no requests) */
  errorRate?: number;
  /** the p99 the service reported (ms) */
  p99Ms?: number;
  /** the health probe taken at the same time */
  healthy?: boolean;
}

interface History {
  health: HealthSample[];
  metrics: MetricsSample[];
  lastProbeAt?: number;
  probing?: Promise<void>;
}

/**
 * Requests and errors between consecutive scrapes, at the later one; a counter that went down was reset
 * (a restarted service), so the interval counts from zero.
 */
const intervalsOf = (samples: MetricsSample[]): { at: number; requests: number; errors: number }[] =>
  samples.slice(1).map((end, i) => {
    const start = samples[i] as MetricsSample;
    const reset = end.requests < start.requests || end.errors < start.errors;
    return {
      at: end.at,
      requests: reset ? end.requests : end.requests - start.requests,
      errors: reset ? end.errors : end.errors - start.errors,
    };
  });

/** Sums counters and takes the max gauge per metric name, over all label sets. */
export const parsePrometheus = (text: string): Map<string, number[]> => {
  const values = new Map<string, number[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    values.set(match[1], [...(values.get(match[1]) ?? []), value]);
  }
  return values;
};

/** "10s", "5m": how the trigger windows read in a reason. */
const span = (seconds: number): string =>
  seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60}m` : `${Math.round(seconds * 10) / 10}s`;

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * The alarm source of the local runtime. Each `check()` probes the service's `health_url` and scrapes its
 * `metrics_url` (at most once per half `check_interval`, so concurrent callers share a reading), keeps the
 * readings per service, and applies the rollback triggers the way CloudWatch alarms would (see
 * `evaluateTrigger`): one datapoint per `check_interval`, N = the `_for` window / `check_interval`, M =
 * `error_rate_datapoints` / `response_time_p99_datapoints` (default all N), or `health_check_failures`
 * failed probes in a row. Readings before `since` are ignored; a period without requests or scrapes is
 * missing data, treated as the trigger's `_missing_data` policy says (default: not breaching). There are no
 * named alarms locally, so the query's `alarms`, `firingAtStart` and `unreadable` have nothing to act on.
 */
export class LocalMonitor implements AlarmSource {
  private readonly history = new Map<string, History>();
  private readonly timeoutMs: number;
  private readonly maxSamples: number;
  private readonly fetch: typeof fetch;

  constructor(
    private readonly lookup: MonitoringLookup,
    private readonly clock: Clock,
    options: LocalMonitorOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxSamples = options.maxSamples ?? 5000;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async check(query: AlarmQuery): Promise<AlarmCheck> {
    const settings = this.lookup(query.service, query.environment);
    if (!settings?.health_url && !settings?.metrics_url) {
      return { breached: false, reasons: [], metrics: { alarms: [] } };
    }
    const key = `${query.service}/${query.environment}`;
    let history = this.history.get(key);
    if (!history) {
      history = { health: [], metrics: [] };
      this.history.set(key, history);
    }
    await this.probe(history, settings);
    return this.evaluate(history, query, settings.check_interval);
  }

  /**
   * The readings kept for a service since `since` (ISO), oldest first, read-only: what the console draws.
   * The error rate is per interval between two scrapes, as `check()` computes it.
   */
  series(service: string, environment: string, since: string): MonitorReading[] {
    const history = this.history.get(`${service}/${environment}`);
    if (!history) return [];
    const from = Date.parse(since) || 0;
    const readings = new Map<number, MonitorReading>();
    const at = (t: number): MonitorReading => {
      const reading = readings.get(t) ?? { at: new Date(t).toISOString() };
      readings.set(t, reading);
      return reading;
    };
    const samples = history.metrics.filter((s) => s.at >= from);
    for (const end of samples) if (end.p99 !== undefined) at(end.at).p99Ms = round(end.p99, 0);
    for (const { at: end, requests, errors } of intervalsOf(samples))
      if (requests > 0) at(end).errorRate = round((errors / requests) * 100, 2);
    for (const probe of history.health) if (probe.at >= from) at(probe.at).healthy = probe.ok;
    return [...readings.entries()].sort(([a], [b]) => a - b).map(([, reading]) => reading);
  }

  private async probe(history: History, settings: MonitoringSettings): Promise<void> {
    if (history.probing) return history.probing;
    const now = this.clock.now().getTime();
    const spacingMs = (settings.check_interval * 1000) / 2;
    if (history.lastProbeAt !== undefined && now - history.lastProbeAt < spacingMs) return;
    history.lastProbeAt = now;
    history.probing = (async () => {
      const [health, metrics] = await Promise.all([
        settings.health_url
          ? probeHealth(settings.health_url, {
              fetch: this.fetch,
              timeoutMs: this.timeoutMs,
              now: () => this.clock.now().getTime(),
            })
          : undefined,
        settings.metrics_url ? this.scrape(settings.metrics_url, now) : undefined,
      ]);
      if (health) history.health.push(health);
      if (metrics) history.metrics.push(metrics);
      history.health.splice(0, Math.max(0, history.health.length - this.maxSamples));
      history.metrics.splice(0, Math.max(0, history.metrics.length - this.maxSamples));
    })().finally(() => {
      history.probing = undefined;
    });
    return history.probing;
  }

  private async scrape(url: string, at: number): Promise<MetricsSample | undefined> {
    try {
      const response = await this.fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await response.text();
      if (!response.ok) return undefined;
      const values = parsePrometheus(text);
      const requests = values.get(METRIC_NAMES.requests);
      if (!requests) return undefined;
      const sum = (xs: number[] | undefined) => (xs ?? []).reduce((a, b) => a + b, 0);
      const p99 = values.get(METRIC_NAMES.p99);
      return {
        at,
        requests: sum(requests),
        errors: sum(values.get(METRIC_NAMES.errors)),
        ...(p99?.length ? { p99: Math.max(...p99) } : {}),
      };
    } catch {
      return undefined;
    }
  }

  private evaluate(history: History, query: AlarmQuery, periodSeconds: number): AlarmCheck {
    const since = Date.parse(query.since);
    const from = Number.isNaN(since) ? 0 : since;
    const now = this.clock.now().getTime();
    const t = query.triggers;
    const reasons: string[] = [];
    const metrics: MetricsSnapshot = { alarms: [] };
    const breachTimes: number[] = [];
    const windowOf = (forSeconds: number) => Math.max(1, Math.round(forSeconds / periodSeconds));

    // Error rate per interval between two scrapes (a counter that went down was reset: count from zero).
    const samples = history.metrics.filter((s) => s.at >= from);
    const intervals = intervalsOf(samples);
    if (intervals.length > 0) {
      metrics.requests = intervals.reduce((sum, i) => sum + i.requests, 0);
      const last = intervals.at(-1);
      if (last && last.requests > 0) metrics.errorRate = round((last.errors / last.requests) * 100, 2);
    }
    // One datapoint per check interval, like CloudWatch's metric math over Sums: a period without
    // requests has no rate (division by zero), so it is missing data.
    const rateBuckets = bucketize(intervals, from, now, periodSeconds, 2 * windowOf(t.error_rate_for)).map(
      (b) => {
        const requests = b.readings.reduce((sum, i) => sum + i.requests, 0);
        const errors = b.readings.reduce((sum, i) => sum + i.errors, 0);
        return { at: b.at, value: requests > 0 ? (errors / requests) * 100 : undefined, requests, errors };
      },
    );
    const errorRate = evaluateTrigger(rateBuckets, {
      threshold: t.error_rate,
      comparison: '>',
      periodSeconds,
      evaluationPeriods: windowOf(t.error_rate_for),
      datapointsToAlarm: t.error_rate_datapoints ?? windowOf(t.error_rate_for),
      missingData: missingDataFor(t, 'error_rate'),
    });
    if (errorRate.breached) {
      const seen = new Set(errorRate.evaluated.map((d) => d.at));
      const window = rateBuckets.filter((b) => seen.has(b.at));
      const requests = window.reduce((sum, b) => sum + b.requests, 0);
      const errors = window.reduce((sum, b) => sum + b.errors, 0);
      reasons.push(
        requests > 0
          ? `error rate ${((errors / requests) * 100).toFixed(1)}% > ${t.error_rate}% for ${span(t.error_rate_for)}`
          : `no requests for ${span(t.error_rate_for)}, and missing error-rate data counts as breaching`,
      );
      if (errorRate.firstBreachAt !== undefined) breachTimes.push(errorRate.firstBreachAt);
    }

    // p99 as the service reports it: the highest reading of each period.
    const latencies = samples.filter((s) => s.p99 !== undefined);
    const latest = latencies.at(-1);
    if (latest?.p99 !== undefined) metrics.p99Ms = round(latest.p99, 0);
    const p99Buckets = bucketize(
      latencies,
      from,
      now,
      periodSeconds,
      2 * windowOf(t.response_time_p99_for),
    ).map((b) => ({
      at: b.at,
      value: b.readings.length ? Math.max(...b.readings.map((s) => s.p99 ?? 0)) : undefined,
    }));
    const p99 = evaluateTrigger(p99Buckets, {
      threshold: t.response_time_p99,
      comparison: '>',
      periodSeconds,
      evaluationPeriods: windowOf(t.response_time_p99_for),
      datapointsToAlarm: t.response_time_p99_datapoints ?? windowOf(t.response_time_p99_for),
      missingData: missingDataFor(t, 'response_time_p99'),
    });
    if (p99.breached) {
      const slowest = Math.max(...p99.evaluated.map((d) => d.value ?? 0));
      reasons.push(
        `p99 ${Math.round(slowest)} ms > ${t.response_time_p99} ms for ${span(t.response_time_p99_for)}`,
      );
      if (p99.firstBreachAt !== undefined) breachTimes.push(p99.firstBreachAt);
    }

    // Failed health probes in a row: M = N = health_check_failures over the probes themselves (a probe
    // always answers, a timeout or refused connection being a failure, so locally health has no gaps).
    const probes = history.health.filter((s) => s.at >= from);
    let failures = 0;
    for (const probe of [...probes].reverse()) {
      if (probe.ok) break;
      failures++;
    }
    if (probes.length > 0) metrics.healthFailures = failures;
    const health = evaluateTrigger(
      probes.map((p) => ({ at: p.at, value: p.ok ? 0 : 1 })),
      {
        threshold: 1,
        comparison: '>=',
        periodSeconds,
        evaluationPeriods: t.health_check_failures,
        datapointsToAlarm: t.health_check_failures,
        missingData: missingDataFor(t, 'health_check'),
        evaluationRange: t.health_check_failures,
      },
    );
    if (probes.length > 0 && health.breached) {
      reasons.push(`${failures} failed health checks in a row (last: ${probes.at(-1)?.detail})`);
      if (health.firstBreachAt !== undefined) breachTimes.push(health.firstBreachAt);
    }

    const breached = reasons.length > 0;
    return {
      breached,
      reasons,
      metrics,
      ...(breached && breachTimes.length
        ? { firstBreachAt: new Date(Math.min(...breachTimes)).toISOString() }
        : {}),
    };
  }
}
