import type { Service, SignOff } from '../shared/config/schema.js';
import { contextFor } from '../shared/deployment.js';
import { errorMessage, NotFoundError, TransientDependencyError } from '../shared/errors.js';
import { activeFreeze, type FreezeWindow } from '../shared/freeze.js';
import { classifyMigration } from '../shared/migrations/classify.js';
import type { GateResult, MigrationFinding, ReleaseInfo } from '../shared/ports/deployment-store.js';
import type { Ports } from '../shared/ports/index.js';
import type { PullRequestInfo } from '../shared/ports/source-control.js';
import type { TrackerTask } from '../shared/ports/tracker.js';

const APPROVED = ['approved', 'yes', 'passed', 'done', '✓'];

/** Where the release's pull request is found on the task (custom fields); else by `CU-<task id>`. */
export const PR_FIELD = 'PR';
export const REPOSITORY_FIELD = 'Repository';
/** The task's field naming the release (what the steps deploy as `{{release}}`), for the record. */
export const RELEASE_FIELD = 'Release';

type GatePorts = Pick<Ports, 'sourceControl' | 'alarms' | 'steps' | 'checks' | 'clock'>;
type Ctx = {
  service: Service;
  task: TrackerTask;
  ports: GatePorts;
  /** gates whose dependency failed transiently: the workflow retries the whole step */
  transient: GateResult[];
};

const pass = (name: string, evidence: string, extra: Partial<GateResult> = {}): GateResult => ({
  name,
  passed: true,
  evidence,
  ...extra,
});
const fail = (name: string, evidence: string, reason: string): GateResult => ({
  name,
  passed: false,
  evidence,
  reason,
});

/**
 * Runs gates that read a dependency. When it cannot answer, each named gate is reported as not evaluated
 * (never as passed) with the error; the caller decides whether a retry may help.
 */
const evaluate = async (
  ctx: Ctx,
  names: string[],
  run: () => Promise<GateResult[]>,
): Promise<GateResult[]> => {
  try {
    return await run();
  } catch (error) {
    const message = errorMessage(error);
    const gates: GateResult[] = names.map((name) => ({
      name,
      passed: false,
      evidence: 'could not be evaluated',
      error: `${error instanceof Error ? error.name : 'Error'}: ${message}`,
      reason: 'comment /deploy to try again once the dependency answers',
    }));
    if (error instanceof TransientDependencyError) ctx.transient.push(...gates);
    return gates;
  }
};

const runnableGate = ({ service, ports }: Ctx): GateResult => {
  const missing = [
    ...service.steps.filter((s) => !ports.steps[s.kind]).map((s) => `step "${s.name}" (${s.kind})`),
    ...service.verification.filter((c) => !ports.checks[c.kind]).map((c) => `check "${c.name}" (${c.kind})`),
  ];
  const name = 'Runtime can run every step';
  return missing.length === 0
    ? pass(name, `${service.steps.length} steps, ${service.verification.length} checks`)
    : fail(
        name,
        missing.join(', '),
        `this runtime has no runner for ${missing.join(', ')}; use a supported kind or run where it is available`,
      );
};

const overrideReason = (task: TrackerTask, field: string): string | undefined => {
  const text = task.customFields[field]?.trim();
  return text ? text : undefined;
};

const freezeGate = ({ service, task, ports }: Ctx): GateResult[] => {
  const windows: FreezeWindow[] = service.gates.freeze_windows.map((w) => ({
    name: w.name,
    cron: w.cron,
    durationSeconds: w.duration,
    timezone: w.timezone,
  }));
  if (windows.length === 0) return [];
  const name = 'Outside freeze windows';
  const active = activeFreeze(windows, ports.clock.now());
  if (!active) return [pass(name, `${windows.length} window${windows.length === 1 ? '' : 's'}, none active`)];
  const evidence = `"${active.window.name}" until ${active.endsAt.toISOString()}`;
  const field = service.gates.freeze_override_field;
  const reason = overrideReason(task, field);
  return reason
    ? [pass(name, `${evidence}; overridden`, { override: reason })]
    : [
        fail(
          name,
          evidence,
          `deploy after ${active.endsAt.toISOString()}, or write the reason for deploying now in the task's "${field}" field`,
        ),
      ];
};

const signOffName = (signOff: SignOff): string =>
  typeof signOff === 'string'
    ? `${signOff} approved`
    : 'field' in signOff
      ? `${signOff.field} approved`
      : 'tag' in signOff
        ? `Tag ${signOff.tag}`
        : `Checklist ${signOff.checklist}${signOff.item ? `: ${signOff.item}` : ''}`;

const signOffGate = (signOff: SignOff, task: TrackerTask): GateResult => {
  const name = signOffName(signOff);
  if (typeof signOff === 'string' || 'field' in signOff) {
    const field = typeof signOff === 'string' ? signOff : signOff.field;
    const accepted = (typeof signOff === 'string' ? undefined : signOff.values) ?? APPROVED;
    const value = task.customFields[field];
    return value !== undefined && accepted.some((a) => a.toLowerCase() === value.trim().toLowerCase())
      ? pass(name, `${field}: ${value}`)
      : fail(
          name,
          `${field}: ${value ?? '(not set)'}`,
          `set the task's "${field}" field to ${accepted[0] === 'approved' ? 'Approved' : accepted.join(' or ')} once the review is done`,
        );
  }
  if ('tag' in signOff) {
    const tags = task.tags ?? [];
    return tags.some((t) => t.toLowerCase() === signOff.tag.toLowerCase())
      ? pass(name, `tagged ${signOff.tag}`)
      : fail(
          name,
          `tags: ${tags.join(', ') || '(none)'}`,
          `add the tag "${signOff.tag}" once the review is done`,
        );
  }
  const checklist = (task.checklists ?? []).find(
    (c) => c.name.toLowerCase() === signOff.checklist.toLowerCase(),
  );
  if (!checklist)
    return fail(
      name,
      'no such checklist',
      `add the checklist "${signOff.checklist}" to the task and tick it`,
    );
  const items = signOff.item
    ? checklist.items.filter((i) => i.name.toLowerCase() === signOff.item?.toLowerCase())
    : checklist.items;
  const open = items.filter((i) => !i.resolved).map((i) => i.name);
  if (items.length === 0)
    return fail(name, `no item "${signOff.item}"`, `add "${signOff.item}" to the checklist and tick it`);
  return open.length === 0
    ? pass(name, `${items.length} of ${items.length} ticked`)
    : fail(name, `open: ${open.join(', ')}`, `tick ${open.map((o) => `"${o}"`).join(', ')} once done`);
};

/** The release's pull request: the task's PR field, else the `CU-<task id>` convention. */
const findPullRequest = async (
  { service, task, ports }: Ctx,
  repository: string,
): Promise<PullRequestInfo | { missing: string }> => {
  const field = task.customFields[PR_FIELD]?.trim().replace(/^#/, '');
  if (field) {
    const number = Number(field);
    if (!Number.isInteger(number) || number <= 0)
      return { missing: `the task's "${PR_FIELD}" field reads "${field}", not a pull request number` };
    try {
      return await ports.sourceControl.getPullRequest(repository, number);
    } catch (error) {
      if (error instanceof NotFoundError)
        return {
          missing: `pull request ${repository}#${number} does not exist; fix the task's "${PR_FIELD}" field`,
        };
      throw error;
    }
  }
  const found = await ports.sourceControl.findPullRequestForTask(repository, task.id);
  return (
    found ?? {
      missing: `no pull request names CU-${task.id} in ${repository}; set the task's "${PR_FIELD}" field or put CU-${task.id} in the branch or title (service ${service.name})`,
    }
  );
};

/** `…down.sql` files (golang-migrate, dbmate-style pairs) undo a migration: they are not part of the schema. */
const DOWN_FILE = /[._-]down\.sql$/i;
/** Earlier migrations read to learn the schema; past this many, type changes are judged without it. */
export const MAX_SCHEMA_MIGRATIONS = 500;

const isMigration = (path: string, folder: string) => {
  const prefix = folder.replace(/^\/+|\/+$/g, '');
  return path.startsWith(`${prefix}/`) && /\.sql$/i.test(path) && !DOWN_FILE.test(path);
};

const statementsOf = (text: string) => (/;\s*$/.test(text) ? text : `${text.trimEnd()}\n;`);

/**
 * The schema before the release: the migrations already in the folder at the release commit (the ones the
 * pull request adds left out), in name order, which is the order migration tools apply them in. Without it
 * a type change cannot be told to widen or narrow and is judged destructive (fail-safe); `note` says why.
 */
const earlierSchema = async (
  { ports }: Ctx,
  config: NonNullable<Service['gates']['migrations']>,
  repository: string,
  ref: string,
  added: Set<string>,
): Promise<{ schema: string; note?: string }> => {
  const listing = await ports.sourceControl.listFolder(repository, config.path, ref);
  const earlier = listing.paths.filter((p) => isMigration(p, config.path) && !added.has(p));
  if (!listing.complete || earlier.length > MAX_SCHEMA_MIGRATIONS)
    return {
      schema: '',
      note: `${config.path} holds more than ${listing.complete ? MAX_SCHEMA_MIGRATIONS : 'the 1,000 files GitHub lists'} migrations: type changes are judged without the earlier schema`,
    };
  const texts: string[] = [];
  // a few at a time: hundreds of files must not trip the API's secondary rate limits
  for (let i = 0; i < earlier.length; i += 8) {
    const batch = earlier.slice(i, i + 8);
    texts.push(...(await Promise.all(batch.map((p) => ports.sourceControl.getFileText(repository, p, ref)))));
  }
  return { schema: texts.map(statementsOf).join('\n') };
};

/** Classifies the migrations the release adds; a destructive one fails unless the config allows it. */
const migrationGate = async (
  ctx: Ctx,
  config: NonNullable<Service['gates']['migrations']>,
  repository: string,
  pr: PullRequestInfo,
): Promise<{ gate: GateResult; findings: MigrationFinding[] }> => {
  const { ports } = ctx;
  const name = 'Migrations safe';
  const files = (await ports.sourceControl.listPullRequestFiles(repository, pr.number))
    .filter((f) => (f.status === 'added' || f.status === 'renamed') && isMigration(f.path, config.path))
    .sort((a, b) => a.path.localeCompare(b.path));
  const ref = pr.mergeCommitSha ?? pr.headBranch;
  const findings: MigrationFinding[] = [];
  if (files.length > 0) {
    const before = await earlierSchema(ctx, config, repository, ref, new Set(files.map((f) => f.path)));
    let schema = before.schema;
    for (const file of files) {
      const text = await ports.sourceControl.getFileText(repository, file.path, ref);
      const analysis = classifyMigration(text, config.dialect, schema ? { schema } : {});
      // a later migration of the same release sees this one applied
      schema = `${schema}\n${statementsOf(text)}`;
      findings.push({
        path: file.path,
        kind: analysis.kind,
        irreversible: analysis.irreversible,
        reasons:
          before.note && analysis.kind === 'destructive'
            ? [...analysis.reasons, before.note]
            : analysis.reasons,
      });
    }
  }
  if (findings.length === 0) return { gate: pass(name, `no migrations under ${config.path}`), findings };
  const describe = (f: MigrationFinding) =>
    `${f.path.split('/').at(-1)} ${f.kind}${f.irreversible ? ', irreversible' : ''}${f.kind === 'destructive' ? ` (${f.reasons.join('; ')})` : ''}`;
  const evidence = findings.map(describe).join('; ');
  const destructive = findings.filter((f) => f.kind === 'destructive');
  if (destructive.length === 0) return { gate: pass(name, evidence), findings };
  return config.allow_destructive
    ? { gate: pass(name, `${evidence}; allowed by gates.migrations.allow_destructive`), findings }
    : {
        gate: fail(
          name,
          evidence,
          'ship the additive part first and the destructive change in a later release, or set gates.migrations.allow_destructive: true (the plan then says "no automatic database rollback")',
        ),
        findings,
      };
};

/** The release the task names and its pull request, for the record (lead time starts at the merge). */
const releaseOf = (task: TrackerTask, repository: string | undefined, pr?: PullRequestInfo): ReleaseInfo => {
  const version = task.customFields[RELEASE_FIELD]?.trim();
  return {
    ...(version ? { version } : {}),
    ...(repository ? { repository } : {}),
    ...(pr
      ? {
          prNumber: pr.number,
          prUrl: pr.url,
          prTitle: pr.title,
          ...(pr.mergedAt ? { mergedAt: pr.mergedAt } : {}),
          ...(pr.mergeCommitSha ? { commit: pr.mergeCommitSha } : {}),
        }
      : {}),
  };
};

const sourceGates = async (
  ctx: Ctx,
): Promise<{ gates: GateResult[]; findings?: MigrationFinding[]; pr?: PullRequestInfo }> => {
  const { service, task, ports } = ctx;
  const { ci, pr_merged, protected_branch, migrations } = service.gates;
  const names = [
    ...(pr_merged ? ['PR merged'] : []),
    ...(ci ? ['CI green'] : []),
    ...(migrations ? ['Migrations safe'] : []),
  ];
  if (names.length === 0) return { gates: [] };
  const repository = task.customFields[REPOSITORY_FIELD]?.trim() || service.repository;
  if (!repository) {
    const reason = `set the service's repository in the config, or the task's "${REPOSITORY_FIELD}" field (owner/name)`;
    return { gates: names.map((n) => fail(n, 'no repository known', reason)) };
  }
  let findings: MigrationFinding[] | undefined;
  let found: PullRequestInfo | undefined;
  const gates = await evaluate(ctx, names, async () => {
    const pr = await findPullRequest(ctx, repository);
    if ('missing' in pr) return names.map((n) => fail(n, 'no pull request found', pr.missing));
    found = pr;
    const results: GateResult[] = [];
    if (pr_merged) {
      const protectedBase = protected_branch
        ? await ports.sourceControl.isBranchProtected(repository, pr.baseBranch)
        : true;
      results.push(
        !pr.merged
          ? fail('PR merged', pr.url, `merge ${repository}#${pr.number} into ${pr.baseBranch} first`)
          : !protectedBase
            ? fail(
                'PR merged',
                `${pr.url} merged into ${pr.baseBranch}, which has no branch protection`,
                `protect ${pr.baseBranch} in GitHub (branch protection rules), or set gates.protected_branch: false`,
              )
            : pass(
                'PR merged',
                `${pr.url} merged into ${pr.baseBranch}${protected_branch ? ' (protected)' : ''}`,
              ),
      );
    }
    if (ci) {
      if (!pr.mergeCommitSha) {
        results.push(fail('CI green', pr.url, 'the pull request has no merge commit yet'));
      } else {
        const status = await ports.sourceControl.getCommitStatus(repository, pr.mergeCommitSha);
        const failing = status.checks
          .filter((c) => c.state !== 'success')
          .map((c) => `${c.name}: ${c.state}`);
        const sha = pr.mergeCommitSha.slice(0, 7);
        results.push(
          status.state === 'success'
            ? pass('CI green', `${status.checks.length} checks passed on ${sha}`)
            : fail(
                'CI green',
                `${status.state} on ${sha}${failing.length ? ` (${failing.join(', ')})` : ' (no checks reported)'}`,
                'wait for CI to pass on the release commit, or fix the failing checks',
              ),
        );
      }
    }
    if (migrations) {
      const result = await migrationGate(ctx, migrations, repository, pr);
      findings = result.findings;
      results.push(result.gate);
    }
    return results;
  });
  return { gates, ...(findings ? { findings } : {}), ...(found ? { pr: found } : {}) };
};

const alarmsGate = async (
  ctx: Ctx,
  settings: { triggers: Parameters<GatePorts['alarms']['check']>[0]['triggers'] },
) => {
  const { service, task, ports } = ctx;
  const name = 'No alarms firing';
  return evaluate(ctx, [name], async () => {
    const check = await ports.alarms.check({
      service: service.name,
      environment: service.environment,
      triggers: settings.triggers,
      alarms: service.monitoring.alarms,
      // before the deploy every alarm counts, however long it has been firing, and one that cannot be read
      // blocks (fail safe): the bake's alarms_firing_at_start and unreadable_alarms do not apply to the gate
      since: new Date(0).toISOString(),
      firingAtStart: 'breach',
      unreadable: 'breaching',
    });
    if (!check.breached) return [pass(name, 'all triggers within targets')];
    const field = service.gates.alarms_override_field;
    const reason = overrideReason(task, field);
    const evidence = check.reasons.join('; ');
    return reason
      ? [pass(name, `firing: ${evidence}; overridden for a hot fix`, { override: reason })]
      : [
          fail(
            name,
            evidence,
            `fix what is firing before deploying on top of it; for a hot fix, write the reason in the task's "${field}" field`,
          ),
        ];
  });
};

/**
 * Checks the quality gates and records their evidence. A failed gate is an answer (`passed: false`). A gate
 * whose dependency cannot answer is recorded as not evaluated; when that failure is transient the step
 * throws afterwards, so the workflow retries it, and reports the gates if it persists. Overrides are audited.
 */
export const checkGates = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'clock'> & GatePorts,
): Promise<{ passed: boolean; failed: string[] }> => {
  const { state, service, settings } = contextFor(input, ports);
  await ports.store.updateDeployment(state.deploymentId, { stage: 'CheckGates', status: 'checking' });
  const task = await ports.tracker.getTask(state.taskId);
  const ctx: Ctx = { service, task, ports, transient: [] };
  const source = await sourceGates(ctx);
  const gates: GateResult[] = [
    runnableGate(ctx),
    ...freezeGate(ctx),
    ...source.gates,
    ...service.gates.sign_off.map((signOff) => signOffGate(signOff, task)),
    ...(service.gates.alarms_clear ? await alarmsGate(ctx, settings) : []),
  ];
  const release = releaseOf(
    task,
    task.customFields[REPOSITORY_FIELD]?.trim() || service.repository,
    source.pr,
  );
  await ports.store.updateDeployment(state.deploymentId, {
    gates,
    ...(source.findings ? { migrations: source.findings } : {}),
    ...(Object.keys(release).length > 0 ? { release } : {}),
  });
  const now = ports.clock.now().toISOString();
  for (const gate of gates.filter((g) => g.override)) {
    await ports.store.appendAudit({
      at: now,
      deploymentId: state.deploymentId,
      action: 'gate-overridden',
      actor: `task ${task.id}`,
      channel: 'tracker',
      detail: `${gate.name}: ${gate.override}`,
    });
  }
  if (ctx.transient.length > 0) {
    throw new TransientDependencyError(
      `could not evaluate ${ctx.transient.map((g) => `"${g.name}" (${g.error})`).join(', ')}`,
    );
  }
  const failed = gates.filter((g) => !g.passed).map((g) => g.name);
  return { passed: failed.length === 0, failed };
};
