import { formatDuration } from './deployment.js';
import type {
  ApprovalRecord,
  CheckResult,
  DeploymentRecord,
  GateResult,
  StepRecord,
} from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';

const ms = (at?: string) => (at ? new Date(at).getTime() : Number.NaN);

const secondsBetween = (from?: string, to?: string): number | undefined => {
  const value = (ms(to) - ms(from)) / 1000;
  return Number.isFinite(value) ? value : undefined;
};

/** A duration between two times; under 10 s to a tenth of a second (steps of a local run take less than one). */
const seconds = (from?: string, to?: string) => {
  const value = secondsBetween(from, to);
  if (value === undefined) return '–';
  const positive = Math.max(0, value);
  return positive < 10 ? `${positive.toFixed(1)}s` : formatDuration(positive);
};

/** Text for a Markdown table cell: no pipes or line breaks. */
const cell = (text: string | undefined) => (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

const gateMark = (g: GateResult) => (g.error ? 'not evaluated' : g.passed ? '✓' : '✗');

const checkLine = (c: CheckResult, prefix = '') =>
  `- ${prefix}${c.passed ? '✓' : '✗'} ${c.name} (${c.kind}, ${c.durationMs} ms${c.attempts ? `, ${c.attempts} attempts` : ''}): ${c.detail}`;

/** What a check's detail says about its tries, for records written before `attempts` existed. */
const attemptsOf = (c: CheckResult): number =>
  c.attempts ?? Number(/\(attempt (\d+)\)$/.exec(c.detail)?.[1] ?? 1);

/** A step that took more than this share of its timeout gets a follow-up. */
export const SLOW_STEP_SHARE = 0.5;

/** What the approval request adds to the record's decision: quorum, approvers, when it was asked. */
export type ApprovalContext = Pick<
  ApprovalRecord,
  'quorum' | 'approvers' | 'breakGlass' | 'createdAt' | 'expiresAt' | 'status'
>;

/** What the record adds from outside the deployment record itself. */
export interface RecordContext {
  approval?: ApprovalContext;
  /** where a person reads the plan document */
  planLink?: string;
}

/**
 * The follow-ups the record calls for, derived from what happened (never invented): the cause of a rollback,
 * a rollback that failed or kept the database, an overridden gate or a break-glass approval to review, a
 * check that needed retries, a step that used much of its timeout, an alarm that could not be read.
 * Empty when nothing calls for one.
 */
export const followUps = (r: DeploymentRecord): string[] => {
  const items: string[] = [];
  const release = r.release?.version ? ` ${r.release.version}` : '';
  const failedStep = r.steps.find((s) => s.status === 'failed');
  const failedChecks = (r.verification ?? []).filter((c) => !c.passed);
  if (r.rollback) {
    if (r.monitoring?.breach)
      items.push(`Find the cause of "${r.monitoring.breach}" before redeploying${release}.`);
    else if (failedStep)
      items.push(
        `Find why "${failedStep.name}" failed (${failedStep.error ?? 'no error recorded'}) before redeploying${release}.`,
      );
    else if (failedChecks.length > 0)
      items.push(
        `Find why ${failedChecks.map((c) => `"${c.name}"`).join(', ')} failed after the deploy before redeploying${release}.`,
      );
    else items.push(`Find the cause of the rollback (${r.rollback.reason}) before redeploying${release}.`);
    const failedUndo = r.rollback.steps.filter((s) => s.status === 'rollback-failed');
    if (r.rollback.error || failedUndo.length > 0)
      items.push(
        `The rollback did not complete${failedUndo.length ? ` (${failedUndo.map((s) => s.name).join(', ')})` : ''}${r.rollback.error ? `: ${r.rollback.error}` : ''}. Check by hand what serves in ${r.environment} now.`,
      );
    for (const kept of r.rollback.steps.filter((s) => s.status === 'kept'))
      items.push(
        `"${kept.name}" was kept in place: the database was not rolled back automatically; check it works with the previous release.`,
      );
    const unverified = (r.rollback.verification ?? []).filter((c) => !c.passed);
    if (unverified.length > 0)
      items.push(
        `The previous release failed ${unverified.map((c) => `"${c.name}"`).join(', ')} after the rollback: check it serves.`,
      );
  } else if (r.outcome === 'failed') {
    items.push(
      `The deployment failed${failedStep ? ` at "${failedStep.name}"` : ''} and was not rolled back automatically: decide whether to roll back${r.error ? ` (${r.error.name}: ${r.error.message})` : ''}.`,
    );
  }
  if (r.outcome === 'blocked' && r.steps.length === 0) {
    const failed = (r.gates ?? []).filter((g) => !g.passed);
    for (const g of failed)
      items.push(`Gate "${g.name}" did not pass: ${g.reason ?? g.error ?? g.evidence}.`);
  }
  for (const m of r.migrations ?? []) {
    if (m.kind !== 'destructive' && !m.irreversible) continue;
    if (r.steps.length === 0) continue;
    items.push(
      `Migration ${m.path} is ${m.irreversible ? 'irreversible' : 'destructive'} and was allowed: the database is not rolled back automatically; confirm no data was lost.`,
    );
  }
  for (const g of (r.gates ?? []).filter((g) => g.override))
    items.push(`Review the override of "${g.name}" (${g.override}).`);
  if (r.approval?.breakGlass)
    items.push(
      `Review the break-glass approval by ${r.approval.by}${r.approval.comment ? ` (“${r.approval.comment}”)` : ''}.`,
    );
  for (const c of [...(r.verification ?? []), ...(r.rollback?.verification ?? [])]) {
    const attempts = attemptsOf(c);
    if (c.passed && attempts > 1)
      items.push(
        `Check "${c.name}" passed only at attempt ${attempts}: find why it was not ready at once (start-up, readiness).`,
      );
  }
  const timeouts = new Map((r.plan?.steps ?? []).map((s) => [s.name, s.timeoutSeconds]));
  for (const s of r.steps) {
    const timeout = timeouts.get(s.name);
    const took = secondsBetween(s.startedAt, s.finishedAt);
    if (timeout === undefined || took === undefined || took <= timeout * SLOW_STEP_SHARE) continue;
    items.push(
      `"${s.name}" took ${formatDuration(took)}, ${Math.round((took / timeout) * 100)}% of its ${formatDuration(timeout)} timeout: make it faster or raise the timeout.`,
    );
  }
  const unreadable = new Set<string>();
  for (const report of r.monitoring?.reports ?? [])
    for (const a of report.metrics.alarms)
      if (a.state === 'MISSING' || a.state === 'UNREADABLE') unreadable.add(`${a.name} (${a.state})`);
  if (unreadable.size > 0)
    items.push(
      `Alarm${unreadable.size > 1 ? 's' : ''} ${[...unreadable].join(', ')} could not be read during the bake: fix ${unreadable.size > 1 ? 'them' : 'it'} so the next bake is watched.`,
    );
  return items;
};

const whatWasDeployed = (r: DeploymentRecord): string[] => {
  const rel = r.release;
  const lines: string[] = [];
  if (rel?.version) lines.push(`- Release: **${rel.version}**`);
  if (rel?.prNumber !== undefined)
    lines.push(
      `- Pull request: [${rel.repository ? `${rel.repository}` : ''}#${rel.prNumber}](${rel.prUrl ?? ''})${rel.prTitle ? `: ${rel.prTitle}` : ''}`,
    );
  else if (rel?.repository) lines.push(`- Repository: ${rel.repository} (no pull request found)`);
  if (rel?.commit) lines.push(`- Merge commit: \`${rel.commit}\``);
  if (rel?.mergedAt)
    lines.push(
      `- Merged: ${rel.mergedAt}${r.outcome === 'deployed' && r.finishedAt ? ` (lead time to Deployed: ${seconds(rel.mergedAt, r.finishedAt)})` : ''}`,
    );
  if (lines.length === 0) lines.push('- Release: not recorded (no pull request was read)');
  const planned = r.plan?.steps ?? [];
  if (planned.length > 0) {
    lines.push(
      '',
      '| Step | Kind | Before | After | Result |',
      '|---|---|---|---|---|',
      ...planned.map((p) => {
        const ran = r.steps.find((s) => s.name === p.name);
        const before = p.current ?? ran?.undo?.previous;
        return `| ${cell(p.name)} | ${p.kind} | ${cell(before ?? '–')} | ${cell(p.action)} | ${cell(ran ? (ran.summary ?? ran.status) : 'not run')} |`;
      }),
    );
  } else if (r.steps.length > 0) {
    lines.push('', ...r.steps.map((s) => `- ${s.name} (${s.kind}): ${s.summary ?? s.status}`));
  }
  return lines;
};

const planSection = (r: DeploymentRecord, link?: string): string[] =>
  r.plan
    ? [
        `- Document: ${link && link !== r.plan.key ? `[${r.plan.key}](${link})` : r.plan.key} (hash \`${r.plan.hash.slice(0, 16)}\`)`,
        `- Risk: **${r.plan.risk}**`,
        ...(r.plan.reasons ?? []).map((reason) => `  - ${reason}`),
      ]
    : ['Not written (the deployment ended before the plan).'];

const gatesSection = (r: DeploymentRecord): string[] =>
  r.gates && r.gates.length > 0
    ? r.gates.map(
        (g) =>
          `- ${gateMark(g)} ${g.name}: ${g.evidence}${g.override ? ` (**overridden**: ${g.override})` : ''}${g.error ? ` (${g.error})` : ''}${!g.passed && g.reason ? ` → ${g.reason}` : ''}`,
      )
    : ['Not evaluated.'];

const approvalSection = (r: DeploymentRecord, request?: ApprovalContext): string[] => {
  const a = r.approval;
  if (!a && !request) return ['Not requested.'];
  const lines: string[] = [];
  if (request) {
    lines.push(
      `- Requested ${request.createdAt}, expiring ${request.expiresAt}; quorum ${request.quorum} of ${request.approvers.length} approver${request.approvers.length === 1 ? '' : 's'}${request.breakGlass.length ? `, break-glass: ${request.breakGlass.join(', ')}` : ''}`,
    );
  }
  if (a) {
    lines.push(
      `- Decision: **${a.decision}** by ${a.by} via ${a.channel} at ${a.at}${request ? ` (after ${seconds(request.createdAt, a.at)})` : ''}${a.comment ? ` (“${a.comment}”)` : ''}`,
    );
    if (a.breakGlass) lines.push('- **Break-glass**: the normal approvers and quorum were bypassed');
    if (a.planHash) lines.push(`- For plan \`${a.planHash.slice(0, 16)}\``);
    for (const v of a.votes ?? [])
      lines.push(
        `  - ${v.decision} by ${v.by} via ${v.channel} at ${v.at}${v.breakGlass ? ' (break-glass)' : ''}${v.comment ? ` (“${v.comment}”)` : ''}`,
      );
  } else if (request) {
    lines.push(`- No decision (${request.status}).`);
  }
  return lines;
};

const stepsTable = (steps: StepRecord[], timeouts: Map<string, number | undefined>): string[] =>
  steps.length > 0
    ? [
        '| # | Step | Kind | Status | Started | Duration | Timeout | Summary |',
        '|---|---|---|---|---|---|---|---|',
        ...steps.map((s) => {
          const timeout = timeouts.get(s.name);
          return `| ${s.index + 1} | ${cell(s.name)} | ${s.kind} | ${s.status} | ${s.startedAt} | ${seconds(s.startedAt, s.finishedAt)} | ${timeout === undefined ? '–' : formatDuration(timeout)} | ${cell(s.error ?? s.summary)} |`;
        }),
      ]
    : ['No step ran.'];

const verificationSection = (r: DeploymentRecord): string[] => [
  ...(r.verification && r.verification.length > 0
    ? r.verification.map((c) => checkLine(c))
    : ['Not reached.']),
  ...Object.entries(r.baselines ?? {}).map(
    ([name, value]) => `- Baseline of ${name} before the deploy: ${value}`,
  ),
];

const number = (value: number | undefined, digits: number) =>
  value === undefined ? 'n/a' : value.toFixed(digits);

const metricsSection = (r: DeploymentRecord): string[] => {
  const m = r.monitoring;
  if (!m) return ['Not reached.'];
  return [
    `Bake from ${m.startedAt} to ${m.endsAt} (${seconds(m.startedAt, m.endsAt)} planned).`,
    '',
    ...(m.reports.length > 0
      ? [
          '| Elapsed | At | Error rate % | p99 ms | Requests | Health failures | Alarms | Within targets |',
          '|---|---|---|---|---|---|---|---|',
          ...m.reports.map(
            (rep) =>
              `| +${formatDuration(rep.elapsedSeconds)} | ${rep.at} | ${number(rep.metrics.errorRate, 2)} | ${number(rep.metrics.p99Ms, 0)} | ${rep.metrics.requests ?? 'n/a'} | ${rep.metrics.healthFailures ?? 0} | ${cell(rep.metrics.alarms.map((a) => `${a.name}: ${a.state}`).join(', ') || '–')} | ${rep.withinTargets ? '✓' : '✗'} |`,
          ),
        ]
      : ['No status report was written.']),
    ...(m.breach
      ? [
          '',
          `Breach: ${m.breach}${m.firstBreachAt ? ` (first breaching datapoint ${m.firstBreachAt})` : ''}.`,
        ]
      : []),
  ];
};

const outcomeSection = (r: DeploymentRecord): string[] => [
  `**${r.outcome ?? r.status}** at ${r.finishedAt ?? '–'}, ${seconds(r.createdAt, r.finishedAt)} after the start (last stage ${r.stage}).`,
  ...(r.error ? ['', `Error: ${r.error.name}: ${r.error.message}`] : []),
];

const rollbackSection = (r: DeploymentRecord): string[] => {
  if (!r.rollback) return [];
  const rb = r.rollback;
  return [
    '',
    '## Rollback',
    `Reason: ${rb.reason}`,
    ...(rb.startedAt
      ? [
          '',
          `Started ${rb.startedAt}${rb.reactionMs !== undefined ? `, ${formatDuration(Math.max(0, Math.round(rb.reactionMs / 1000)))} after the first breaching datapoint (${r.monitoring?.firstBreachAt})` : ''}.`,
        ]
      : []),
    '',
    ...rb.steps.map(
      (s) =>
        `- ${s.name}: ${s.status}${s.summary ? ` (${s.summary})` : ''}${s.error ? `: ${s.error}` : ''}${s.finishedAt ? `, ${seconds(s.startedAt, s.finishedAt)}` : ''}`,
    ),
    ...(rb.verification ?? []).map((c) => checkLine(c, 'verify ')),
    ...(rb.error ? [`- Rollback error: ${rb.error}`] : []),
  ];
};

/**
 * The deployment record people read afterwards: what was deployed, the plan, the gates' evidence, the
 * approval, step timings, verification, the metrics over the bake, the outcome, the rollback and the
 * follow-ups it calls for. Pure and deterministic: the same record gives the same text.
 * `context.approval` is the approval request (quorum, approvers), when there was one; `context.planLink`
 * where a person reads the plan.
 */
export const renderRecord = (r: DeploymentRecord, context: RecordContext = {}): string => {
  const request = context.approval;
  const timeouts = new Map((r.plan?.steps ?? []).map((s) => [s.name, s.timeoutSeconds]));
  const follow = followUps(r);
  return [
    `# Deployment record: ${r.taskName}`,
    '',
    `- Deployment: \`${r.deploymentId}\` (task ${r.taskId}, trigger ${r.trigger}${r.requestedBy ? ` by ${r.requestedBy}` : ''})`,
    `- Service: ${r.service} → ${r.environment}`,
    `- Outcome: **${r.outcome ?? r.status}**`,
    ...(r.rollbackOf ? [`- Rollback run: undoes \`${r.rollbackOf}\`, on request`] : []),
    ...(r.rolledBackBy
      ? [
          `- Rolled back later: by \`${r.rolledBackBy.deploymentId}\`, asked by ${r.rolledBackBy.by} at ${r.rolledBackBy.at}`,
        ]
      : []),
    `- Started ${r.createdAt}, finished ${r.finishedAt ?? '–'} (${seconds(r.createdAt, r.finishedAt)})`,
    '',
    '## What was deployed',
    ...whatWasDeployed(r),
    '',
    '## Plan',
    ...planSection(r, context.planLink),
    '',
    '## Gates',
    ...gatesSection(r),
    '',
    '## Approval',
    ...approvalSection(r, request),
    '',
    '## Step timings',
    ...stepsTable(r.steps, timeouts),
    '',
    '## Verification',
    ...verificationSection(r),
    '',
    '## Metrics over the bake',
    ...metricsSection(r),
    '',
    '## Outcome',
    ...outcomeSection(r),
    ...rollbackSection(r),
    '',
    '## Follow-ups',
    ...(follow.length > 0
      ? follow.map((f) => `- [ ] ${f}`)
      : ['None: nothing in this deployment calls for one.']),
    '',
  ].join('\n');
};

/** The record's key in the artifact store (S3 `records/` prefix on AWS, `<data dir>/artifacts/records/` locally). */
export const recordKeyOf = (deploymentId: string): string => `records/${deploymentId}.md`;

/** Stores the record document and remembers its key on the deployment; returns the key ('' without a record). */
export const writeRecord = async (
  deploymentId: string,
  ports: Pick<Ports, 'store' | 'artifacts'>,
): Promise<string> => {
  const record = await ports.store.getDeployment(deploymentId);
  if (!record) return '';
  const key = recordKeyOf(deploymentId);
  const approval = await ports.store.findApprovalByDeployment(deploymentId);
  const request: ApprovalContext | undefined = approval
    ? {
        quorum: approval.quorum,
        approvers: approval.approvers,
        breakGlass: approval.breakGlass,
        createdAt: approval.createdAt,
        expiresAt: approval.expiresAt,
        status: approval.status,
      }
    : undefined;
  await ports.artifacts.put(
    key,
    renderRecord(
      { ...record, recordKey: key },
      {
        ...(request ? { approval: request } : {}),
        ...(record.plan ? { planLink: ports.artifacts.link(record.plan.key) } : {}),
      },
    ),
    'text/markdown; charset=utf-8',
  );
  await ports.store.updateDeployment(deploymentId, { recordKey: key });
  return key;
};
