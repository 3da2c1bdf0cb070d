import { formatDuration } from '../functions/shared/deployment.js';
import type { ApiDeployment } from '../local/api-routes.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Where the deployment is, in one line: the progress line `status --watch` redraws. */
export const progressLine = (d: ApiDeployment): string => {
  const head = `${d.deploymentId} ${d.status}`;
  if (d.finished) {
    return `${head}${d.outcome && d.outcome !== d.status ? ` (${d.outcome})` : ''} after ${formatDuration(d.durationSeconds)}`;
  }
  const parts = [head];
  if (d.status === 'queued' && d.queuePosition) parts.push(`place ${d.queuePosition} in the queue`);
  if (d.status === 'awaiting-approval' && d.approval) {
    parts.push(`${d.approval.approvals} of ${d.approval.quorum} approvals`);
  } else if (d.status === 'deploying' || d.status === 'verifying') {
    parts.push(`step ${d.steps.done}/${d.steps.total}${d.steps.current ? ` ${d.steps.current}` : ''}`);
  } else if (d.status === 'monitoring' && d.bake) {
    parts.push(
      `bake ${d.bake.percent}% (${formatDuration(d.bake.elapsedSeconds)} of ${formatDuration(d.bake.totalSeconds)})`,
    );
  } else if (d.status === 'rolling-back' && d.rollback) {
    parts.push(`rolling back: ${d.rollback.reason}`);
  } else {
    parts.push(d.stage);
  }
  parts.push(formatDuration(d.durationSeconds));
  return parts.join(' · ');
};

/**
 * Everything `status` shows of one deployment, a few labelled lines; `flag` is what the printed approve
 * command needs to reach the same agent (` --url …`, ` --stack …`, or nothing).
 */
export const deploymentBlock = (d: ApiDeployment, flag: string): string => {
  const lines = [
    `${d.deploymentId}  ${d.taskName ? `"${d.taskName}" ` : ''}(task ${d.taskId}) · ${d.service}/${d.environment}`,
    `  state     ${d.status} · ${d.stage} · ${d.finished ? 'took' : 'running for'} ${formatDuration(d.durationSeconds)} (started ${d.createdAt}, trigger ${d.trigger}${d.requestedBy ? ` by ${d.requestedBy}` : ''})`,
  ];
  if (d.queuePosition)
    lines.push(
      `  queue     place ${d.queuePosition}: another deployment of ${d.service}/${d.environment} runs first`,
    );
  lines.push(
    `  steps     ${d.steps.done}/${d.steps.total}${d.steps.current ? `, now: ${d.steps.current}` : ''}${d.steps.failed ? `, failed: ${d.steps.failed}` : ''}`,
  );
  if (d.approval) {
    const a = d.approval;
    const votes = a.votes.map(
      (v) => `${v.decision === 'approve' ? 'approved' : 'held'} by ${v.by} (${v.channel})`,
    );
    lines.push(
      a.status === 'pending'
        ? `  approval  pending: ${a.approvals} of ${a.quorum} approvals${votes.length ? ` (${votes.join(', ')})` : ''}, expires ${a.expiresAt}; approve with devops-agent approve ${d.taskId} --as <${a.approvers.join('|')}>${flag}`
        : `  approval  ${a.status}${a.decidedBy ? ` by ${a.decidedBy}` : ''}${votes.length ? ` (${votes.join(', ')})` : ''}`,
    );
  }
  if (d.bake) {
    const b = d.bake;
    lines.push(
      `  bake      ${b.percent}% (${formatDuration(b.elapsedSeconds)} of ${formatDuration(b.totalSeconds)})${
        b.withinTargets === undefined ? '' : b.withinTargets ? ' · within targets' : ' · outside targets'
      }${b.breach ? ` · breach: ${b.breach}` : ''}`,
    );
  }
  if (d.rollback) {
    lines.push(
      `  rollback  ${d.rollback.reason} (${d.rollback.steps.done}/${d.rollback.steps.total} steps undone)${d.rollback.error ? `; failed: ${d.rollback.error}` : ''}`,
    );
  }
  if (d.error && !d.rollback) lines.push(`  error     ${d.error.name}: ${d.error.message}`);
  if (d.finished) lines.push(`  outcome   ${d.outcome ?? d.status}`);
  if (d.reportError)
    lines.push(
      `  report    could not be made, so the task may not show this outcome: ${d.reportError.name}: ${d.reportError.message}`,
    );
  lines.push(`  console   ${d.url}`);
  if (d.recordUrl) lines.push(`  record    ${d.recordUrl}`);
  return lines.join('\n');
};

/** One deployment as `history` lists it: the outcome line, then when, how long, why it rolled back, the record. */
export const historyEntry = (d: ApiDeployment): string => {
  const lines = [
    `${d.deploymentId}  ${d.finished ? (d.outcome ?? d.status) : `${d.status} (running)`}  ${d.service}/${d.environment}  task ${d.taskId}${d.taskName ? ` "${d.taskName}"` : ''}`,
    `  started ${d.createdAt}, ${d.finished ? 'took' : 'running for'} ${formatDuration(d.durationSeconds)}${
      d.approval?.decidedBy ? `, ${d.approval.status} by ${d.approval.decidedBy}` : ''
    }`,
  ];
  if (d.rollback) lines.push(`  rollback: ${d.rollback.reason}`);
  else if (d.error && d.finished && d.outcome !== 'deployed') lines.push(`  why: ${d.error.message}`);
  if (d.recordUrl) lines.push(`  record ${d.recordUrl}`);
  return lines.join('\n');
};

export { plural };
