import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../../../functions/shared/errors.js';
import type { ApprovalRecord, DeploymentRecord } from '../../../functions/shared/ports/deployment-store.js';
import { type Database, MIGRATIONS, openDatabase } from '../../../local/adapters/sqlite-database.js';
import { SqliteDeploymentStore } from '../../../local/adapters/sqlite-deployment-store.js';
import { FakeClock } from '../../fixtures/fakes.js';

const deployment = (overrides: Partial<DeploymentRecord> = {}): DeploymentRecord => ({
  deploymentId: 'dep-1',
  taskId: 'local-abc123',
  taskName: 'User Notifications',
  service: 'user-notifications',
  environment: 'production',
  trigger: 'status',
  status: 'queued',
  stage: 'Acknowledge',
  createdAt: '2026-11-28T10:00:00.000Z',
  updatedAt: '2026-11-28T10:00:00.000Z',
  steps: [],
  ...overrides,
});

const approval = (overrides: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  approvalId: 'apr-1',
  deploymentId: 'dep-1',
  taskId: 'local-abc123',
  taskToken: 'token-1',
  planHash: 'abc',
  approvers: ['demo@example.com'],
  status: 'pending',
  createdAt: '2026-11-28T10:00:00.000Z',
  expiresAt: '2026-11-29T10:00:00.000Z',
  ...overrides,
});

describe('SqliteDeploymentStore', () => {
  let db: Database;
  let clock: FakeClock;
  let store: SqliteDeploymentStore;

  beforeEach(() => {
    db = openDatabase(':memory:');
    clock = new FakeClock();
    store = new SqliteDeploymentStore(db, clock);
  });

  afterEach(() => {
    db.close();
  });

  it('creates a deployment once and answers false to a duplicate start', async () => {
    // Prepare
    const record = deployment();

    // Act
    const first = await store.createDeployment(record);
    const second = await store.createDeployment({ ...record, taskName: 'changed' });

    // Assess
    expect({ first, second }).toEqual({ first: true, second: false });
    expect(await store.getDeployment('dep-1')).toEqual(record);
  });

  it('returns undefined for an unknown deployment', async () => {
    // Act
    const record = await store.getDeployment('nope');

    // Assess
    expect(record).toBeUndefined();
  });

  it('merges a patch, sets updatedAt from the clock and keeps the id', async () => {
    // Prepare
    await store.createDeployment(deployment());
    clock.advance(60);

    // Act
    const updated = await store.updateDeployment('dep-1', {
      status: 'deploying',
      stage: 'ExecuteStep',
      steps: [{ index: 0, name: 'Deploy backend', kind: 'command', status: 'running', startedAt: 'x' }],
    });

    // Assess
    expect(updated).toMatchObject({
      deploymentId: 'dep-1',
      status: 'deploying',
      stage: 'ExecuteStep',
      taskName: 'User Notifications',
      updatedAt: '2026-11-28T10:01:00.000Z',
    });
    expect(await store.getDeployment('dep-1')).toEqual(updated);
    expect(await store.listDeployments({ service: 'user-notifications' })).toEqual([updated]);
  });

  it('throws NotFoundError when updating an unknown deployment', async () => {
    // Act
    const update = store.updateDeployment('missing', { status: 'deployed' });

    // Assess
    await expect(update).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists deployments by service, task and creation time, oldest first', async () => {
    // Prepare
    await store.createDeployment(deployment({ deploymentId: 'b', createdAt: '2026-11-28T11:00:00.000Z' }));
    await store.createDeployment(deployment({ deploymentId: 'a', createdAt: '2026-11-28T10:00:00.000Z' }));
    await store.createDeployment(
      deployment({
        deploymentId: 'c',
        service: 'billing',
        taskId: 'local-other',
        createdAt: '2026-11-28T12:00:00.000Z',
      }),
    );
    const ids = (records: DeploymentRecord[]) => records.map((r) => r.deploymentId);

    // Act
    const all = await store.listDeployments();
    const byService = await store.listDeployments({ service: 'user-notifications' });
    const byTask = await store.listDeployments({ taskId: 'local-other' });
    const since = await store.listDeployments({ since: '2026-11-28T10:30:00.000Z' });

    // Assess
    expect({ all: ids(all), byService: ids(byService), byTask: ids(byTask), since: ids(since) }).toEqual({
      all: ['a', 'b', 'c'],
      byService: ['a', 'b'],
      byTask: ['c'],
      since: ['b', 'c'],
    });
  });

  it('gives the lock to one owner and queues the others in arrival order', async () => {
    // Prepare
    const now = '2026-11-28T10:00:00.000Z';
    const until = '2026-11-28T11:00:00.000Z';

    // Act
    const first = await store.acquireLock('svc/production', 'dep-1', until, now);
    const second = await store.acquireLock('svc/production', 'dep-2', until, now);
    const third = await store.acquireLock('svc/production', 'dep-3', until, now);
    const secondAgain = await store.acquireLock('svc/production', 'dep-2', until, now);
    const other = await store.acquireLock('svc/staging', 'dep-4', until, now);

    // Assess
    expect(first).toEqual({ acquired: true, position: 0 });
    expect(second).toEqual({ acquired: false, holder: 'dep-1', position: 1 });
    expect(third).toEqual({ acquired: false, holder: 'dep-1', position: 2 });
    expect(secondAgain).toEqual({ acquired: false, holder: 'dep-1', position: 1 });
    expect(other).toEqual({ acquired: true, position: 0 });
  });

  it('renews a lock for its holder and hands it on after release', async () => {
    // Prepare
    const now = '2026-11-28T10:00:00.000Z';
    await store.acquireLock('svc/production', 'dep-1', '2026-11-28T11:00:00.000Z', now);
    await store.acquireLock('svc/production', 'dep-2', '2026-11-28T11:00:00.000Z', now);

    // Act
    const renewed = await store.acquireLock('svc/production', 'dep-1', '2026-11-28T12:00:00.000Z', now);
    await store.releaseLock('svc/production', 'dep-2');
    const stillHeld = await store.acquireLock('svc/production', 'dep-2', '2026-11-28T11:00:00.000Z', now);
    await store.releaseLock('svc/production', 'dep-1');
    const handedOn = await store.acquireLock('svc/production', 'dep-2', '2026-11-28T11:00:00.000Z', now);

    // Assess
    expect(renewed).toEqual({ acquired: true, position: 0 });
    expect(stillHeld).toMatchObject({ acquired: false, holder: 'dep-1' });
    expect(handedOn).toEqual({ acquired: true, position: 0 });
  });

  it('lets a waiter take over a lock whose lease expired', async () => {
    // Prepare
    await store.acquireLock(
      'svc/production',
      'crashed',
      '2026-11-28T10:05:00.000Z',
      '2026-11-28T10:00:00.000Z',
    );
    const before = await store.acquireLock(
      'svc/production',
      'dep-2',
      '2026-11-28T11:00:00.000Z',
      '2026-11-28T10:04:59.000Z',
    );

    // Act
    const after = await store.acquireLock(
      'svc/production',
      'dep-2',
      '2026-11-28T11:05:00.000Z',
      '2026-11-28T10:05:00.000Z',
    );
    const crashedReturns = await store.acquireLock(
      'svc/production',
      'crashed',
      '2026-11-28T11:10:00.000Z',
      '2026-11-28T10:06:00.000Z',
    );

    // Assess
    expect(before).toEqual({ acquired: false, holder: 'crashed', position: 1 });
    expect(after).toEqual({ acquired: true, position: 0 });
    expect(crashedReturns).toEqual({ acquired: false, holder: 'dep-2', position: 1 });
  });

  it('ignores a release by someone who does not hold the lock', async () => {
    // Prepare
    const now = '2026-11-28T10:00:00.000Z';
    await store.acquireLock('svc/production', 'dep-1', '2026-11-28T11:00:00.000Z', now);

    // Act
    await store.releaseLock('svc/production', 'intruder');
    const result = await store.acquireLock('svc/production', 'dep-2', '2026-11-28T11:00:00.000Z', now);

    // Assess
    expect(result).toMatchObject({ acquired: false, holder: 'dep-1' });
  });

  it('stores approvals and finds the newest one of a deployment', async () => {
    // Prepare
    await store.putApproval(approval({ approvalId: 'old', createdAt: '2026-11-28T09:00:00.000Z' }));
    await store.putApproval(approval({ approvalId: 'new', createdAt: '2026-11-28T10:00:00.000Z' }));

    // Act
    const found = await store.findApprovalByDeployment('dep-1');
    const byId = await store.getApproval('old');
    const none = await store.findApprovalByDeployment('dep-x');

    // Assess
    expect(found?.approvalId).toBe('new');
    expect(byId).toEqual(approval({ approvalId: 'old', createdAt: '2026-11-28T09:00:00.000Z' }));
    expect(none).toBeUndefined();
  });

  it('decides an approval once: a second decision is refused and changes nothing', async () => {
    // Prepare
    await store.putApproval(approval());

    // Act
    const approved = await store.decideApproval('apr-1', {
      status: 'approved',
      decidedBy: 'demo@example.com',
      decidedAt: '2026-11-28T10:05:00.000Z',
      comment: 'ship it',
    });
    const held = await store.decideApproval('apr-1', {
      status: 'held',
      decidedBy: 'someone@example.com',
      decidedAt: '2026-11-28T10:06:00.000Z',
    });
    const unknown = await store.decideApproval('apr-unknown', {
      status: 'approved',
      decidedBy: 'demo@example.com',
      decidedAt: '2026-11-28T10:06:00.000Z',
    });

    // Assess
    expect({ approved, held, unknown }).toEqual({ approved: true, held: false, unknown: false });
    expect(await store.getApproval('apr-1')).toEqual(
      approval({
        status: 'approved',
        decidedBy: 'demo@example.com',
        decidedAt: '2026-11-28T10:05:00.000Z',
        comment: 'ship it',
      }),
    );
  });

  it('lets exactly one of many concurrent decisions win', async () => {
    // Prepare
    await store.putApproval(approval());

    // Act
    const results = await Promise.all(
      ['approved', 'held', 'expired', 'approved'].map((status, i) =>
        store.decideApproval('apr-1', {
          status: status as 'approved' | 'held' | 'expired',
          decidedBy: `person-${i}`,
          decidedAt: '2026-11-28T10:05:00.000Z',
        }),
      ),
    );

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.getApproval('apr-1'))?.decidedBy).toBe('person-0');
  });

  it('sets, replaces and clears the monitor token', async () => {
    // Act
    await store.setMonitorToken('dep-1', 'first');
    await store.setMonitorToken('dep-1', 'second');
    const current = await store.getMonitorToken('dep-1');
    await store.setMonitorToken('dep-1', undefined);
    const cleared = await store.getMonitorToken('dep-1');

    // Assess
    expect({ current, cleared }).toEqual({ current: 'second', cleared: undefined });
  });

  it('appends audit entries and lists those of one deployment in order', async () => {
    // Prepare
    const entry = (deploymentId: string, action: string) => ({
      at: '2026-11-28T10:00:00.000Z',
      deploymentId,
      action,
      actor: 'demo@example.com',
      channel: 'link',
    });

    // Act
    await store.appendAudit(entry('dep-1', 'approval.requested'));
    await store.appendAudit(entry('dep-2', 'approval.requested'));
    await store.appendAudit({ ...entry('dep-1', 'approval.approved'), detail: 'plan abc' });

    // Assess
    expect((await store.listAudit('dep-1')).map((a) => a.action)).toEqual([
      'approval.requested',
      'approval.approved',
    ]);
    expect((await store.listAudit('dep-1'))[1]?.detail).toBe('plan abc');
  });
});

describe('openDatabase', () => {
  it('creates the folder, uses WAL and keeps the data when opened again', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-sqlite-'));
    const file = join(dir, 'nested', 'state', 'devops-agent.db');

    try {
      // Act
      const first = openDatabase(file);
      const mode = first.prepare('PRAGMA journal_mode').get();
      const timeout = first.prepare('PRAGMA busy_timeout').get();
      await new SqliteDeploymentStore(first).createDeployment(deployment());
      first.close();
      const second = openDatabase(file);
      const version = second.prepare('PRAGMA user_version').get();
      const record = await new SqliteDeploymentStore(second).getDeployment('dep-1');
      second.close();

      // Assess
      expect(mode).toEqual({ journal_mode: 'wal' });
      expect(timeout).toEqual({ timeout: 5000 });
      expect(version).toEqual({ user_version: MIGRATIONS.length });
      expect(record?.taskName).toBe('User Notifications');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shares one file between two connections, as two processes would', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-sqlite-'));
    const file = join(dir, 'devops-agent.db');
    const a = openDatabase(file);
    const b = openDatabase(file);

    try {
      // Act
      const storeA = new SqliteDeploymentStore(a);
      const storeB = new SqliteDeploymentStore(b);
      await storeA.putApproval(approval());
      const wonA = await storeA.decideApproval('apr-1', {
        status: 'approved',
        decidedBy: 'a',
        decidedAt: '2026-11-28T10:05:00.000Z',
      });
      const wonB = await storeB.decideApproval('apr-1', {
        status: 'held',
        decidedBy: 'b',
        decidedAt: '2026-11-28T10:05:00.000Z',
      });
      const lockA = await storeA.acquireLock(
        'k',
        'dep-a',
        '2026-11-28T11:00:00.000Z',
        '2026-11-28T10:00:00.000Z',
      );
      const lockB = await storeB.acquireLock(
        'k',
        'dep-b',
        '2026-11-28T11:00:00.000Z',
        '2026-11-28T10:00:00.000Z',
      );

      // Assess
      expect({ wonA, wonB }).toEqual({ wonA: true, wonB: false });
      expect({ lockA: lockA.acquired, lockB }).toEqual({
        lockA: true,
        lockB: { acquired: false, holder: 'dep-a', position: 1 },
      });
    } finally {
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a database from a newer version', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-sqlite-'));
    const file = join(dir, 'devops-agent.db');
    const db = openDatabase(file);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
    db.close();

    try {
      // Act
      const open = () => openDatabase(file);

      // Assess
      expect(open).toThrow(/newer than this devops-agent/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
