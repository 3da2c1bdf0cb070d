import type { Benchmark } from './framework.js';

/** Every benchmark, in the order of issue 9 and of the published table. */
export const BENCHMARKS: Benchmark[] = [];
