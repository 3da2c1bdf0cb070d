import { handleAlarmEvent } from '../../functions/alarm-event/alarm-event.js';
import { CONFIG } from '../fixtures/config.js';
import { createHarness } from './harness.js';

const WATCHING = CONFIG.replace(
  'monitoring: { report_interval: 15m }',
  'monitoring: { report_interval: 15m, alarms: [notifications-api-5xx] }',
);

const alarmEvent = (at: string) => ({
  source: 'aws.cloudwatch',
  'detail-type': 'CloudWatch Alarm State Change',
  time: at,
  detail: {
    alarmName: 'notifications-api-5xx',
    state: { value: 'ALARM', reason: 'Threshold Crossed: 5xx rate 7% > 1%', timestamp: at },
  },
});

describe('reaction to an alarm during the bake', () => {
  it('starts the rollback from the alarm event at once, without waiting for the next poll', async () => {
    // Prepare
    let bakeAt: string | undefined;
    let readingsAtBake = -1;
    let delivered = 0;
    const h = createHarness({
      config: WATCHING,
      atBake: async (_deploymentId, ports) => {
        const at = bakeAt ?? ports.clock.now().toISOString();
        bakeAt = at;
        if (readingsAtBake < 0) readingsAtBake = h.alarms.calls.length;
        delivered += (await handleAlarmEvent(alarmEvent(at), ports)).failed.length;
      },
    });

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'DeploymentRolledBack' });
    expect(delivered).toBe(1);
    // no time passed in the bake: the rollback did not wait for a report interval or a sweep
    expect(record.rollback?.reason).toContain('CloudWatch alarm notifications-api-5xx is in ALARM');
    expect(h.alarms.calls).toHaveLength(readingsAtBake);
    expect(record.rollback?.steps[0]?.startedAt).toBe(bakeAt);
    expect(record.monitoring?.firstBreachAt).toBe(bakeAt);
    expect(record.rollback?.reactionMs).toBe(0);
    expect(h.steps.undone).toEqual(['Deploy frontend', 'Deploy backend']);
    expect(comments.at(-1)).toContain('Failed at: post-deploy monitoring');
  });

  it('rolls back from the periodic check when no event arrives (a lost event)', async () => {
    // Prepare: the alarm source reads a breach at its next reading; no event is delivered
    const h = createHarness({ config: WATCHING });
    h.alarms.breachAfter = 2;

    // Act
    const { execution, record } = await h.run();

    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'DeploymentRolledBack' });
    expect(record.monitoring?.breach ?? record.rollback?.reason).toContain('error rate 34.0% > 1% for 5m');
    expect(h.alarms.calls.length).toBeGreaterThan(2);
    expect(h.steps.undone).toEqual(['Deploy frontend', 'Deploy backend']);
  });
});
