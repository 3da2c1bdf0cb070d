import { settingsFor } from '../shared/config/resolve.js';
import { ConflictError, ErrorNames, errorMessage } from '../shared/errors.js';
import { failMonitor } from '../shared/fail-monitor.js';
import { readTriggers } from '../shared/monitoring.js';
import type { Ports } from '../shared/ports/index.js';

export interface SweepResult {
  checked: number;
  /** bake intervals failed by a breached trigger (rollback starts) */
  failed: string[];
  /** bake intervals ended because their status report is due */
  reported: string[];
  /** approvals that expired */
  expired: string[];
}

type SweepPorts = Pick<Ports, 'config' | 'store' | 'alarms' | 'workflow' | 'clock' | 'logger'>;

const sweepApprovals = async (ports: SweepPorts, expired: string[]) => {
  const now = ports.clock.now();
  const waiting = (await ports.store.listDeployments()).filter((d) => d.status === 'awaiting-approval');
  for (const deployment of waiting) {
    const approval = await ports.store.findApprovalByDeployment(deployment.deploymentId);
    if (approval?.status !== 'pending' || new Date(approval.expiresAt) > now) continue;
    const won = await ports.store.decideApproval(approval.approvalId, {
      status: 'expired',
      decidedBy: 'devops-agent',
      decidedAt: now.toISOString(),
    });
    if (!won) continue;
    await ports.workflow.sendTaskFailure(
      approval.taskToken,
      ErrorNames.approvalExpired,
      `no decision before ${approval.expiresAt}`,
    );
    expired.push(deployment.deploymentId);
  }
};

/**
 * The periodic safety net (every `check_interval`; a minute on AWS). For every baking deployment it reads
 * the rollback triggers and fails the bake interval on a breach (a source that cannot be read counts as a
 * breach: fail safe, unless the service's `unreadable_alarms` is `notBreaching`, which logs a warning
 * instead), or ends the interval when its status report is due. It also expires approvals.
 */
export const sweepMonitors = async (
  ports: SweepPorts,
  filter?: { deploymentId?: string },
): Promise<SweepResult> => {
  const result: SweepResult = { checked: 0, failed: [], reported: [], expired: [] };
  const baking = (await ports.store.listDeployments()).filter(
    (d) =>
      d.status === 'monitoring' &&
      d.monitoring &&
      (!filter?.deploymentId || d.deploymentId === filter.deploymentId),
  );
  for (const deployment of baking) {
    const service = ports.config.services.find(
      (s) => s.name === deployment.service && s.environment === deployment.environment,
    );
    const monitoring = deployment.monitoring;
    if (!service || !monitoring) continue;
    const token = await ports.store.getMonitorToken(deployment.deploymentId);
    if (!token) continue;
    result.checked++;
    let reason: string | undefined;
    let firstBreachAt: string | undefined;
    try {
      const check = await readTriggers(
        service,
        settingsFor(ports.config, service),
        monitoring.startedAt,
        ports,
      );
      if (check.breached) {
        reason = check.reasons.join('; ');
        firstBreachAt = check.firstBreachAt;
      }
      if (check.warnings?.length)
        ports.logger.warn('baking on through alarms that cannot be read (unreadable_alarms: notBreaching)', {
          deploymentId: deployment.deploymentId,
          warnings: check.warnings,
        });
    } catch (error) {
      // unreadable_alarms: notBreaching turned an unreadable source into warnings above; this is fail safe
      reason = `cannot read the rollback triggers (${errorMessage(error)}); failing safe`;
    }
    try {
      if (reason) {
        await ports.store.updateDeployment(deployment.deploymentId, {
          monitoring: { ...monitoring, breach: reason, ...(firstBreachAt ? { firstBreachAt } : {}) },
        });
        if (await failMonitor(deployment.deploymentId, reason, ports))
          result.failed.push(deployment.deploymentId);
      } else if (monitoring.intervalEndsAt && new Date(monitoring.intervalEndsAt) <= ports.clock.now()) {
        await ports.store.setMonitorToken(deployment.deploymentId, undefined);
        await ports.workflow.sendTaskSuccess(token, { due: 'report' });
        result.reported.push(deployment.deploymentId);
      }
    } catch (error) {
      // An alarm event or an overlapping sweep answered this interval first: nothing is lost, and the other
      // baking deployments must still be swept.
      if (!(error instanceof ConflictError)) throw error;
      ports.logger.info('bake interval already answered', { deploymentId: deployment.deploymentId });
    }
  }
  await sweepApprovals(ports, result.expired);
  return result;
};
