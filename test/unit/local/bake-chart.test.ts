import type { DeploymentRecord } from '../../../functions/shared/ports/deployment-store.js';
import type { MonitorReading } from '../../../local/adapters/local-monitor.js';
import { bakeChart } from '../../../local/bake-chart.js';

const triggers = { error_rate: 1, response_time_p99: 1000, health_check_failures: 3 };
const at = (seconds: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, seconds)).toISOString();
const readings: MonitorReading[] = [
  { at: at(0), p99Ms: 20, healthy: true },
  { at: at(2), errorRate: 0, p99Ms: 20, healthy: true },
  { at: at(4), errorRate: 40, p99Ms: 30, healthy: false },
  { at: at(6), errorRate: 40, p99Ms: 30, healthy: false },
  { at: at(30), errorRate: 0, p99Ms: 10, healthy: true },
];

describe('bakeChart', () => {
  it('shapes a rolled-back bake: readings up to the end, thresholds, first breach, reason and rollback start', () => {
    // Prepare
    const record: Pick<DeploymentRecord, 'monitoring' | 'rollback' | 'finishedAt'> = {
      monitoring: {
        startedAt: at(1),
        endsAt: at(120),
        reports: [],
        breach: 'error rate 40.0% > 1% for 4s',
        firstBreachAt: at(2),
      },
      rollback: { reason: 'error rate 40.0% > 1% for 4s', steps: [], startedAt: at(7), reactionMs: 5000 },
      finishedAt: at(10),
    };

    // Act
    const chart = bakeChart(record, readings, triggers, new Date(at(60)));

    // Assess
    expect(chart).toEqual({
      from: at(1),
      to: at(10),
      live: false,
      thresholds: { errorRate: 1, p99Ms: 1000, healthCheckFailures: 3 },
      readings: readings.slice(1, 4),
      firstBreachAt: at(2),
      reason: 'error rate 40.0% > 1% for 4s',
      rollbackStartedAt: at(7),
      reactionMs: 5000,
    });
  });

  it('runs a bake still under way up to now, with nothing breached', () => {
    // Prepare
    const record = { monitoring: { startedAt: at(0), endsAt: at(120), reports: [] } };

    // Act
    const chart = bakeChart(record, readings, triggers, new Date(at(5)));

    // Assess
    expect(chart).toEqual({
      from: at(0),
      to: at(5),
      live: true,
      thresholds: { errorRate: 1, p99Ms: 1000, healthCheckFailures: 3 },
      readings: readings.slice(0, 3),
    });
  });

  it('takes the rollback reason when the bake recorded no breach (a rollback asked for by hand)', () => {
    // Prepare
    const record = {
      monitoring: { startedAt: at(0), endsAt: at(120), reports: [] },
      rollback: { reason: 'rollback requested by dana', steps: [], startedAt: at(3) },
      finishedAt: at(6),
    };

    // Act
    const chart = bakeChart(record, [], triggers, new Date(at(60)));

    // Assess
    expect(chart).toMatchObject({
      reason: 'rollback requested by dana',
      rollbackStartedAt: at(3),
      readings: [],
    });
  });

  it('has no chart for a deployment that never baked', () => {
    // Act
    const chart = bakeChart({ finishedAt: at(3) }, readings, triggers, new Date(at(60)));

    // Assess
    expect(chart).toBeUndefined();
  });
});
