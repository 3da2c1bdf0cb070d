import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { reportStatus } from '../../../functions/report-status/report-status.js';
import { CloudWatchMetricReader } from '../../../functions/shared/adapters/cloudwatch-metric-reader.js';
import { parseConfig } from '../../../functions/shared/config/load.js';
import { TriggersSchema } from '../../../functions/shared/config/schema.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, T1_STATE } from '../../fixtures/records.js';

const CONFIG = `
services:
  - name: notifications
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: L1 }
    steps: [{ name: Deploy, kind: command, run: [deploy] }]
    monitoring:
      health_url: https://notifications.example.com/health
      cloudwatch: { alb: app/notifications/50dc6c495c0c9188 }
`;
const service = () => {
  const s = parseConfig(CONFIG, 'test.yaml').services[0];
  if (!s) throw new Error('no service');
  return s;
};
const NOW = new Date('2026-11-29T10:30:00.000Z');
const minute = (m: number) => new Date(NOW.getTime() - m * 60_000);

describe('CloudWatchMetricReader', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  const reader = new CloudWatchMetricReader({ client: new CloudWatchClient({ region: 'eu-west-1' }) });
  afterEach(() => cloudwatch.reset());

  it('reads the error rate over error_rate_for, the worst minute p99 in ms and the failed health checks in a row', async () => {
    // Prepare: newest first, as ScanBy TimestampDescending returns them
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'requests', Timestamps: [minute(1), minute(2), minute(7)], Values: [600, 400, 9999] },
        { Id: 'errors', Timestamps: [minute(1), minute(7)], Values: [3, 5000] },
        { Id: 'latency', Timestamps: [minute(1), minute(2)], Values: [0.25, 0.8] },
        { Id: 'health', Timestamps: [minute(1), minute(2), minute(3)], Values: [1, 1, 0] },
      ],
    });

    // Act
    const readings = await reader.read(service(), TriggersSchema.parse({}), NOW);

    // Assess: the request and error counts 7 minutes ago are outside the 5-minute window
    expect(readings).toEqual({ requests: 1000, errorRate: 0.3, p99Ms: 800, healthFailures: 2 });
    expect(cloudwatch).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: minute(5),
      EndTime: NOW,
      ScanBy: 'TimestampDescending',
    });
    const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries ?? [];
    expect(queries.map((q) => [q.Id, q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat])).toEqual([
      ['requests', 'RequestCount', 'Sum'],
      ['errors', 'HTTPCode_Target_5XX_Count', 'Sum'],
      ['latency', 'TargetResponseTime', 'p99'],
      ['health', 'HealthCheckFailed', 'Maximum'],
    ]);
  });

  it('leaves out what has no datapoints, so the report says no data', async () => {
    // Prepare
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'requests', Timestamps: [minute(1)], Values: [0] },
        { Id: 'errors', Timestamps: [], Values: [] },
      ],
    });

    // Act
    const readings = await reader.read(service(), TriggersSchema.parse({}), NOW);

    // Assess: no requests is no error rate, not 0 %
    expect(readings).toEqual({ requests: 0 });
  });

  it('asks CloudWatch nothing for a service without metrics or a health URL', async () => {
    // Prepare
    const bare = {
      ...service(),
      monitoring: { ...service().monitoring, cloudwatch: undefined, health_url: undefined },
    };

    // Act
    const readings = await reader.read(bare, TriggersSchema.parse({}), NOW);

    // Assess
    expect(readings).toEqual({});
    expect(cloudwatch).not.toHaveReceivedCommand(GetMetricDataCommand);
  });
});

describe('reportStatus', () => {
  const baking = async (f: ReturnType<typeof fakePorts>) => {
    const now = f.clock.now();
    await f.store.createDeployment(
      aDeployment({
        status: 'monitoring',
        stage: 'Monitor',
        monitoring: {
          startedAt: new Date(now.getTime() - 15 * 60_000).toISOString(),
          endsAt: new Date(now.getTime() + 45 * 60_000).toISOString(),
          reports: [],
        },
      }),
    );
  };

  it('shows the metric readings with the alarm states in the report and the record', async () => {
    // Prepare
    const f = fakePorts(CONFIG);
    await baking(f);
    f.ports.readings = {
      read: async () => ({ errorRate: 0.2, p99Ms: 245, requests: 1200, healthFailures: 0 }),
    };

    // Act
    const next = await reportStatus(T1_STATE, f.ports);

    // Assess
    expect(next.done).toBe(false);
    const comment = f.tracker.comments.at(-1)?.text ?? '';
    expect(comment).toContain('Error rate: 0.20% ✓');
    expect(comment).toContain('Response time (p99): 245 ms ✓');
    expect(comment).toContain('Requests observed: 1200');
    const record = await f.store.getDeployment('t1-1');
    expect(record?.monitoring?.reports[0]?.metrics).toMatchObject({ errorRate: 0.2, p99Ms: 245 });
  });

  it('says which alarms it ignored as unreadable instead of calling everything normal', async () => {
    // Prepare
    const f = fakePorts(CONFIG);
    await baking(f);
    f.alarms.check = async () => ({
      breached: false,
      reasons: [],
      metrics: { alarms: [{ name: 'notifications-5xx', state: 'MISSING' }] },
      warnings: ['alarm notifications-5xx does not exist; ignored (unreadable_alarms: notBreaching)'],
    });

    // Act
    await reportStatus(T1_STATE, f.ports);

    // Assess
    const comment = f.tracker.comments.at(-1)?.text ?? '';
    expect(comment).toContain('- Alarm notifications-5xx: MISSING ⚠ (could not be read)');
    expect(comment).toContain(
      '⚠️ alarm notifications-5xx does not exist; ignored (unreadable_alarms: notBreaching)',
    );
    expect(comment).toContain('All other metrics within normal range.');
    expect(comment).not.toContain('All metrics within normal range.');
  });

  it('keeps what the alarm source read when the metrics cannot be read, and does not roll back for it', async () => {
    // Prepare
    const f = fakePorts(CONFIG);
    await baking(f);
    f.ports.readings = { read: () => Promise.reject(new Error('ThrottlingException')) };

    // Act
    const next = await reportStatus(T1_STATE, f.ports);

    // Assess
    expect(next.done).toBe(false);
    expect(f.tracker.comments.at(-1)?.text).toContain('Error rate: 0.02% ✓');
  });

  it('fails the step when the alarm source cannot be read (fail safe), and reports on with notBreaching', async () => {
    // Prepare
    const unreadable = (config: string) => {
      const f = fakePorts(config);
      f.alarms.check = () => Promise.reject(new Error('AccessDenied'));
      return f;
    };
    const failSafe = unreadable(CONFIG);
    const bakeOn = unreadable(
      CONFIG.replace('monitoring:', 'monitoring:\n      unreadable_alarms: notBreaching'),
    );
    await baking(failSafe);
    await baking(bakeOn);

    // Act
    const failed = reportStatus(T1_STATE, failSafe.ports);
    const next = await reportStatus(T1_STATE, bakeOn.ports);

    // Assess
    await expect(failed).rejects.toThrow('AccessDenied');
    expect(next.done).toBe(false);
    expect(bakeOn.tracker.comments.at(-1)?.text).toContain(
      '⚠️ cannot read the rollback triggers (AccessDenied); baking on (unreadable_alarms: notBreaching)',
    );
  });
});
