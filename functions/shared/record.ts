import { formatDuration } from './deployment.js';
import type { DeploymentRecord } from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';

const seconds = (from?: string, to?: string) =>
  from && to ? formatDuration((new Date(to).getTime() - new Date(from).getTime()) / 1000) : '–';

/** The deployment record people read afterwards: what ran, how long, what was seen, how it ended. */
export const renderRecord = (r: DeploymentRecord): string =>
  [
    `# Deployment record: ${r.taskName}`,
    '',
    `- Deployment: \`${r.deploymentId}\` (task ${r.taskId}, trigger ${r.trigger}${r.requestedBy ? ` by ${r.requestedBy}` : ''})`,
    `- Service: ${r.service} → ${r.environment}`,
    `- Outcome: **${r.outcome ?? r.status}**`,
    `- Started ${r.createdAt}, finished ${r.finishedAt ?? '–'} (${seconds(r.createdAt, r.finishedAt)})`,
    ...(r.plan ? [`- Plan: ${r.plan.key} (hash \`${r.plan.hash.slice(0, 16)}\`, risk ${r.plan.risk})`] : []),
    ...(r.approval
      ? [
          `- Approval: ${r.approval.decision} by ${r.approval.by} via ${r.approval.channel} at ${r.approval.at}${r.approval.comment ? ` (“${r.approval.comment}”)` : ''}`,
        ]
      : []),
    '',
    '## Gates',
    ...(r.gates ?? []).map((g) => `- ${g.passed ? '✓' : '✗'} ${g.name}: ${g.evidence}`),
    '',
    '## Steps',
    '| # | Step | Kind | Status | Duration | Summary |',
    '|---|---|---|---|---|---|',
    ...r.steps.map(
      (s) =>
        `| ${s.index + 1} | ${s.name} | ${s.kind} | ${s.status} | ${seconds(s.startedAt, s.finishedAt)} | ${(s.error ?? s.summary ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
    ),
    '',
    '## Verification',
    ...(r.verification ?? []).map((c) => `- ${c.passed ? '✓' : '✗'} ${c.name}: ${c.detail}`),
    '',
    '## Monitoring',
    ...(r.monitoring
      ? [
          `From ${r.monitoring.startedAt} to ${r.monitoring.endsAt}.`,
          ...r.monitoring.reports.map(
            (m) =>
              `- +${formatDuration(m.elapsedSeconds)}: error rate ${m.metrics.errorRate?.toFixed(2) ?? 'n/a'}%, p99 ${m.metrics.p99Ms?.toFixed(0) ?? 'n/a'} ms, health failures ${m.metrics.healthFailures ?? 0}${m.withinTargets ? '' : ' ✗'}`,
          ),
          ...(r.monitoring.breach
            ? [
                `- Breach: ${r.monitoring.breach}${r.monitoring.firstBreachAt ? ` (first breaching datapoint ${r.monitoring.firstBreachAt})` : ''}`,
              ]
            : []),
        ]
      : ['Not reached.']),
    ...(r.rollback
      ? [
          '',
          '## Rollback',
          `Reason: ${r.rollback.reason}`,
          ...(r.rollback.startedAt
            ? [
                `Started ${r.rollback.startedAt}${r.rollback.reactionMs !== undefined ? `, ${formatDuration(Math.max(0, Math.round(r.rollback.reactionMs / 1000)))} after the first breaching datapoint (${r.monitoring?.firstBreachAt})` : ''}.`,
              ]
            : []),
          ...r.rollback.steps.map(
            (s) =>
              `- ${s.name}: ${s.status}${s.summary ? ` (${s.summary})` : ''}${s.error ? `: ${s.error}` : ''}`,
          ),
          ...(r.rollback.verification ?? []).map(
            (c) => `- verify ${c.passed ? '✓' : '✗'} ${c.name}: ${c.detail}`,
          ),
          ...(r.rollback.error ? [`- Rollback error: ${r.rollback.error}`] : []),
        ]
      : []),
    ...(r.error ? ['', '## Error', `${r.error.name}: ${r.error.message}`] : []),
    '',
  ].join('\n');

/** Stores the record document and remembers its key on the deployment. */
export const writeRecord = async (
  deploymentId: string,
  ports: Pick<Ports, 'store' | 'artifacts'>,
): Promise<string> => {
  const record = await ports.store.getDeployment(deploymentId);
  if (!record) return '';
  const key = `records/${deploymentId}.md`;
  await ports.artifacts.put(key, renderRecord({ ...record, recordKey: key }), 'text/markdown; charset=utf-8');
  await ports.store.updateDeployment(deploymentId, { recordKey: key });
  return key;
};
