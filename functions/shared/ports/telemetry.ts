import type { AgentMetricName } from '../agent-metrics.js';

/** Dimensions of one datapoint, e.g. `{ Outcome: 'deployed' }`; the service dimension is always added. */
export type MetricDimensions = Readonly<Record<string, string>>;

/**
 * The agent's own business metrics (deployments by outcome, durations, rollbacks, approval waits), as the
 * cores know them. On AWS they become CloudWatch metrics (EMF in the function's log, `PowertoolsTelemetry`);
 * locally and in tests they are kept in memory (`MemoryTelemetry`) or dropped. Never throws into a core.
 *
 * @example
 * ports.telemetry?.count(AGENT_METRICS.names.rollbacks);
 */
export interface Telemetry {
  /** one occurrence */
  count(name: AgentMetricName, dimensions?: MetricDimensions): void;
  /** a duration in milliseconds */
  duration(name: AgentMetricName, ms: number, dimensions?: MetricDimensions): void;
}
