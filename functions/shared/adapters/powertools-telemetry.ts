import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AgentMetricName } from '../agent-metrics.js';
import type { Logger } from '../ports/index.js';
import type { MetricDimensions, Telemetry } from '../ports/telemetry.js';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * The telemetry port over Powertools Metrics (EMF lines in the function's log, no PutMetricData calls).
 * A datapoint without dimensions is buffered in the shared instance and flushed by the `logMetrics`
 * middleware after the invocation; one with dimensions is written at once as its own EMF line
 * (`singleMetric`), because the instance's dimensions would apply to every metric it flushes.
 */
export class PowertoolsTelemetry implements Telemetry {
  readonly #metrics: Metrics;
  readonly #logger: Pick<Logger, 'warn'>;

  constructor(metrics: Metrics, logger: Pick<Logger, 'warn'>) {
    this.#metrics = metrics;
    this.#logger = logger;
  }

  count(name: AgentMetricName, dimensions: MetricDimensions = {}): void {
    this.#emit(name, MetricUnit.Count, 1, dimensions);
  }

  duration(name: AgentMetricName, ms: number, dimensions: MetricDimensions = {}): void {
    this.#emit(name, MetricUnit.Milliseconds, Math.round(ms), dimensions);
  }

  #emit(name: AgentMetricName, unit: Unit, value: number, dimensions: MetricDimensions): void {
    // a metric must never fail the deployment step that reports it
    try {
      if (!Number.isFinite(value)) throw new RangeError(`${value} is not a finite number`);
      if (Object.keys(dimensions).length === 0) {
        this.#metrics.addMetric(name, unit, value);
        return;
      }
      const single = this.#metrics.singleMetric();
      single.addDimensions({ ...dimensions });
      single.addMetric(name, unit, value);
    } catch (error) {
      this.#logger.warn('metric not emitted', { metric: name, error: String(error) });
    }
  }
}
