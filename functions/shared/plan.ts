import type { ServiceSettings } from './config/resolve.js';
import type { Check, Service, Step } from './config/schema.js';
import { displayName, formatDuration, sha256 } from './deployment.js';
import type { AlarmFiring } from './ports/alarm-source.js';
import type { GateResult, MigrationFinding } from './ports/deployment-store.js';
import type { TrackerTask } from './ports/tracker.js';
import { describeSqlExpectations } from './sql-expectations.js';

export type Risk = 'low' | 'medium' | 'high';

type Vars = Record<string, string>;

/** Fills the known `{{vars}}` of a value as the plan reader will see it run; `{{previous}}` stays. */
const fill = (text: string, vars: Vars): string =>
  text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole);

const shell = (argv: string[], vars: Vars): string => argv.map((arg) => fill(arg, vars)).join(' ');

const stepLine = (step: Step, vars: Vars, current: string | undefined): string => {
  const now = current ? ` (now: \`${current}\`)` : '';
  switch (step.kind) {
    case 'command':
      return `\`${shell(step.run, vars)}\`${now}`;
    case 'kubernetes':
      return `rollout of deployment/${step.deployment} in ${step.namespace}${
        step.image
          ? current
            ? `: ${current} → ${fill(step.image, vars)}`
            : ` to ${fill(step.image, vars)} (running image unknown)`
          : now
      }`;
    case 'migration':
      return `migration \`${shell(step.run, vars)}\`${now}`;
    case 's3-sync':
      return `sync ${fill(step.source, vars)} to s3://${step.bucket}/${step.prefix}${now}`;
    case 'cloudfront-invalidation':
      return `invalidate ${step.paths.join(', ')} on ${step.distribution_id}`;
  }
};

const undoLine = (step: Step, keepDatabase: boolean, vars: Vars, migrations: MigrationFinding[]): string => {
  const irreversible = migrations.filter((m) => m.irreversible);
  switch (step.kind) {
    case 'command':
      return step.undo
        ? `run \`${shell(step.undo, vars)}\` (restores what \`${shell(step.record ?? ['(nothing recorded)'], vars)}\` recorded)`
        : 'nothing to undo (no `undo` command): kept';
    case 'migration':
      if (irreversible.length > 0)
        return `no automatic database rollback: ${irreversible.map((m) => `${m.path} (${m.reasons.join('; ')})`).join(', ')} cannot be undone`;
      if (keepDatabase)
        return 'keep database: the migration stays in place (old code must not depend on its absence)';
      return step.down ? `run \`${shell(step.down, vars)}\`` : 'irreversible: no automatic database rollback';
    case 'kubernetes':
      return `undo the rollout of deployment/${step.deployment} to the recorded revision`;
    case 's3-sync':
      return `restore the backed-up previous version of s3://${step.bucket}/${step.prefix}${
        step.invalidate_after_restore
          ? `, then invalidate ${step.invalidate_after_restore.paths.join(', ')} on ${step.invalidate_after_restore.distribution_id}`
          : ' (the CDN is not invalidated: no invalidate_after_restore)'
      }`;
    case 'cloudfront-invalidation':
      // rollback runs in reverse order: invalidating here would come before the restore it is meant for
      return 'nothing to undo (an s3-sync restore invalidates after itself with invalidate_after_restore)';
  }
};

const checkLine = (check: Check, vars: Vars): string => {
  switch (check.kind) {
    case 'http':
      return `${check.method} ${fill(check.url, vars)} → expect ${check.expect_status}${
        check.expect_body
          ? ` with ${Object.entries(check.expect_body)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')}`
          : ''
      }${check.max_latency ? ` within ${Math.round(check.max_latency * 1000)} ms` : ''}`;
    case 'sql': {
      const expected = describeSqlExpectations(check);
      return `SQL \`${check.query}\`${expected ? ` → expect ${expected}` : ''}`;
    }
    case 'rollout':
      return `deployment/${check.deployment} runs ${fill(check.image, vars)} everywhere`;
  }
};

const RANK: Record<Risk, number> = { low: 0, medium: 1, high: 2 };

/** How the service behaved lately: the plan's risk counts recent rollbacks and alarms. */
export interface ServiceHistory {
  /** days the history looks back over (rollbacks) */
  rollbackDays: number;
  /** deployments of the service (this environment) that ended rolled back, newest first */
  rollbacks: string[];
  /** days the alarm history looks back over */
  alarmDays: number;
  firings: AlarmFiring[];
  /** the alarm history could not be read: why */
  alarmHistoryError?: string;
}

/**
 * Risk from the facts: what cannot be undone (irreversible migrations, steps without undo), how many
 * components change together, overridden gates (firing alarms, a freeze) and missing verification.
 */
export const assessRisk = (
  service: Service,
  facts: { migrations?: MigrationFinding[]; gates?: GateResult[]; history?: ServiceHistory } = {},
): { risk: Risk; reasons: string[] } => {
  const reasons: string[] = [];
  let risk: Risk = 'low';
  const raise = (to: Risk, reason: string) => {
    reasons.push(reason);
    if (RANK[to] > RANK[risk]) risk = to;
  };
  for (const step of service.steps) {
    if (step.kind === 'command' && !step.undo) raise('medium', `"${step.name}" has no undo command`);
    if (step.kind === 'migration' && !step.down && !service.rollback.keep_database)
      raise('high', `"${step.name}" cannot be rolled back automatically`);
  }
  for (const m of facts.migrations ?? []) {
    if (m.irreversible) raise('high', `migration ${m.path} is irreversible: no automatic database rollback`);
    else if (m.kind === 'destructive')
      raise('high', `migration ${m.path} is destructive (${m.reasons.join('; ')})`);
    else raise('medium', `migration ${m.path} changes the schema (additive)`);
  }
  const components = service.steps.filter((s) => s.kind !== 'cloudfront-invalidation').length;
  if (components >= 4) raise('medium', `${components} components change together`);
  for (const gate of (facts.gates ?? []).filter((g) => g.override))
    raise('high', `gate "${gate.name}" overridden: ${gate.override}`);
  if (service.verification.length === 0) raise('medium', 'no verification checks are configured');
  const history = facts.history;
  if (history && history.rollbacks.length > 0)
    raise(
      history.rollbacks.length > 1 ? 'high' : 'medium',
      `${history.rollbacks.length} deployment${history.rollbacks.length > 1 ? 's' : ''} of ${service.name} rolled back in the last ${history.rollbackDays} days (${history.rollbacks.slice(0, 3).join(', ')})`,
    );
  if (history && history.firings.length > 0) {
    const byAlarm = new Map<string, number>();
    for (const f of history.firings) byAlarm.set(f.alarm, (byAlarm.get(f.alarm) ?? 0) + 1);
    raise(
      'medium',
      `alarms fired in the last ${history.alarmDays} days: ${[...byAlarm].map(([a, n]) => `${a} ×${n}`).join(', ')}`,
    );
  }
  if (history?.alarmHistoryError)
    raise('medium', `the alarm history could not be read (${history.alarmHistoryError})`);
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
  /** the migrations the release adds, as the migration gate classified them */
  migrations?: MigrationFinding[];
  /** what each step would replace, by step name (the running image, the recorded state) */
  current?: Record<string, string>;
  /** recent rollbacks and alarms of the service */
  history?: ServiceHistory;
}

/** The plan as data: what the approver approves (its hash binds the approval) and what Markdown shows. */
export interface DeploymentPlan {
  version: 1;
  deploymentId: string;
  task: { id: string; name: string; url?: string };
  service: string;
  displayName: string;
  environment: string;
  checklist: {
    name: string;
    state: 'passed' | 'failed' | 'not evaluated';
    evidence: string;
    override?: string;
  }[];
  /** `current`: what the step replaces, as observed when the plan was made */
  steps: { name: string; kind: Step['kind']; action: string; current?: string }[];
  migrations: MigrationFinding[];
  verification: { name: string; kind: Check['kind']; check: string }[];
  verificationTimeoutSeconds: number;
  monitoring: {
    periodSeconds: number;
    reportIntervalSeconds: number;
    triggers: string[];
    autoRollback: boolean;
  };
  /** in the order they run: the last step first */
  rollback: { name: string; action: string }[];
  risk: { level: Risk; reasons: string[] };
  successCriteria: string[];
}

/** Builds the plan from the config, the task, the gates' evidence and the classified migrations. */
export const buildPlan = ({
  task,
  service,
  settings,
  gates,
  deploymentId,
  vars = {},
  migrations = [],
  current = {},
  history,
}: PlanInput): DeploymentPlan => {
  const { risk, reasons } = assessRisk(service, { migrations, gates, ...(history ? { history } : {}) });
  const t = settings.triggers;
  return {
    version: 1,
    deploymentId,
    task: { id: task.id, name: task.name, ...(task.url ? { url: task.url } : {}) },
    service: service.name,
    displayName: displayName(service),
    environment: service.environment,
    checklist: gates.map((g) => ({
      name: g.name,
      state: g.error ? 'not evaluated' : g.passed ? 'passed' : 'failed',
      evidence: g.error ? `could not be evaluated (${g.error})` : g.evidence,
      ...(g.override ? { override: g.override } : {}),
    })),
    steps: service.steps.map((s) => ({
      name: s.name,
      kind: s.kind,
      action: stepLine(s, vars, current[s.name]),
      ...(current[s.name] ? { current: current[s.name] } : {}),
    })),
    migrations,
    verification: service.verification.map((c) => ({
      name: c.name,
      kind: c.kind,
      check: checkLine(c, vars),
    })),
    verificationTimeoutSeconds: settings.verificationTimeoutSeconds,
    monitoring: {
      periodSeconds: settings.monitoringPeriodSeconds,
      reportIntervalSeconds: settings.reportIntervalSeconds,
      triggers: [
        `Error rate > ${t.error_rate}% for ${formatDuration(t.error_rate_for)}`,
        `Response time p99 > ${t.response_time_p99} ms for ${formatDuration(t.response_time_p99_for)}`,
        `${t.health_check_failures} consecutive failed health checks`,
        ...service.monitoring.alarms.map((a) => `CloudWatch alarm ${a}`),
      ],
      autoRollback: settings.autoRollback,
    },
    rollback: [...service.steps]
      .reverse()
      .map((s) => ({ name: s.name, action: undoLine(s, service.rollback.keep_database, vars, migrations) })),
    risk: { level: risk, reasons },
    successCriteria: [
      'All verification checks pass',
      `No rollback trigger fires for ${formatDuration(settings.monitoringPeriodSeconds)}`,
    ],
  };
};

/** Canonical JSON (keys sorted) so the same plan always has the same hash. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );

/** The content hash an approval binds to: SHA-256 of the plan's canonical JSON. */
export const planHash = (plan: DeploymentPlan): string => sha256(canonical(plan));

const CHECK_MARK = { passed: 'x', failed: ' ', 'not evaluated': '?' } as const;

/** The plan as the approver reads it, in the seed's structure. */
export const renderPlanMarkdown = (plan: DeploymentPlan): string => {
  const level = plan.risk.level;
  return [
    `# Deployment Plan: ${plan.task.name}`,
    '',
    `Service **${plan.displayName}** → ${plan.environment} · deployment \`${plan.deploymentId}\` · task ${plan.task.id}`,
    '',
    '## Pre-Deploy Checklist',
    ...plan.checklist.map(
      (c) =>
        `- [${CHECK_MARK[c.state]}] ${c.name}: ${c.evidence}${c.override ? ` (override: ${c.override})` : ''}`,
    ),
    '- [x] Rollback plan ready',
    '- [x] Monitoring configured',
    '',
    '## Deployment Steps',
    ...plan.steps.map((s, i) => `${i + 1}. **${s.name}** (${s.kind}): ${s.action}`),
    ...(plan.migrations.length > 0
      ? [
          '',
          'Migrations in this release:',
          ...plan.migrations.map(
            (m) =>
              `- \`${m.path}\`: ${m.kind}${m.irreversible ? ', irreversible' : ''}${m.reasons.length ? ` (${m.reasons.join('; ')})` : ''}`,
          ),
        ]
      : []),
    '',
    '## Verification Plan',
    ...(plan.verification.length > 0
      ? plan.verification.map((c) => `- **${c.name}**: ${c.check}`)
      : ['- none configured']),
    `- Bounded by ${formatDuration(plan.verificationTimeoutSeconds)}`,
    '',
    '## Monitoring Plan',
    `Monitor for ${formatDuration(plan.monitoring.periodSeconds)} after the deploy, with a status report every ${formatDuration(plan.monitoring.reportIntervalSeconds)}.`,
    ...plan.monitoring.triggers.map((t) => `- ${t}`),
    plan.monitoring.autoRollback
      ? 'Any of these rolls back automatically.'
      : 'Automatic rollback is **disabled**: a trigger only reports.',
    '',
    '## Rollback Plan',
    'In reverse order:',
    ...plan.rollback.map((r, i) => `${i + 1}. **${r.name}**: ${r.action}`),
    'Then the verification checks run again to prove the previous version serves.',
    '',
    '## Risk Assessment',
    `**${level[0]?.toUpperCase()}${level.slice(1)}**`,
    ...plan.risk.reasons.map((r) => `- ${r}`),
    '',
    '## Success Criteria',
    ...plan.successCriteria.map((c) => `- ${c}`),
    '',
  ].join('\n');
};

/** The plan, its Markdown, its risk and the hash the approval binds to. */
export const renderPlan = (
  input: PlanInput,
): { plan: DeploymentPlan; markdown: string; risk: Risk; hash: string } => {
  const plan = buildPlan(input);
  return { plan, markdown: renderPlanMarkdown(plan), risk: plan.risk.level, hash: planHash(plan) };
};
