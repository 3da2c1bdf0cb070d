import type { ServiceSettings } from './config/resolve.js';
import type { Check, Service, Step } from './config/schema.js';
import { displayName, formatDuration } from './deployment.js';
import type { GateResult } from './ports/deployment-store.js';
import type { TrackerTask } from './ports/tracker.js';

export type Risk = 'low' | 'medium' | 'high';

type Vars = Record<string, string>;

/** Fills the known `{{vars}}` of a value as the plan reader will see it run; `{{previous}}` stays. */
const fill = (text: string, vars: Vars): string =>
  text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole);

const shell = (argv: string[], vars: Vars): string => argv.map((arg) => fill(arg, vars)).join(' ');

const stepLine = (step: Step, vars: Vars): string => {
  switch (step.kind) {
    case 'command':
      return `\`${shell(step.run, vars)}\``;
    case 'kubernetes':
      return `rollout of deployment/${step.deployment} in ${step.namespace}${step.image ? ` to ${fill(step.image, vars)}` : ''}`;
    case 'migration':
      return `migration \`${shell(step.run, vars)}\``;
    case 's3-sync':
      return `sync ${fill(step.source, vars)} to s3://${step.bucket}/${step.prefix}`;
    case 'cloudfront-invalidation':
      return `invalidate ${step.paths.join(', ')} on ${step.distribution_id}`;
  }
};

const undoLine = (step: Step, keepDatabase: boolean, vars: Vars): string => {
  switch (step.kind) {
    case 'command':
      return step.undo
        ? `run \`${shell(step.undo, vars)}\` (restores what \`${shell(step.record ?? ['(nothing recorded)'], vars)}\` recorded)`
        : 'nothing to undo (no `undo` command): kept';
    case 'migration':
      if (keepDatabase)
        return 'keep database: the migration stays in place (old code must not depend on its absence)';
      return step.down ? `run \`${shell(step.down, vars)}\`` : 'irreversible: no automatic database rollback';
    case 'kubernetes':
      return `undo the rollout of deployment/${step.deployment} to the recorded revision`;
    case 's3-sync':
      return `restore the backed-up previous version of s3://${step.bucket}/${step.prefix}`;
    case 'cloudfront-invalidation':
      return 'invalidate again after the restore';
  }
};

const checkLine = (check: Check): string => {
  switch (check.kind) {
    case 'http':
      return `${check.method} ${check.url} → expect ${check.expect_status}${
        check.expect_body
          ? ` with ${Object.entries(check.expect_body)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}`
          : ''
      }${check.max_latency ? ` within ${Math.round(check.max_latency * 1000)} ms` : ''}`;
    case 'sql':
      return `SQL \`${check.query}\`${check.expect !== undefined ? ` → expect ${check.expect}` : ''}`;
    case 'rollout':
      return `deployment/${check.deployment} runs ${check.image} everywhere`;
  }
};

/** Low when every step can be undone; medium when something stays; high when something cannot be undone. */
export const assessRisk = (service: Service): { risk: Risk; reasons: string[] } => {
  const reasons: string[] = [];
  let risk: Risk = 'low';
  for (const step of service.steps) {
    if (step.kind === 'command' && !step.undo) {
      reasons.push(`"${step.name}" has no undo command`);
      risk = 'medium';
    }
    if (step.kind === 'migration' && !step.down && !service.rollback.keep_database) {
      reasons.push(`"${step.name}" cannot be rolled back automatically`);
      risk = 'high';
    }
  }
  if (service.verification.length === 0) {
    reasons.push('no verification checks are configured');
    if (risk === 'low') risk = 'medium';
  }
  if (reasons.length === 0) reasons.push('every step can be undone automatically', 'rollback plan ready');
  return { risk, reasons };
};

export interface PlanInput {
  task: TrackerTask;
  service: Service;
  settings: ServiceSettings;
  gates: GateResult[];
  deploymentId: string;
  /** the values steps fill `{{name}}` with */
  vars?: Vars;
}

/** The deployment plan the approver reads, in the seed's structure. */
export const renderPlan = ({
  task,
  service,
  settings,
  gates,
  deploymentId,
  vars = {},
}: PlanInput): { markdown: string; risk: Risk } => {
  const { risk, reasons } = assessRisk(service);
  const t = settings.triggers;
  const lines = [
    `# Deployment Plan: ${task.name}`,
    '',
    `Service **${displayName(service)}** → ${service.environment} · deployment \`${deploymentId}\` · task ${task.id}`,
    '',
    '## Pre-Deploy Checklist',
    ...gates.map((g) => `- [${g.passed ? 'x' : ' '}] ${g.name}: ${g.evidence}`),
    `- [x] Rollback plan ready`,
    `- [x] Monitoring configured`,
    '',
    '## Deployment Steps',
    ...service.steps.map((s, i) => `${i + 1}. **${s.name}** (${s.kind}): ${stepLine(s, vars)}`),
    '',
    '## Verification Plan',
    ...(service.verification.length > 0
      ? service.verification.map((c) => `- **${c.name}**: ${checkLine(c)}`)
      : ['- none configured']),
    `- Bounded by ${formatDuration(settings.verificationTimeoutSeconds)}`,
    '',
    '## Monitoring Plan',
    `Monitor for ${formatDuration(settings.monitoringPeriodSeconds)} after the deploy, with a status report every ${formatDuration(settings.reportIntervalSeconds)}.`,
    `- Error rate > ${t.error_rate}% for ${formatDuration(t.error_rate_for)}`,
    `- Response time p99 > ${t.response_time_p99} ms for ${formatDuration(t.response_time_p99_for)}`,
    `- ${t.health_check_failures} consecutive failed health checks`,
    ...service.monitoring.alarms.map((a) => `- CloudWatch alarm ${a}`),
    settings.autoRollback
      ? 'Any of these rolls back automatically.'
      : 'Automatic rollback is **disabled**: a trigger only reports.',
    '',
    '## Rollback Plan',
    'In reverse order:',
    ...[...service.steps]
      .reverse()
      .map((s, i) => `${i + 1}. **${s.name}**: ${undoLine(s, service.rollback.keep_database, vars)}`),
    'Then the verification checks run again to prove the previous version serves.',
    '',
    '## Risk Assessment',
    `**${risk[0]?.toUpperCase()}${risk.slice(1)}**`,
    ...reasons.map((r) => `- ${r}`),
    '',
    '## Success Criteria',
    '- All verification checks pass',
    `- No rollback trigger fires for ${formatDuration(settings.monitoringPeriodSeconds)}`,
    '',
  ];
  return { markdown: lines.join('\n'), risk };
};
