import { checkGates } from '../../../functions/check-gates/check-gates.js';
import { NotFoundError, TransientDependencyError } from '../../../functions/shared/errors.js';
import { CONFIG, RELEASE_FIELDS } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, T1_STATE } from '../../fixtures/records.js';

const STATE = T1_STATE;
const FIELDS = RELEASE_FIELDS;

const setup = async (config?: string) => {
  const f = fakePorts(config);
  f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...FIELDS } });
  f.sourceControl.isBranchProtected = async () => true;
  await f.store.createDeployment(aDeployment({ status: 'checking', stage: 'AcquireLock' }));
  return f;
};

describe('checkGates', () => {
  it('passes with evidence for every gate when all are met', async () => {
    // Prepare
    const f = await setup();

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result).toEqual({ passed: true, failed: [] });
    const gates = (await f.store.getDeployment('t1-1'))?.gates ?? [];
    expect(gates.map((g) => [g.name, g.evidence])).toEqual([
      ['Runtime can run every step', '3 steps, 1 checks'],
      ['PR merged', 'https://github.com/acme/notifications/pull/42 merged into main (protected)'],
      ['CI green', '1 checks passed on abc1234'],
      ['Security Review approved', 'Security Review: Approved'],
      ['QA approved', 'QA: Approved'],
      ['No alarms firing', 'all triggers within targets'],
    ]);
  });

  it('records the release and its pull request with the merge time and commit, for the record and lead time', async () => {
    // Prepare
    const f = await setup();
    f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...FIELDS, Release: 'v2.3.0' } });
    f.sourceControl.pr = { ...f.sourceControl.pr, mergedAt: '2026-11-27T16:42:00Z' };

    // Act
    await checkGates(STATE, f.ports);

    // Assess
    expect((await f.store.getDeployment('t1-1'))?.release).toEqual({
      version: 'v2.3.0',
      repository: 'acme/notifications',
      prNumber: 42,
      prUrl: 'https://github.com/acme/notifications/pull/42',
      prTitle: 'User notifications',
      mergedAt: '2026-11-27T16:42:00Z',
      commit: 'abc1234def5678',
    });
  });

  it('records no pull request when none is found, and the release it names', async () => {
    // Prepare
    const f = await setup();
    f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...FIELDS, Release: 'v2' } });
    f.sourceControl.failures = [new NotFoundError('no such PR')];

    // Act
    await checkGates(STATE, f.ports);

    // Assess
    expect((await f.store.getDeployment('t1-1'))?.release).toEqual({
      version: 'v2',
      repository: 'acme/notifications',
    });
  });

  it('says how to fix a task without a repository', async () => {
    // Prepare
    const f = await setup();
    f.tracker.add({
      id: 't1',
      name: 'User Notifications',
      customFields: { 'Security Review': 'Approved', QA: 'Approved' },
    });

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['PR merged', 'CI green']);
    const gate = (await f.store.getDeployment('t1-1'))?.gates?.find((g) => g.name === 'PR merged');
    expect(gate?.reason).toBe(
      'set the service\'s repository in the config, or the task\'s "Repository" field (owner/name)',
    );
  });

  it('fails the PR gates when the pull request does not exist', async () => {
    // Prepare
    const f = await setup();
    f.sourceControl.failures = [new NotFoundError('no such PR')];

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['PR merged', 'CI green']);
  });

  it('fails when the runtime has no runner for a configured step kind', async () => {
    // Prepare
    const f = await setup(`
services:
  - name: notifications
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: L1 }
    steps: [{ name: Deploy API, kind: kubernetes, deployment: api, image: "api:v2" }]
`);

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['Runtime can run every step']);
    const gate = (await f.store.getDeployment('t1-1'))?.gates?.[0];
    expect(gate?.reason).toContain('no runner for step "Deploy API" (kubernetes)');
  });

  it('blocks when alarms are already firing or cannot be read', async () => {
    // Prepare
    const f = await setup();
    f.alarms.check = async () => {
      throw new Error('connection refused');
    };

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['No alarms firing']);
  });

  it('records a gate whose dependency is down as not evaluated and throws so the workflow retries', async () => {
    // Prepare
    const f = await setup();
    f.sourceControl.failures = [new TransientDependencyError('GitHub could not answer (502)')];

    // Act
    const act = checkGates(STATE, f.ports);

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'TransientDependencyError' });
    const gates = (await f.store.getDeployment('t1-1'))?.gates ?? [];
    expect(gates.filter((g) => g.error).map((g) => [g.name, g.passed, g.error])).toEqual([
      ['PR merged', false, 'TransientDependencyError: GitHub could not answer (502)'],
      ['CI green', false, 'TransientDependencyError: GitHub could not answer (502)'],
    ]);
  });

  it('reports a gate that cannot be evaluated for a lasting reason as not evaluated, never passed', async () => {
    // Prepare
    const f = await setup();
    f.sourceControl.failures = [Object.assign(new Error('Bad credentials'), { name: 'GitHubRequestError' })];

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result).toEqual({ passed: false, failed: ['PR merged', 'CI green'] });
    const gate = (await f.store.getDeployment('t1-1'))?.gates?.find((g) => g.name === 'CI green');
    expect(gate).toMatchObject({
      passed: false,
      evidence: 'could not be evaluated',
      error: 'GitHubRequestError: Bad credentials',
    });
  });

  it('finds the pull request by CU-<task id> when the task has no PR field', async () => {
    // Prepare
    const f = await setup();
    f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...FIELDS, PR: '' } });
    const asked: string[] = [];
    f.sourceControl.findPullRequestForTask = async (repository, taskId) => {
      asked.push(`${repository} CU-${taskId}`);
      return f.sourceControl.pr;
    };

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.passed).toBe(true);
    expect(asked).toEqual(['acme/notifications CU-t1']);
  });

  it('fails the PR gate when the base branch has no branch protection', async () => {
    // Prepare
    const f = await setup();
    f.sourceControl.isBranchProtected = async () => false;

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['PR merged']);
    const gate = (await f.store.getDeployment('t1-1'))?.gates?.find((g) => g.name === 'PR merged');
    expect(gate?.reason).toContain('protect main in GitHub');
  });

  it.each([
    ['a tag', '{ tag: qa-approved }', { tags: ['QA-Approved'] }, true, 'tagged qa-approved'],
    ['a missing tag', '{ tag: qa-approved }', { tags: ['wip'] }, false, 'tags: wip'],
    [
      'a ticked checklist item',
      '{ checklist: Release, item: QA sign-off }',
      { checklists: [{ name: 'Release', items: [{ name: 'QA sign-off', resolved: true }] }] },
      true,
      '1 of 1 ticked',
    ],
    [
      'an open checklist item',
      '{ checklist: Release }',
      {
        checklists: [
          {
            name: 'Release',
            items: [
              { name: 'QA sign-off', resolved: true },
              { name: 'Security sign-off', resolved: false },
            ],
          },
        ],
      },
      false,
      'open: Security sign-off',
    ],
    [
      'a field with its own values',
      '{ field: QA, values: [Passed, Waived] }',
      { customFields: { ...FIELDS, QA: 'waived' } },
      true,
      'QA: waived',
    ],
  ])('checks a sign-off by %s', async (_name, signOff, task, passed, evidence) => {
    // Prepare
    const f = await setup(
      CONFIG.replace(/(\n\s+tracker: \{ list_id: L1 \})/, `$1\n    gates: { sign_off: [${signOff}] }`),
    );
    f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...FIELDS }, ...task });

    // Act
    await checkGates(STATE, f.ports);

    // Assess
    const gates = (await f.store.getDeployment('t1-1'))?.gates ?? [];
    expect(gates.at(-2)).toMatchObject({ passed, evidence });
  });

  it('blocks inside a freeze window and lets an audited override reason through', async () => {
    // Prepare: the fake clock reads Saturday 28 November, inside the weekend freeze
    const config = CONFIG.replace(
      /(\n\s+tracker: \{ list_id: L1 \})/,
      '$1\n    gates: { freeze_windows: [{ name: Weekend, cron: "0 15 * * FRI", duration: 65h, timezone: Europe/Berlin }] }',
    );
    const blocked = await setup(config);
    const overridden = await setup(config);
    overridden.tracker.add({
      id: 't1',
      name: 'User Notifications',
      customFields: { ...FIELDS, 'Freeze Override Reason': 'INC-7 payment outage fix' },
    });

    // Act
    const first = await checkGates(STATE, blocked.ports);
    const second = await checkGates(STATE, overridden.ports);

    // Assess
    expect(first.failed).toEqual(['Outside freeze windows']);
    const gate = (await blocked.store.getDeployment('t1-1'))?.gates?.find(
      (g) => g.name === 'Outside freeze windows',
    );
    expect(gate).toMatchObject({ evidence: '"Weekend" until 2026-11-30T07:00:00.000Z' });
    expect(second.passed).toBe(true);
    expect(await overridden.store.listAudit('t1-1')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'gate-overridden',
          detail: 'Outside freeze windows: INC-7 payment outage fix',
        }),
      ]),
    );
  });

  it('lets firing alarms through for a hot fix with a reason, and blocks without one', async () => {
    // Prepare
    const firing = async () => ({
      breached: true,
      reasons: ['alarm notifications-api-5xx in ALARM'],
      readings: [],
    });
    const blocked = await setup();
    blocked.alarms.check = firing as unknown as typeof blocked.alarms.check;
    const hotfix = await setup();
    hotfix.alarms.check = firing as unknown as typeof hotfix.alarms.check;
    hotfix.tracker.add({
      id: 't1',
      name: 'User Notifications',
      customFields: { ...FIELDS, 'Hotfix Reason': 'fixes the 5xx' },
    });

    // Act
    const first = await checkGates(STATE, blocked.ports);
    const second = await checkGates(STATE, hotfix.ports);

    // Assess
    expect(first.failed).toEqual(['No alarms firing']);
    expect(second.passed).toBe(true);
    const gate = (await hotfix.store.getDeployment('t1-1'))?.gates?.at(-1);
    expect(gate).toMatchObject({
      override: 'fixes the 5xx',
      evidence: expect.stringContaining('firing: alarm notifications-api-5xx in ALARM'),
    });
  });

  it.each([
    [
      'an additive migration',
      'CREATE TABLE notifications (id bigint PRIMARY KEY, body text);',
      'false',
      true,
      'additive',
    ],
    ['a destructive migration', 'ALTER TABLE users DROP COLUMN legacy_flags;', 'false', false, 'destructive'],
    [
      'an allowed destructive migration',
      'ALTER TABLE users DROP COLUMN legacy_flags;',
      'true',
      true,
      'destructive',
    ],
  ])('classifies %s the release adds', async (_name, sql, allow, passed, kind) => {
    // Prepare
    const config = CONFIG.replace(
      /(\n\s+tracker: \{ list_id: L1 \})/,
      `$1\n    gates: { migrations: { path: db/migrations, dialect: postgresql, allow_destructive: ${allow} } }`,
    );
    const f = await setup(config);
    f.sourceControl.listPullRequestFiles = async () => [
      { path: 'db/migrations/20261128_change.sql', status: 'added' },
      { path: 'db/migrations/README.md', status: 'added' },
      { path: 'src/api.ts', status: 'modified' },
    ];
    const read: string[] = [];
    f.sourceControl.getFileText = async (_repo, path, ref) => {
      read.push(`${ref}:${path}`);
      return sql;
    };

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.passed).toBe(passed);
    expect(read).toEqual(['abc1234def5678:db/migrations/20261128_change.sql']);
    const record = await f.store.getDeployment('t1-1');
    expect(record?.migrations).toEqual([
      expect.objectContaining({ path: 'db/migrations/20261128_change.sql', kind }),
    ]);
  });

  describe('migrations against the earlier schema', () => {
    const withMigrationGate = () =>
      setup(
        CONFIG.replace(
          /(\n\s+tracker: \{ list_id: L1 \})/,
          '$1\n    gates: { migrations: { path: db/migrations, dialect: postgresql } }',
        ),
      );
    const REF = 'abc1234def5678';

    it('judges a widening type change additive when the earlier migrations define the column', async () => {
      // Prepare
      const f = await withMigrationGate();
      f.sourceControl.files = [
        { path: 'db/migrations/002_widen.sql', status: 'added' },
        { path: 'db/migrations/002_widen.down.sql', status: 'added' },
      ];
      f.sourceControl.fileTexts = {
        [`${REF}:db/migrations/001_users.sql`]: 'CREATE TABLE users (id smallint PRIMARY KEY, name text)',
        [`${REF}:db/migrations/002_widen.sql`]: 'ALTER TABLE users ALTER COLUMN id TYPE integer;',
        [`${REF}:db/migrations/002_widen.down.sql`]: 'ALTER TABLE users ALTER COLUMN id TYPE smallint;',
      };

      // Act
      const result = await checkGates(STATE, f.ports);

      // Assess
      expect(result.passed).toBe(true);
      const record = await f.store.getDeployment('t1-1');
      expect(record?.migrations).toEqual([
        expect.objectContaining({
          path: 'db/migrations/002_widen.sql',
          kind: 'additive',
          irreversible: false,
        }),
      ]);
    });

    it('judges the same type change destructive when no earlier migration says what the column was', async () => {
      // Prepare
      const f = await withMigrationGate();
      f.sourceControl.files = [{ path: 'db/migrations/002_widen.sql', status: 'added' }];
      f.sourceControl.fileTexts = {
        [`${REF}:db/migrations/002_widen.sql`]: 'ALTER TABLE users ALTER COLUMN id TYPE integer;',
      };

      // Act
      const result = await checkGates(STATE, f.ports);

      // Assess
      expect(result.failed).toEqual(['Migrations safe']);
      expect((await f.store.getDeployment('t1-1'))?.migrations?.[0]?.kind).toBe('destructive');
    });

    it('lets a later migration of the release see the table an earlier one of the same release creates', async () => {
      // Prepare
      const f = await withMigrationGate();
      f.sourceControl.files = [
        { path: 'db/migrations/011_narrow.sql', status: 'added' },
        { path: 'db/migrations/010_create.sql', status: 'added' },
      ];
      f.sourceControl.fileTexts = {
        [`${REF}:db/migrations/010_create.sql`]: 'CREATE TABLE events (id integer, body varchar(100));',
        [`${REF}:db/migrations/011_narrow.sql`]: 'ALTER TABLE events ALTER COLUMN body TYPE varchar(20);',
      };

      // Act
      const result = await checkGates(STATE, f.ports);

      // Assess
      expect(result.failed).toEqual(['Migrations safe']);
      const findings = (await f.store.getDeployment('t1-1'))?.migrations ?? [];
      expect(findings.map((m) => [m.path, m.kind])).toEqual([
        ['db/migrations/010_create.sql', 'additive'],
        ['db/migrations/011_narrow.sql', 'destructive'],
      ]);
      expect(findings[1]?.reasons.join(' ')).toMatch(/varchar\(100\).*varchar\(20\)|narrow/i);
    });

    it('says type changes were judged without the schema when the folder lists too many files', async () => {
      // Prepare
      const f = await withMigrationGate();
      f.sourceControl.files = [{ path: 'db/migrations/002_widen.sql', status: 'added' }];
      f.sourceControl.fileTexts = {
        [`${REF}:db/migrations/002_widen.sql`]: 'ALTER TABLE users ALTER COLUMN id TYPE integer;',
      };
      f.sourceControl.listFolder = async () => ({ paths: ['db/migrations/001_users.sql'], complete: false });

      // Act
      await checkGates(STATE, f.ports);

      // Assess
      const finding = (await f.store.getDeployment('t1-1'))?.migrations?.[0];
      expect(finding?.kind).toBe('destructive');
      expect(finding?.reasons.at(-1)).toMatch(/judged without the earlier schema/);
    });
  });
});
