import type { AlarmsFiringAtStart, Triggers, UnreadableAlarms } from '../config/schema.js';
import type { MetricsSnapshot } from './deployment-store.js';

export interface AlarmCheck {
  /** a rollback trigger fired; `reasons` says which and by how much */
  breached: boolean;
  reasons: string[];
  metrics: MetricsSnapshot;
  /**
   * when breached and the source knows it: the start of the oldest breaching datapoint of the window that
   * breached (ISO), so the record can say how long the reaction took
   */
  firstBreachAt?: string;
  /**
   * what the source could not read but did not count as a breach (`unreadable: 'notBreaching'`): the caller
   * logs or reports it, so an ignored alarm is never ignored silently
   */
  warnings?: string[];
}

export interface AlarmQuery {
  service: string;
  environment: string;
  triggers: Triggers;
  alarms: string[];
  /** only alarms that changed to ALARM after this time count (unless `firingAtStart` is `breach`) */
  since: string;
  /** a named alarm already in ALARM at `since`: `ignore` it, or count it as a `breach` */
  firingAtStart: AlarmsFiringAtStart;
  /** a named alarm that is missing or cannot be read: `breaching` (fail safe), or `notBreaching` with a warning */
  unreadable: UnreadableAlarms;
}

/** One change of an alarm to ALARM. */
export interface AlarmFiring {
  alarm: string;
  at: string;
}

/** The health signal of a running service (CloudWatch alarms on AWS, the local monitor locally). */
export interface AlarmSource {
  check(query: AlarmQuery): Promise<AlarmCheck>;
  /**
   * The times the named alarms changed to ALARM since `since`, newest first: the plan's risk counts a
   * service that alarmed lately. Sources without a history leave it out.
   */
  firings?(alarms: string[], since: string): Promise<AlarmFiring[]>;
}
