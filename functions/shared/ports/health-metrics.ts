/** One service's health check result for one minute, as the health alarm reads it. */
export interface HealthDatapoint {
  service: string;
  environment: string;
  /** when the probe ran */
  at: Date;
  failed: boolean;
  latencyMs?: number;
}

/**
 * Where the health probe's results go so an alarm can count failed checks in a row (CloudWatch custom
 * metrics on AWS). Only the AWS health probe uses it: locally the monitor keeps its own probes.
 */
export interface HealthMetrics {
  publish(points: HealthDatapoint[]): Promise<void>;
}
