import * as z from 'zod';
import { failMonitor } from '../shared/fail-monitor.js';
import type { Ports } from '../shared/ports/index.js';
import { watchedAlarms } from '../shared/service-alarms.js';

export const AlarmStateChangeSchema = z
  .object({
    source: z.literal('aws.cloudwatch'),
    'detail-type': z.literal('CloudWatch Alarm State Change'),
    time: z.string(),
    detail: z
      .object({
        alarmName: z.string(),
        state: z
          .object({
            value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
            reason: z.string().optional(),
            timestamp: z.string(),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();

/**
 * EventBridge delivers a CloudWatch alarm that changed to ALARM: every deployment baking a service that
 * watches this alarm rolls back now, not at its next report.
 */
export const handleAlarmEvent = async (
  event: unknown,
  ports: Pick<Ports, 'config' | 'store' | 'workflow' | 'logger'>,
): Promise<{ failed: string[] }> => {
  const parsed = AlarmStateChangeSchema.parse(event);
  const { alarmName, state } = parsed.detail;
  if (state.value !== 'ALARM') return { failed: [] };
  const failed: string[] = [];
  const baking = await ports.store.listDeployments();
  for (const deployment of baking.filter((d) => d.status === 'monitoring')) {
    const service = ports.config.services.find(
      (s) => s.name === deployment.service && s.environment === deployment.environment,
    );
    if (!service || !watchedAlarms(service).includes(alarmName)) continue;
    if (deployment.monitoring && new Date(state.timestamp) < new Date(deployment.monitoring.startedAt))
      continue;
    const reason = `CloudWatch alarm ${alarmName} is in ALARM: ${state.reason ?? 'no reason given'}`;
    // recorded before the token fails, so the rollback reads it: the alarm's change to ALARM is the first
    // breach the agent can know of, and the reaction time runs from it
    if (deployment.monitoring && (await ports.store.getMonitorToken(deployment.deploymentId)))
      await ports.store.updateDeployment(deployment.deploymentId, {
        monitoring: { ...deployment.monitoring, breach: reason, firstBreachAt: state.timestamp },
      });
    if (await failMonitor(deployment.deploymentId, reason, ports)) failed.push(deployment.deploymentId);
  }
  return { failed };
};
