import {
  type CloudWatchClient,
  type CompositeAlarm,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import * as z from 'zod';
import type { AlarmCheck, AlarmFiring, AlarmQuery, AlarmSource } from '../ports/alarm-source.js';

export interface CloudWatchAlarmSourceOptions {
  client: CloudWatchClient;
}

type Alarm = MetricAlarm | CompositeAlarm;

/** `HistoryData` of a StateUpdate item: JSON with the old and the new state. */
const StateUpdateSchema = z.object({ newState: z.object({ stateValue: z.string() }) });

/** DescribeAlarmHistory pages at most this many items; a service alarming more often is risky enough. */
const HISTORY_PAGE = 100;

/** DescribeAlarms takes at most 100 names per call. */
const BATCH = 100;

/**
 * The production `AlarmSource`: reads the service's CloudWatch alarms. An alarm in ALARM whose state changed
 * after `since` is a breach; one that was already firing before the bake started was a gate's business,
 * unless `firingAtStart` is `breach`. An alarm that cannot be read (missing, or the call failed) counts as
 * breached (fail safe), unless `unreadable` is `notBreaching`: then it is a warning, and its state
 * (MISSING, UNREADABLE) stays in the metrics either way.
 *
 * @example
 * const check = await new CloudWatchAlarmSource({ client: new CloudWatchClient({}) }).check(query);
 */
export class CloudWatchAlarmSource implements AlarmSource {
  constructor(private readonly options: CloudWatchAlarmSourceOptions) {}

  async check(query: AlarmQuery): Promise<AlarmCheck> {
    const since = new Date(query.since);
    const reasons: string[] = [];
    const warnings: string[] = [];
    const states: { name: string; state: string }[] = [];
    const unreadable = (problem: string, fix = '') => {
      if (query.unreadable === 'notBreaching')
        warnings.push(`${problem}; ignored (unreadable_alarms: notBreaching)${fix}`);
      else reasons.push(`${problem}; treated as breached${fix}`);
    };
    for (let i = 0; i < query.alarms.length; i += BATCH) {
      const names = query.alarms.slice(i, i + BATCH);
      let found: Alarm[];
      try {
        found = await this.describe(names);
      } catch (error) {
        for (const name of names) {
          states.push({ name, state: 'UNREADABLE' });
          unreadable(`alarm ${name} could not be read (${(error as Error).name})`);
        }
        continue;
      }
      for (const name of names) {
        const alarm = found.find((a) => a.AlarmName === name);
        if (!alarm) {
          states.push({ name, state: 'MISSING' });
          unreadable(`alarm ${name} does not exist`, ' (fix monitoring.alarms)');
          continue;
        }
        const state = alarm.StateValue ?? 'UNKNOWN';
        states.push({ name, state });
        if (state !== 'ALARM') continue;
        const changedAt = alarm.StateUpdatedTimestamp;
        const why = alarm.StateReason ?? 'no reason given';
        if (!changedAt || changedAt > since) reasons.push(`alarm ${name} is in ALARM: ${why}`);
        else if (query.firingAtStart === 'breach')
          reasons.push(
            `alarm ${name} has been in ALARM since ${changedAt.toISOString()}, before the bake started: ${why}`,
          );
      }
    }
    return {
      breached: reasons.length > 0,
      reasons,
      metrics: { alarms: states },
      ...(warnings.length ? { warnings } : {}),
    };
  }

  /**
   * DescribeAlarmHistory (state updates since `since`; CloudWatch keeps two weeks) per alarm, one page each.
   * Throws when an alarm's history cannot be read: the caller decides what an unknown history means.
   */
  async firings(alarms: string[], since: string): Promise<AlarmFiring[]> {
    const found: AlarmFiring[] = [];
    for (const name of alarms) {
      const page = await this.options.client.send(
        new DescribeAlarmHistoryCommand({
          AlarmName: name,
          HistoryItemType: 'StateUpdate',
          StartDate: new Date(since),
          ScanBy: 'TimestampDescending',
          MaxRecords: HISTORY_PAGE,
        }),
      );
      for (const item of page.AlarmHistoryItems ?? []) {
        let data: unknown;
        try {
          data = JSON.parse(item.HistoryData ?? '');
        } catch {
          continue;
        }
        const update = StateUpdateSchema.safeParse(data);
        if (update.success && update.data.newState.stateValue === 'ALARM' && item.Timestamp)
          found.push({ alarm: name, at: item.Timestamp.toISOString() });
      }
    }
    return found.sort((a, b) => b.at.localeCompare(a.at));
  }

  private async describe(names: string[]): Promise<Alarm[]> {
    const alarms: Alarm[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.options.client.send(
        new DescribeAlarmsCommand({
          AlarmNames: names,
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      alarms.push(...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return alarms;
  }
}
