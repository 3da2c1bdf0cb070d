import type { MetricDimensions, Telemetry } from './ports/telemetry.js';

/**
 * The agent's own metrics: what the functions emit (EMF, `PowertoolsTelemetry`) and what the stack's
 * dashboard and alarms read (`AgentObservability`), from one definition so the two cannot drift.
 * Every datapoint also carries the dimension `service` = `devops-agent`.
 */
export const AGENT_METRICS = {
  namespace: 'DevopsAgent',
  service: 'devops-agent',
  names: {
    /** a deployment reached its end, by `Outcome` */
    deploymentsFinished: 'DeploymentsFinished',
    /** createdAt → finishedAt in ms, by `Outcome` */
    deploymentDuration: 'DeploymentDuration',
    /** a rollback started (automatic or manual) */
    rollbacks: 'Rollbacks',
    /** approval requested → decided (approved or held) in ms; expiries are not decisions */
    approvalWait: 'ApprovalWait',
    /** every request to POST /webhooks/clickup, and those answered 5xx */
    webhookRequests: 'WebhookRequests',
    webhook5xx: 'Webhook5xx',
    /** every request to the approval pages, and those answered 5xx */
    approvalPageRequests: 'ApprovalPageRequests',
    approvalPage5xx: 'ApprovalPage5xx',
  },
  dimensions: { outcome: 'Outcome' },
  /** the values of `Outcome`: the workflow's outcomes, and a rollback that itself failed */
  outcomes: ['deployed', 'rolled-back', 'failed', 'blocked', 'held', 'rollback-failed'],
} as const;

export type AgentMetricName = (typeof AGENT_METRICS.names)[keyof typeof AGENT_METRICS.names];
export type FinishedOutcome = (typeof AGENT_METRICS.outcomes)[number];

/** The metric names of one HTTP route (requests and 5xx answers), for `httpHandler`. */
export interface RouteMetrics {
  requests: AgentMetricName;
  serverErrors: AgentMetricName;
}

/**
 * A deployment ended: one `DeploymentsFinished` and its `DeploymentDuration` (from `startedAt`, when known),
 * both by `Outcome`. Without a telemetry port (the local runtime) nothing happens.
 */
export const recordFinished = (
  telemetry: Telemetry | undefined,
  outcome: FinishedOutcome,
  at: { startedAt?: string; finishedAt: string },
): void => {
  if (!telemetry) return;
  const dimensions = { [AGENT_METRICS.dimensions.outcome]: outcome };
  telemetry.count(AGENT_METRICS.names.deploymentsFinished, dimensions);
  const ms = at.startedAt ? Date.parse(at.finishedAt) - Date.parse(at.startedAt) : Number.NaN;
  if (Number.isFinite(ms) && ms >= 0)
    telemetry.duration(AGENT_METRICS.names.deploymentDuration, ms, dimensions);
};

/** One recorded datapoint of `MemoryTelemetry`. */
export interface RecordedMetric {
  name: AgentMetricName;
  unit: 'Count' | 'Milliseconds';
  value: number;
  dimensions: MetricDimensions;
}

/** Keeps every datapoint in memory: for tests and for a runtime that wants to show them. */
export class MemoryTelemetry implements Telemetry {
  readonly recorded: RecordedMetric[] = [];

  count(name: AgentMetricName, dimensions: MetricDimensions = {}): void {
    this.recorded.push({ name, unit: 'Count', value: 1, dimensions });
  }

  duration(name: AgentMetricName, ms: number, dimensions: MetricDimensions = {}): void {
    this.recorded.push({ name, unit: 'Milliseconds', value: ms, dimensions });
  }
}
