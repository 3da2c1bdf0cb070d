import type { HealthSample } from '../shared/health-probe.js';
import type { HealthMetrics } from '../shared/ports/health-metrics.js';
import type { Ports } from '../shared/ports/index.js';

export interface HealthProbePorts extends Pick<Ports, 'config' | 'logger'> {
  health: HealthMetrics;
  /** one GET of a health URL (`probeHealth`): never throws, a failure is a result */
  probe(url: string): Promise<HealthSample>;
}

export interface HealthProbeResult {
  /** `<service>/<environment>` of every service probed */
  probed: string[];
  /** `<service>/<environment>: <why>` of every failed check */
  failed: string[];
}

/**
 * The health-check source of the AWS health alarms (every minute): probes the `health_url` of every
 * configured service that has one, concurrently, and publishes one datapoint per service, so the alarm
 * counts failed checks in a row (`health_check_failures` of one-minute datapoints). A minute whose
 * datapoint never arrives is the alarm's missing data (breaching by default): a silent probe is not healthy.
 */
export const probeServices = async (ports: HealthProbePorts): Promise<HealthProbeResult> => {
  const targets = ports.config.services.flatMap((service) =>
    service.monitoring.health_url ? [{ service, url: service.monitoring.health_url }] : [],
  );
  const samples = await Promise.all(targets.map(({ url }) => ports.probe(url)));
  const failed: string[] = [];
  const points = targets.map(({ service }, i) => {
    const sample = samples[i] as HealthSample;
    if (!sample.ok) failed.push(`${service.name}/${service.environment}: ${sample.detail}`);
    return {
      service: service.name,
      environment: service.environment,
      at: new Date(sample.at),
      failed: !sample.ok,
      ...(sample.latencyMs === undefined ? {} : { latencyMs: sample.latencyMs }),
    };
  });
  if (failed.length > 0) ports.logger.warn('health checks failed', { failed });
  if (points.length > 0) await ports.health.publish(points);
  return { probed: targets.map(({ service }) => `${service.name}/${service.environment}`), failed };
};
