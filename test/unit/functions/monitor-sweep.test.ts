import { handleAlarmEvent } from '../../../functions/alarm-event/alarm-event.js';
import { sweepMonitors } from '../../../functions/monitor-sweep/monitor-sweep.js';
import { ConflictError } from '../../../functions/shared/errors.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

const CONFIG = `
services:
  - name: notifications
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: L1 }
    steps: [{ name: Deploy, kind: command, run: [deploy] }]
    monitoring: { alarms: [notifications-5xx] }
`;

const baking = async (f: ReturnType<typeof fakePorts>, intervalEndsInSeconds = 60) => {
  const now = f.clock.now();
  await f.store.createDeployment(
    aDeployment({
      status: 'monitoring',
      stage: 'Monitor',
      monitoring: {
        startedAt: now.toISOString(),
        endsAt: new Date(now.getTime() + 3600_000).toISOString(),
        intervalEndsAt: new Date(now.getTime() + intervalEndsInSeconds * 1000).toISOString(),
        reports: [],
      },
    }),
  );
  await f.store.setMonitorToken('t1-1', 'token-1');
};

/** Replaces the silent logger with one that keeps the warnings. */
const capture = (f: ReturnType<typeof fakePorts>) => {
  const warnings: { message: string; extra?: Record<string, unknown> }[] = [];
  f.ports.logger = { ...f.ports.logger, warn: (message, extra) => warnings.push({ message, extra }) };
  return warnings;
};

describe('sweepMonitors', () => {
  it('sweeps the other deployments when an interval was already answered (an alarm event or an overlapping sweep)', async () => {
    // Prepare: two bakes whose report is due; the first one's token was answered elsewhere
    const f = fakePorts(CONFIG);
    const now = f.clock.now();
    for (const id of ['t1-1', 't2-1']) {
      await f.store.createDeployment(
        aDeployment({
          deploymentId: id,
          taskId: id.split('-')[0],
          status: 'monitoring',
          stage: 'Monitor',
          monitoring: {
            startedAt: now.toISOString(),
            endsAt: new Date(now.getTime() + 3600_000).toISOString(),
            intervalEndsAt: now.toISOString(),
            reports: [],
          },
        }),
      );
      await f.store.setMonitorToken(id, `token-${id}`);
    }
    const answer = f.workflow.sendTaskSuccess.bind(f.workflow);
    f.workflow.sendTaskSuccess = async (token, output) => {
      if (token === 'token-t1-1')
        throw new ConflictError('the workflow is no longer waiting for this answer');
      return answer(token, output);
    };

    // Act
    const result = await sweepMonitors(f.ports);

    // Assess
    expect(result.reported).toEqual(['t2-1']);
    expect(f.workflow.successes).toEqual([{ token: 'token-t2-1', output: { due: 'report' } }]);
  });

  it('fails the bake interval at once when a trigger is breached', async () => {
    // Prepare
    const f = fakePorts(CONFIG);
    await baking(f);
    f.alarms.breachAfter = 0;

    // Act
    const result = await sweepMonitors(f.ports);

    // Assess
    expect(result.failed).toEqual(['t1-1']);
    expect(f.workflow.failures).toEqual([
      { token: 'token-1', error: 'AlarmBreachedError', cause: 'error rate 34.0% > 1% for 5m' },
    ]);
    expect(await f.store.getMonitorToken('t1-1')).toBeUndefined();
  });

  it('fails safe when the triggers cannot be read', async () => {
    // Prepare
    const f = fakePorts(CONFIG);
    await baking(f);
    f.alarms.check = async () => {
      throw new Error('CloudWatch throttled');
    };

    // Act
    await sweepMonitors(f.ports);

    // Assess
    expect(f.workflow.failures[0]?.cause).toBe(
      'cannot read the rollback triggers (CloudWatch throttled); failing safe',
    );
  });

  it('bakes on with a warning when the triggers cannot be read and unreadable_alarms is notBreaching', async () => {
    // Prepare
    const f = fakePorts(
      CONFIG.replace(
        'alarms: [notifications-5xx]',
        'alarms: [notifications-5xx], unreadable_alarms: notBreaching',
      ),
    );
    const warnings = capture(f);
    await baking(f, 60);
    f.alarms.check = async () => {
      throw new Error('CloudWatch throttled');
    };

    // Act
    const early = await sweepMonitors(f.ports);
    f.clock.advance(61);
    const due = await sweepMonitors(f.ports);

    // Assess: no rollback, the report still ends the interval, and every sweep says what it could not read
    expect(early).toMatchObject({ checked: 1, failed: [], reported: [] });
    expect(due).toMatchObject({ failed: [], reported: ['t1-1'] });
    expect(f.workflow.failures).toEqual([]);
    expect(f.workflow.successes).toEqual([{ token: 'token-1', output: { due: 'report' } }]);
    expect((await f.store.getDeployment('t1-1'))?.monitoring?.breach).toBeUndefined();
    const warning = {
      message: expect.stringContaining('baking on through alarms that cannot be read'),
      extra: {
        deploymentId: 't1-1',
        warnings: [
          'cannot read the rollback triggers (CloudWatch throttled); baking on (unreadable_alarms: notBreaching)',
        ],
      },
    };
    expect(warnings).toEqual([warning, warning]);
  });

  it('logs the alarms the source ignored as unreadable', async () => {
    // Prepare
    const f = fakePorts(CONFIG);
    const warnings = capture(f);
    await baking(f);
    f.alarms.check = async () => ({
      breached: false,
      reasons: [],
      metrics: { alarms: [{ name: 'notifications-5xx', state: 'MISSING' }] },
      warnings: ['alarm notifications-5xx does not exist; ignored (unreadable_alarms: notBreaching)'],
    });

    // Act
    const result = await sweepMonitors(f.ports);

    // Assess
    expect(result.failed).toEqual([]);
    expect(warnings).toEqual([
      {
        message: expect.stringContaining('baking on through alarms that cannot be read'),
        extra: {
          deploymentId: 't1-1',
          warnings: ['alarm notifications-5xx does not exist; ignored (unreadable_alarms: notBreaching)'],
        },
      },
    ]);
  });

  it("asks the source with the service's alarms_firing_at_start and unreadable_alarms", async () => {
    // Prepare
    const defaults = fakePorts(CONFIG);
    await baking(defaults);
    const configured = fakePorts(
      CONFIG.replace(
        'alarms: [notifications-5xx]',
        'alarms: [notifications-5xx], alarms_firing_at_start: breach, unreadable_alarms: notBreaching',
      ),
    );
    await baking(configured);

    // Act
    await sweepMonitors(defaults.ports);
    await sweepMonitors(configured.ports);

    // Assess
    expect(defaults.alarms.calls[0]).toMatchObject({
      alarms: ['notifications-5xx'],
      firingAtStart: 'ignore',
      unreadable: 'breaching',
    });
    expect(configured.alarms.calls[0]).toMatchObject({ firingAtStart: 'breach', unreadable: 'notBreaching' });
  });

  it('does nothing before the report is due, and ends the interval when it is', async () => {
    // Prepare
    const f = fakePorts(CONFIG);
    await baking(f, 60);

    // Act
    const early = await sweepMonitors(f.ports);
    f.clock.advance(61);
    const due = await sweepMonitors(f.ports);

    // Assess
    expect(early).toMatchObject({ checked: 1, failed: [], reported: [] });
    expect(due.reported).toEqual(['t1-1']);
    expect(f.workflow.successes).toEqual([{ token: 'token-1', output: { due: 'report' } }]);
  });

  it('expires an approval nobody decided in time, once', async () => {
    // Prepare
    const f = fakePorts(CONFIG);
    await f.store.createDeployment(aDeployment({ status: 'awaiting-approval', stage: 'RequestApproval' }));
    await f.store.putApproval(
      anApproval({
        approvalId: 'a1',
        taskToken: 'approval-token',
        expiresAt: new Date(f.clock.now().getTime() + 300_000).toISOString(),
      }),
    );

    // Act
    await sweepMonitors(f.ports);
    f.clock.advance(301);
    await sweepMonitors(f.ports);
    await sweepMonitors(f.ports);

    // Assess
    expect(f.workflow.failures).toEqual([
      {
        token: 'approval-token',
        error: 'ApprovalExpiredError',
        cause: expect.stringContaining('no decision before'),
      },
    ]);
    expect((await f.store.getApproval('a1'))?.status).toBe('expired');
  });
});

describe('handleAlarmEvent', () => {
  const event = (alarmName: string, value: string, timestamp = '2026-11-28T10:05:00.000+0000') => ({
    version: '0',
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    time: '2026-11-28T10:05:00Z',
    detail: { alarmName, state: { value, reason: 'Threshold Crossed: 3 datapoints', timestamp } },
  });

  it('fails the bake of the service watching the alarm when it changes to ALARM', async () => {
    // Prepare
    const f = fakePorts(CONFIG);
    await baking(f);

    // Act
    const result = await handleAlarmEvent(event('notifications-5xx', 'ALARM'), f.ports);

    // Assess
    expect(result.failed).toEqual(['t1-1']);
    expect(f.workflow.failures[0]).toMatchObject({
      token: 'token-1',
      error: 'AlarmBreachedError',
      cause: expect.stringContaining('notifications-5xx is in ALARM'),
    });
  });

  it('ignores OK transitions, other alarms and alarms that fired before the bake', async () => {
    // Prepare
    const f = fakePorts(CONFIG);
    await baking(f);

    // Act
    await handleAlarmEvent(event('notifications-5xx', 'OK'), f.ports);
    await handleAlarmEvent(event('billing-5xx', 'ALARM'), f.ports);
    await handleAlarmEvent(event('notifications-5xx', 'ALARM', '2026-11-28T09:00:00.000+0000'), f.ports);

    // Assess
    expect(f.workflow.failures).toEqual([]);
  });

  it('refuses an event that is not a CloudWatch alarm state change', async () => {
    // Prepare
    const f = fakePorts(CONFIG);

    // Act
    const act = handleAlarmEvent({ source: 'aws.ec2', detail: {} }, f.ports);

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ZodError' });
  });
});
