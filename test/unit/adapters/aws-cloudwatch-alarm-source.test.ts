import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CloudWatchAlarmSource } from '../../../functions/shared/adapters/cloudwatch-alarm-source.js';
import { TriggersSchema } from '../../../functions/shared/config/schema.js';
import type { AlarmQuery } from '../../../functions/shared/ports/alarm-source.js';

/** The query `readTriggers` sends for a service with the default monitoring settings, changed by `options`. */
const query = (
  alarms: string[],
  since = '2026-11-28T10:00:00.000Z',
  options: Partial<Pick<AlarmQuery, 'firingAtStart' | 'unreadable'>> = {},
): AlarmQuery => ({
  service: 'user-notifications',
  environment: 'production',
  triggers: TriggersSchema.parse({}),
  alarms,
  since,
  firingAtStart: 'ignore',
  unreadable: 'breaching',
  ...options,
});

describe('CloudWatchAlarmSource', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  const source = new CloudWatchAlarmSource({ client: new CloudWatchClient({ region: 'eu-west-1' }) });

  afterEach(() => {
    cloudwatch.reset();
  });

  it('reports an alarm that went to ALARM after the start as breached', async () => {
    // Prepare
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'api-5xx',
          StateValue: 'ALARM',
          StateReason: 'Threshold Crossed: 3 datapoints > 1',
          StateUpdatedTimestamp: new Date('2026-11-28T10:05:00.000Z'),
        },
        {
          AlarmName: 'api-p99',
          StateValue: 'OK',
          StateUpdatedTimestamp: new Date('2026-11-28T09:00:00.000Z'),
        },
      ],
    });

    // Act
    const check = await source.check(query(['api-5xx', 'api-p99']));

    // Assess
    expect(check).toEqual({
      breached: true,
      reasons: ['alarm api-5xx is in ALARM: Threshold Crossed: 3 datapoints > 1'],
      metrics: {
        alarms: [
          { name: 'api-5xx', state: 'ALARM' },
          { name: 'api-p99', state: 'OK' },
        ],
      },
    });
    expect(cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, {
      AlarmNames: ['api-5xx', 'api-p99'],
    });
  });

  it('does not count an alarm that was already in ALARM before the start', async () => {
    // Prepare
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'api-5xx',
          StateValue: 'ALARM',
          StateUpdatedTimestamp: new Date('2026-11-28T09:59:00.000Z'),
        },
      ],
    });

    // Act
    const check = await source.check(query(['api-5xx']));

    // Assess
    expect(check).toEqual({
      breached: false,
      reasons: [],
      metrics: { alarms: [{ name: 'api-5xx', state: 'ALARM' }] },
    });
  });

  it('counts an alarm already in ALARM before the start when alarms_firing_at_start is breach', async () => {
    // Prepare
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'api-5xx',
          StateValue: 'ALARM',
          StateReason: 'Threshold Crossed: 3 datapoints > 1',
          StateUpdatedTimestamp: new Date('2026-11-28T09:59:00.000Z'),
        },
        {
          AlarmName: 'api-p99',
          StateValue: 'OK',
          StateUpdatedTimestamp: new Date('2026-11-28T09:00:00.000Z'),
        },
      ],
    });

    // Act
    const check = await source.check(query(['api-5xx', 'api-p99'], undefined, { firingAtStart: 'breach' }));

    // Assess
    expect(check).toEqual({
      breached: true,
      reasons: [
        'alarm api-5xx has been in ALARM since 2026-11-28T09:59:00.000Z, before the bake started: Threshold Crossed: 3 datapoints > 1',
      ],
      metrics: {
        alarms: [
          { name: 'api-5xx', state: 'ALARM' },
          { name: 'api-p99', state: 'OK' },
        ],
      },
    });
  });

  it('counts a missing alarm as breached (fail safe)', async () => {
    // Prepare
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });

    // Act
    const check = await source.check(query(['renamed-alarm']));

    // Assess
    expect(check.breached).toBe(true);
    expect(check.reasons[0]).toMatch(/renamed-alarm does not exist/);
    expect(check.warnings).toBeUndefined();
  });

  it('reports a missing alarm as a warning, not a breach, when unreadable_alarms is notBreaching', async () => {
    // Prepare
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [{ AlarmName: 'api-p99', StateValue: 'OK' }] });

    // Act
    const check = await source.check(
      query(['renamed-alarm', 'api-p99'], undefined, { unreadable: 'notBreaching' }),
    );

    // Assess
    expect(check).toEqual({
      breached: false,
      reasons: [],
      metrics: {
        alarms: [
          { name: 'renamed-alarm', state: 'MISSING' },
          { name: 'api-p99', state: 'OK' },
        ],
      },
      warnings: [
        'alarm renamed-alarm does not exist; ignored (unreadable_alarms: notBreaching) (fix monitoring.alarms)',
      ],
    });
  });

  it('counts alarms it cannot read as breached (fail safe)', async () => {
    // Prepare
    cloudwatch
      .on(DescribeAlarmsCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));

    // Act
    const check = await source.check(query(['api-5xx', 'api-p99']));

    // Assess
    expect(check.breached).toBe(true);
    expect(check.metrics.alarms).toEqual([
      { name: 'api-5xx', state: 'UNREADABLE' },
      { name: 'api-p99', state: 'UNREADABLE' },
    ]);
  });

  it('reports alarms it cannot read as warnings, not a breach, when unreadable_alarms is notBreaching', async () => {
    // Prepare
    cloudwatch
      .on(DescribeAlarmsCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));

    // Act
    const check = await source.check(
      query(['api-5xx', 'api-p99'], undefined, { unreadable: 'notBreaching' }),
    );

    // Assess
    expect(check).toEqual({
      breached: false,
      reasons: [],
      metrics: {
        alarms: [
          { name: 'api-5xx', state: 'UNREADABLE' },
          { name: 'api-p99', state: 'UNREADABLE' },
        ],
      },
      warnings: [
        'alarm api-5xx could not be read (AccessDenied); ignored (unreadable_alarms: notBreaching)',
        'alarm api-p99 could not be read (AccessDenied); ignored (unreadable_alarms: notBreaching)',
      ],
    });
  });

  it('still counts an alarm that went to ALARM after the start when unreadable_alarms is notBreaching', async () => {
    // Prepare
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'api-5xx',
          StateValue: 'ALARM',
          StateReason: 'Threshold Crossed',
          StateUpdatedTimestamp: new Date('2026-11-28T10:05:00.000Z'),
        },
      ],
    });

    // Act
    const check = await source.check(query(['api-5xx', 'gone'], undefined, { unreadable: 'notBreaching' }));

    // Assess
    expect(check.breached).toBe(true);
    expect(check.reasons).toEqual(['alarm api-5xx is in ALARM: Threshold Crossed']);
    expect(check.warnings).toEqual([expect.stringContaining('alarm gone does not exist')]);
  });

  it('reads composite alarms too and follows pages', async () => {
    // Prepare
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ AlarmName: 'a', StateValue: 'OK' }], NextToken: 'next' })
      .resolvesOnce({ CompositeAlarms: [{ AlarmName: 'b', StateValue: 'INSUFFICIENT_DATA' }] });

    // Act
    const check = await source.check(query(['a', 'b']));

    // Assess
    expect(check).toMatchObject({
      breached: false,
      metrics: {
        alarms: [
          { name: 'a', state: 'OK' },
          { name: 'b', state: 'INSUFFICIENT_DATA' },
        ],
      },
    });
    expect(cloudwatch).toHaveReceivedNthSpecificCommandWith(2, DescribeAlarmsCommand, { NextToken: 'next' });
  });

  it('calls nothing when the service watches no alarms', async () => {
    // Act
    const check = await source.check(query([]));

    // Assess
    expect(check).toEqual({ breached: false, reasons: [], metrics: { alarms: [] } });
    expect(cloudwatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
  });

  it('lists the changes to ALARM from the alarm history, newest first, and skips the other updates', async () => {
    // Prepare
    const update = (from: string, to: string) =>
      JSON.stringify({ version: '1.0', oldState: { stateValue: from }, newState: { stateValue: to } });
    cloudwatch
      .on(DescribeAlarmHistoryCommand, { AlarmName: 'api-5xx' })
      .resolves({
        AlarmHistoryItems: [
          {
            AlarmName: 'api-5xx',
            Timestamp: new Date('2026-11-26T09:00:00Z'),
            HistoryData: update('ALARM', 'OK'),
          },
          {
            AlarmName: 'api-5xx',
            Timestamp: new Date('2026-11-26T08:00:00Z'),
            HistoryData: update('OK', 'ALARM'),
          },
          { AlarmName: 'api-5xx', Timestamp: new Date('2026-11-25T08:00:00Z'), HistoryData: 'not json' },
        ],
      })
      .on(DescribeAlarmHistoryCommand, { AlarmName: 'api-p99' })
      .resolves({
        AlarmHistoryItems: [
          {
            AlarmName: 'api-p99',
            Timestamp: new Date('2026-11-27T08:00:00Z'),
            HistoryData: update('INSUFFICIENT_DATA', 'ALARM'),
          },
        ],
      });

    // Act
    const firings = await source.firings(['api-5xx', 'api-p99'], '2026-11-21T10:00:00.000Z');

    // Assess
    expect(firings).toEqual([
      { alarm: 'api-p99', at: '2026-11-27T08:00:00.000Z' },
      { alarm: 'api-5xx', at: '2026-11-26T08:00:00.000Z' },
    ]);
    expect(cloudwatch).toHaveReceivedCommandWith(DescribeAlarmHistoryCommand, {
      AlarmName: 'api-5xx',
      HistoryItemType: 'StateUpdate',
      StartDate: new Date('2026-11-21T10:00:00.000Z'),
    });
  });
});
