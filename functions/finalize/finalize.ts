import { recordFinished } from '../shared/agent-metrics.js';
import { contextFor, displayName, formatDuration, requireRecord } from '../shared/deployment.js';
import { formatMetrics } from '../shared/monitoring.js';
import type { Ports } from '../shared/ports/index.js';
import { writeRecord } from '../shared/record.js';
import type { Outcome } from '../shared/workflow.js';

/** The bake passed: sets the task to the output status, posts the success summary and writes the record. */
export const finalize = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'artifacts' | 'clock' | 'telemetry'>,
): Promise<Outcome> => {
  const { state, service, settings } = contextFor(input, ports);
  const now = ports.clock.now().toISOString();
  const record = await requireRecord(ports.store, state.deploymentId);
  await ports.store.setMonitorToken(state.deploymentId, undefined);
  // The release is live once the bake passed: the record says so before the task is told, so a ClickUp
  // that cannot be reached leaves a true record (and the report failure in it, see ReleaseLock).
  await ports.store.updateDeployment(state.deploymentId, {
    status: 'deployed',
    stage: 'Finalize',
    outcome: 'deployed',
    finishedAt: now,
  });
  await ports.tracker.setStatus(state.taskId, settings.outputStatus);
  recordFinished(ports.telemetry, 'deployed', { startedAt: record.createdAt, finishedAt: now });
  const key = await writeRecord(state.deploymentId, ports);
  const last = record.monitoring?.reports.at(-1);
  const duration = formatDuration((new Date(now).getTime() - new Date(record.createdAt).getTime()) / 1000);
  await ports.tracker.comment(
    state.taskId,
    [
      `✅ DEPLOYED TO ${service.environment.toUpperCase()}`,
      '',
      `${displayName(service)} is now live. All metrics nominal after ${formatDuration(settings.monitoringPeriodSeconds)} of monitoring.`,
      '',
      `**Deployment Time**: ${record.createdAt} - ${now} (${duration})`,
      '',
      '**What Was Deployed**:',
      ...record.steps.map((s) => `- ${s.name}: ${s.summary ?? s.status}`),
      '',
      '**Verification Results**:',
      ...(record.verification ?? []).map((c) => `${c.passed ? '✓' : '✗'} ${c.name}: ${c.detail}`),
      '',
      `**Post-Deploy Monitoring** (${formatDuration(settings.monitoringPeriodSeconds)}):`,
      ...(last ? formatMetrics(last.metrics, settings) : ['- no report']),
      '✓ No alerts triggered',
      ...(Object.keys(service.links).length
        ? ['', '**Links**:', ...Object.entries(service.links).map(([k, v]) => `- ${k}: ${v}`)]
        : []),
      '',
      `Deployment record: ${ports.artifacts.link(key)}`,
      `Task status set to ${settings.outputStatus}. 🎉`,
    ].join('\n'),
  );
  return 'deployed';
};
