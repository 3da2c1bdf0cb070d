import { alarmLatency } from './alarm-latency.js';
import { bundlesBenchmark } from './bundles.js';
import { cost } from './cost.js';
import type { Benchmark } from './framework.js';
import { overhead } from './overhead.js';
import { scale } from './scale.js';
import { webhookBenchmark } from './webhook.js';

/** Every benchmark, in the order of issue 9 and of the published table. */
export const BENCHMARKS: Benchmark[] = [
  alarmLatency,
  cost,
  bundlesBenchmark,
  webhookBenchmark,
  overhead,
  scale,
];
