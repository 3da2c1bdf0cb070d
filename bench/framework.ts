import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository: benchmarks run the demo's fixtures and the sample app from it. */
export const ROOT = resolve(import.meta.dirname, '..');

/**
 * What every benchmark's local runtime shares: the repository as the base folder (the sample app's
 * command steps), the demo's source-control fixture, any free port.
 */
export const BENCH_RUNTIME = {
  baseDir: ROOT,
  sourceControlFixture: join(ROOT, 'examples/demo/fixtures/source-control.json'),
  port: 0,
} as const;

/** How much a benchmark does: `full` for the published figures, `quick` for CI (it only has to run). */
export type BenchMode = 'full' | 'quick';

/** One figure of a benchmark, measured against its baseline in the same run. */
export interface BenchRow {
  /** what was measured, e.g. "alarm → rollback start, median" */
  metric: string;
  value: number;
  unit: string;
  /** the same figure for the baseline (polling, a bare handler, a minimal bundle …) */
  baseline?: number;
  /** what the baseline is, e.g. "polling every 60 s" */
  baselineLabel?: string;
  /** the target, as text ("≤ 1000 ms"), and whether this run met it */
  target?: string;
  met?: boolean;
}

export interface BenchResult {
  id: string;
  title: string;
  rows: BenchRow[];
  /** how it was measured and what the figure means for a user; one sentence each */
  notes: string[];
}

export interface Benchmark {
  id: string;
  title: string;
  run(mode: BenchMode): Promise<BenchResult>;
}

/** The machine a run was made on, for the published table. */
export const machine = () => {
  const cpu = cpus();
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
};

/** Sorted copy; the statistics below read sorted values. */
export const sorted = (values: number[]) => [...values].sort((a, b) => a - b);

/** The value at quantile q (0..1), nearest rank; NaN without values. */
export const quantile = (values: number[], q: number): number => {
  const s = sorted(values);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length, Math.max(1, Math.ceil(q * s.length))) - 1] as number;
};

export const median = (values: number[]) => quantile(values, 0.5);

/** value / baseline, or baseline / value when smaller is better; rounded for the table. */
export const ratio = (value: number, baseline: number, smallerIsBetter = true): number =>
  Math.round((smallerIsBetter ? baseline / value : value / baseline) * 10) / 10;

/** A number as the table shows it: integers plain, others to 3 significant digits. */
export const fmt = (value: number): string =>
  Number.isInteger(value) ? String(value) : Number(value.toPrecision(3)).toString();
