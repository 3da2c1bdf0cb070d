import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DeploymentRecord, StepRecord } from '../../../functions/shared/ports/deployment-store.js';
import {
  type ApprovalContext,
  followUps,
  renderRecord,
  writeRecord,
} from '../../../functions/shared/record.js';
import { MemoryArtifacts, MemoryDeploymentStore } from '../../fixtures/fakes.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

const step = (index: number, name: string, overrides: Partial<StepRecord> = {}): StepRecord => ({
  index,
  name,
  kind: 'command',
  status: 'succeeded',
  startedAt: '2026-11-28T10:05:00.000Z',
  finishedAt: '2026-11-28T10:05:04.000Z',
  ...overrides,
});

/** A deployment of v2 that went all the way to Deployed. */
const deployed = (overrides: Partial<DeploymentRecord> = {}): DeploymentRecord =>
  aDeployment({
    status: 'deployed',
    stage: 'Finalize',
    outcome: 'deployed',
    requestedBy: 'lead@example.com',
    finishedAt: '2026-11-28T11:10:00.000Z',
    release: {
      version: 'v2',
      repository: 'acme/notifications',
      prNumber: 42,
      prUrl: 'https://github.com/acme/notifications/pull/42',
      prTitle: 'User notifications',
      mergedAt: '2026-11-27T16:42:00Z',
      commit: '4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39',
    },
    plan: {
      hash: 'a'.repeat(64),
      key: 'plans/t1-1.md',
      risk: 'medium',
      markdown: '# Plan',
      reasons: ['migration db/001.sql changes the schema (additive)'],
      steps: [
        { name: 'Migrate', kind: 'command', action: 'run migrate v2', timeoutSeconds: 60 },
        {
          name: 'Deploy backend',
          kind: 'command',
          action: 'run release v2',
          current: 'v1',
          timeoutSeconds: 60,
        },
      ],
    },
    gates: [
      {
        name: 'PR merged',
        passed: true,
        evidence: 'https://github.com/acme/notifications/pull/42 merged into main',
      },
      { name: 'CI green', passed: true, evidence: '3 checks passed on 4f2a9c1' },
    ],
    approval: {
      decision: 'approved',
      by: 'lead@example.com',
      channel: 'link',
      at: '2026-11-28T10:04:00.000Z',
      planHash: 'a'.repeat(64),
      votes: [
        { by: 'lead@example.com', decision: 'approve', at: '2026-11-28T10:04:00.000Z', channel: 'link' },
      ],
    },
    steps: [
      step(0, 'Migrate', { summary: 'migrated to v2' }),
      step(1, 'Deploy backend', { summary: 'now v2', undo: { previous: 'v1' } }),
    ],
    verification: [{ name: 'Health', kind: 'http', passed: true, detail: '200 in 4 ms', durationMs: 4 }],
    monitoring: {
      startedAt: '2026-11-28T10:06:00.000Z',
      endsAt: '2026-11-28T11:06:00.000Z',
      reports: [
        {
          at: '2026-11-28T10:21:00.000Z',
          elapsedSeconds: 900,
          metrics: { errorRate: 0.02, p99Ms: 87, requests: 1200, healthFailures: 0, alarms: [] },
          withinTargets: true,
        },
      ],
    },
    ...overrides,
  });

/** The same release rolled back after the error rate breached during the bake. */
const rolledBack = (overrides: Partial<DeploymentRecord> = {}): DeploymentRecord =>
  deployed({
    status: 'rolled-back',
    stage: 'ReportFailure',
    outcome: 'rolled-back',
    monitoring: {
      startedAt: '2026-11-28T10:06:00.000Z',
      endsAt: '2026-11-28T11:06:00.000Z',
      reports: [],
      breach: 'Error rate 12.5% > 1% for 10s',
      firstBreachAt: '2026-11-28T10:08:00.000Z',
    },
    rollback: {
      reason: 'Error rate 12.5% > 1% for 10s',
      startedAt: '2026-11-28T10:08:12.000Z',
      reactionMs: 12_000,
      steps: [
        step(1, 'Deploy backend', { status: 'rolled-back', summary: 'back to v1' }),
        step(0, 'Migrate', { status: 'kept', summary: 'kept (keep_database)' }),
      ],
      verification: [{ name: 'Health', kind: 'http', passed: true, detail: '200 in 3 ms', durationMs: 3 }],
    },
    ...overrides,
  });

const REQUEST: ApprovalContext = {
  quorum: 1,
  approvers: ['lead@example.com', 'ops@example.com'],
  breakGlass: [],
  createdAt: '2026-11-28T10:02:00.000Z',
  expiresAt: '2026-11-28T11:02:00.000Z',
  status: 'approved',
};

const section = (markdown: string, heading: string): string => {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const rest = markdown.slice(start + heading.length + 5);
  const end = rest.indexOf('\n## ');
  return end < 0 ? rest : rest.slice(0, end);
};

describe('renderRecord', () => {
  it('has every section in order, with the rollback only when there was one', () => {
    // Act
    const good = renderRecord(deployed(), { approval: REQUEST });
    const bad = renderRecord(rolledBack(), { approval: REQUEST });

    // Assess
    const headings = (text: string) => text.split('\n').filter((l) => l.startsWith('#'));
    const common = [
      '# Deployment record: User Notifications',
      '## What was deployed',
      '## Plan',
      '## Gates',
      '## Approval',
      '## Step timings',
      '## Verification',
      '## Metrics over the bake',
      '## Outcome',
    ];
    expect(headings(good)).toEqual([...common, '## Follow-ups']);
    expect(headings(bad)).toEqual([...common, '## Rollback', '## Follow-ups']);
  });

  it('renders a deployed record the same way every time', () => {
    // Act
    const text = renderRecord(deployed(), { approval: REQUEST });

    // Assess
    expect(text).toBe(renderRecord(deployed(), { approval: REQUEST }));
    expect(text).toMatchSnapshot();
  });

  it('says what was deployed: release, pull request with link, merge commit, lead time and old → new per step', () => {
    // Act
    const text = section(renderRecord(deployed()), 'What was deployed');

    // Assess
    expect(text).toContain('- Release: **v2**');
    expect(text).toContain(
      '- Pull request: [acme/notifications#42](https://github.com/acme/notifications/pull/42): User notifications',
    );
    expect(text).toContain('- Merge commit: `4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39`');
    expect(text).toContain('- Merged: 2026-11-27T16:42:00Z (lead time to Deployed: 18.5 h)');
    expect(text).toContain('| Deploy backend | command | v1 | run release v2 | now v2 |');
    expect(text).toContain('| Migrate | command | – | run migrate v2 | migrated to v2 |');
  });

  it('says the release is not recorded when no pull request was read', () => {
    // Act
    const text = section(renderRecord(deployed({ release: undefined })), 'What was deployed');

    // Assess
    expect(text).toContain('- Release: not recorded (no pull request was read)');
  });

  it('shows the plan with its hash, risk and reasons, and each gate as passed, failed, not evaluated or overridden', () => {
    // Prepare
    const record = deployed({
      gates: [
        { name: 'CI green', passed: true, evidence: '3 checks passed' },
        { name: 'QA approved', passed: false, evidence: 'QA: (not set)', reason: 'set QA' },
        {
          name: 'No alarms firing',
          passed: false,
          evidence: 'could not be evaluated',
          error: 'Throttling: slow down',
        },
        {
          name: 'Outside freeze windows',
          passed: true,
          evidence: '"xmas"; overridden',
          override: 'hot fix for INC-7',
        },
      ],
    });

    // Act
    const text = renderRecord(record, { planLink: 'http://127.0.0.1:4000/artifacts/plans/t1-1.md' });

    // Assess
    expect(section(text, 'Plan')).toContain(
      `- Document: [plans/t1-1.md](http://127.0.0.1:4000/artifacts/plans/t1-1.md) (hash \`${'a'.repeat(16)}\`)`,
    );
    expect(section(text, 'Plan')).toContain(
      '- Risk: **medium**\n  - migration db/001.sql changes the schema (additive)',
    );
    expect(section(text, 'Gates').trim().split('\n')).toEqual([
      '- ✓ CI green: 3 checks passed',
      '- ✗ QA approved: QA: (not set) → set QA',
      '- not evaluated No alarms firing: could not be evaluated (Throttling: slow down)',
      '- ✓ Outside freeze windows: "xmas"; overridden (**overridden**: hot fix for INC-7)',
    ]);
  });

  it('lists the approval request, the decision, every vote and a break-glass approval', () => {
    // Prepare
    const record = deployed({
      approval: {
        decision: 'approved',
        by: 'cto@example.com',
        channel: 'comment',
        at: '2026-11-28T10:03:30.000Z',
        comment: 'site down',
        breakGlass: true,
        votes: [
          { by: 'lead@example.com', decision: 'approve', at: '2026-11-28T10:03:00.000Z', channel: 'link' },
          {
            by: 'cto@example.com',
            decision: 'approve',
            at: '2026-11-28T10:03:30.000Z',
            channel: 'clickup',
            breakGlass: true,
            comment: 'site down',
          },
        ],
      },
    });

    // Act
    const text = section(
      renderRecord(record, { approval: { ...REQUEST, quorum: 2, breakGlass: ['cto@example.com'] } }),
      'Approval',
    );

    // Assess
    expect(text.trim().split('\n')).toEqual([
      '- Requested 2026-11-28T10:02:00.000Z, expiring 2026-11-28T11:02:00.000Z; quorum 2 of 2 approvers, break-glass: cto@example.com',
      '- Decision: **approved** by cto@example.com via comment at 2026-11-28T10:03:30.000Z (after 2 min) (“site down”)',
      '- **Break-glass**: the normal approvers and quorum were bypassed',
      '  - approve by lead@example.com via link at 2026-11-28T10:03:00.000Z',
      '  - approve by cto@example.com via clickup at 2026-11-28T10:03:30.000Z (break-glass) (“site down”)',
    ]);
  });

  it('times each step against its timeout and tables the metrics of every bake report', () => {
    // Act
    const text = renderRecord(deployed());

    // Assess
    expect(section(text, 'Step timings')).toContain(
      '| 2 | Deploy backend | command | succeeded | 2026-11-28T10:05:00.000Z | 4.0s | 60s | now v2 |',
    );
    expect(section(text, 'Verification')).toContain('- ✓ Health (http, 4 ms): 200 in 4 ms');
    expect(section(text, 'Metrics over the bake')).toContain(
      '| +15 min | 2026-11-28T10:21:00.000Z | 0.02 | 87 | 1200 | 0 | – | ✓ |',
    );
    expect(section(text, 'Outcome')).toContain(
      '**deployed** at 2026-11-28T11:10:00.000Z, 70 min after the start',
    );
  });

  it('gives the rollback its reason, reaction time, undone steps and verification', () => {
    // Act
    const text = section(renderRecord(rolledBack()), 'Rollback');

    // Assess
    expect(text).toContain('Reason: Error rate 12.5% > 1% for 10s');
    expect(text).toContain(
      'Started 2026-11-28T10:08:12.000Z, 12s after the first breaching datapoint (2026-11-28T10:08:00.000Z).',
    );
    expect(text).toContain('- Deploy backend: rolled-back (back to v1), 4.0s');
    expect(text).toContain('- verify ✓ Health (http, 3 ms): 200 in 3 ms');
  });

  it('says "Not reached" for the parts a deployment that was blocked never got to', () => {
    // Prepare
    const record = aDeployment({
      status: 'blocked',
      outcome: 'blocked',
      finishedAt: '2026-11-28T10:01:00.000Z',
      gates: [{ name: 'CI green', passed: false, evidence: 'failure on abc', reason: 'fix CI' }],
    });

    // Act
    const text = renderRecord(record);

    // Assess
    expect(section(text, 'Plan')).toContain('Not written');
    expect(section(text, 'Approval')).toContain('Not requested.');
    expect(section(text, 'Step timings')).toContain('No step ran.');
    expect(section(text, 'Verification')).toContain('Not reached.');
    expect(section(text, 'Metrics over the bake')).toContain('Not reached.');
    expect(section(text, 'Follow-ups')).toContain('- [ ] Gate "CI green" did not pass: fix CI.');
  });
});

describe('followUps', () => {
  it('asks for nothing after a clean deployment', () => {
    // Act
    const items = followUps(deployed());

    // Assess
    expect(items).toEqual([]);
    expect(section(renderRecord(deployed()), 'Follow-ups')).toContain(
      'None: nothing in this deployment calls for one.',
    );
  });

  it('asks to find the cause of the breach and to check the kept database after a rollback', () => {
    // Act
    const items = followUps(rolledBack());

    // Assess
    expect(items).toEqual([
      'Find the cause of "Error rate 12.5% > 1% for 10s" before redeploying v2.',
      '"Migrate" was kept in place: the database was not rolled back automatically; check it works with the previous release.',
    ]);
  });

  it('names the failed step when a step, not the bake, caused the rollback, and a rollback that did not complete', () => {
    // Prepare
    const record = rolledBack({
      status: 'rollback-failed',
      monitoring: undefined,
      steps: [step(0, 'Migrate'), step(1, 'Deploy backend', { status: 'failed', error: 'exit 1' })],
      rollback: {
        reason: 'Deploy backend failed',
        steps: [step(0, 'Migrate', { status: 'rollback-failed', error: 'no down migration' })],
        error: 'Migrate: no down migration',
      },
    });

    // Act
    const items = followUps(record);

    // Assess
    expect(items).toEqual([
      'Find why "Deploy backend" failed (exit 1) before redeploying v2.',
      'The rollback did not complete (Migrate): Migrate: no down migration. Check by hand what serves in production now.',
    ]);
  });

  it('asks to review an overridden gate and a break-glass approval, and to confirm an allowed destructive migration', () => {
    // Prepare
    const record = deployed({
      gates: [{ name: 'No alarms firing', passed: true, evidence: 'firing: x', override: 'hot fix INC-9' }],
      migrations: [
        { path: 'db/002_drop.sql', kind: 'destructive', irreversible: true, reasons: ['DROP COLUMN'] },
      ],
      approval: {
        decision: 'approved',
        by: 'cto@example.com',
        channel: 'link',
        at: '2026-11-28T10:04:00.000Z',
        breakGlass: true,
        comment: 'outage',
      },
    });

    // Act
    const items = followUps(record);

    // Assess
    expect(items).toEqual([
      'Migration db/002_drop.sql is irreversible and was allowed: the database is not rolled back automatically; confirm no data was lost.',
      'Review the override of "No alarms firing" (hot fix INC-9).',
      'Review the break-glass approval by cto@example.com (“outage”).',
    ]);
  });

  it('points at a check that needed retries, a step that used most of its timeout and an alarm that could not be read', () => {
    // Prepare
    const base = deployed();
    const record = deployed({
      verification: [
        {
          name: 'Health',
          kind: 'http',
          passed: true,
          detail: '200 in 4 ms (attempt 3)',
          durationMs: 4,
          attempts: 3,
        },
        { name: 'Version', kind: 'http', passed: true, detail: '200 (attempt 2)', durationMs: 4 },
      ],
      steps: [
        step(0, 'Migrate'),
        step(1, 'Deploy backend', {
          startedAt: '2026-11-28T10:05:00.000Z',
          finishedAt: '2026-11-28T10:05:48.000Z',
        }),
      ],
      monitoring: {
        ...(base.monitoring as NonNullable<DeploymentRecord['monitoring']>),
        reports: [
          {
            at: '2026-11-28T10:21:00.000Z',
            elapsedSeconds: 900,
            metrics: { alarms: [{ name: 'api-5xx', state: 'MISSING' }] },
            withinTargets: true,
          },
        ],
      },
    });

    // Act
    const items = followUps(record);

    // Assess
    expect(items).toEqual([
      'Check "Health" passed only at attempt 3: find why it was not ready at once (start-up, readiness).',
      'Check "Version" passed only at attempt 2: find why it was not ready at once (start-up, readiness).',
      '"Deploy backend" took 48s, 80% of its 60s timeout: make it faster or raise the timeout.',
      'Alarm api-5xx (MISSING) could not be read during the bake: fix it so the next bake is watched.',
    ]);
  });

  it('asks for a decision when the deployment failed and automatic rollback was off', () => {
    // Prepare
    const record = deployed({
      status: 'blocked',
      outcome: 'failed',
      error: { name: 'AlarmBreachedError', message: 'error rate 5%' },
    });

    // Act
    const items = followUps(record);

    // Assess
    expect(items).toEqual([
      'The deployment failed and was not rolled back automatically: decide whether to roll back (AlarmBreachedError: error rate 5%).',
    ]);
  });
});

describe('writeRecord', () => {
  it('stores the document under records/<id>.md with the approval request, and remembers the key', async () => {
    // Prepare
    const store = new MemoryDeploymentStore();
    const artifacts = new MemoryArtifacts();
    await store.createDeployment(deployed({ deploymentId: 'dep-7' }));
    await store.putApproval(
      anApproval({ deploymentId: 'dep-7', quorum: 1, approvers: ['lead@example.com'] }),
    );

    // Act
    const key = await writeRecord('dep-7', { store, artifacts });

    // Assess
    expect(key).toBe('records/dep-7.md');
    expect((await store.getDeployment('dep-7'))?.recordKey).toBe('records/dep-7.md');
    const text = await artifacts.get('records/dep-7.md');
    expect(text).toContain('# Deployment record: User Notifications');
    expect(text).toContain('quorum 1 of 1 approver');
    expect(text).toContain('- Document: [plans/t1-1.md](memory://plans/t1-1.md)');
    expect(text).not.toContain('secret-token');
  });

  it('writes nothing for an unknown deployment', async () => {
    // Prepare
    const store = new MemoryDeploymentStore();
    const artifacts = new MemoryArtifacts();

    // Act
    const key = await writeRecord('nope', { store, artifacts });

    // Assess
    expect(key).toBe('');
    expect(await artifacts.get('records/nope.md')).toBeUndefined();
  });
});

describe('docs/examples (records of real demo runs, `npm run docs:records`)', () => {
  const read = (name: string) =>
    readFileSync(resolve(import.meta.dirname, '../../../docs/examples', name), 'utf8');
  const headings = (text: string) => text.split('\n').filter((l) => l.startsWith('#'));
  const SECTIONS = [
    '# Deployment record: User Notifications',
    '## What was deployed',
    '## Plan',
    '## Gates',
    '## Approval',
    '## Step timings',
    '## Verification',
    '## Metrics over the bake',
    '## Outcome',
  ];

  it('has the good release deployed, with every section', () => {
    // Act
    const text = read('deployment-record.md');

    // Assess
    expect(headings(text)).toEqual([...SECTIONS, '## Follow-ups']);
    expect(text).toContain('- Outcome: **deployed**');
  });

  it('has the bad release rolled back, with the rollback and its follow-ups', () => {
    // Act
    const text = read('deployment-record-rollback.md');

    // Assess
    expect(headings(text)).toEqual([...SECTIONS, '## Rollback', '## Follow-ups']);
    expect(text).toContain('- Outcome: **rolled-back**');
    expect(section(text, 'Follow-ups')).toMatch(/^- \[ \] Find the cause of /m);
  });
});
