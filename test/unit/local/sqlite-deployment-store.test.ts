import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, openDatabase } from '../../../local/adapters/sqlite-database.js';
import { SqliteDeploymentStore } from '../../../local/adapters/sqlite-deployment-store.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

// What the DeploymentStore port promises is in test/fixtures/store-contract.ts (run in
// test/unit/shared/memory-store-contract.test.ts); here only what is SQLite's own.
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
      await new SqliteDeploymentStore(first).createDeployment(aDeployment());
      first.close();
      const second = openDatabase(file);
      const version = second.prepare('PRAGMA user_version').get();
      const record = await new SqliteDeploymentStore(second).getDeployment(aDeployment().deploymentId);
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
      await storeA.putApproval(anApproval());
      const wonA = await storeA.decideApproval(anApproval().approvalId, {
        status: 'approved',
        decidedBy: 'a',
        decidedAt: '2026-11-28T10:05:00.000Z',
      });
      const wonB = await storeB.decideApproval(anApproval().approvalId, {
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

  it('records one vote per approver across two connections to one file, as two processes would', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-sqlite-'));
    const file = join(dir, 'devops-agent.db');
    const a = openDatabase(file);
    const b = openDatabase(file);
    const vote = (by: string, decision: 'approve' | 'hold') =>
      ({ by, decision, at: '2026-11-28T10:00:00.000Z', channel: 'cli' }) as const;
    const id = anApproval().approvalId;

    try {
      const storeA = new SqliteDeploymentStore(a);
      const storeB = new SqliteDeploymentStore(b);
      await storeA.putApproval(
        anApproval({ quorum: 2, approvers: ['lead@example.com', 'b.ops@example.com'] }),
      );

      // Act
      const firstA = await storeA.addApprovalVote(id, vote('lead@example.com', 'approve'));
      const twinB = await storeB.addApprovalVote(id, vote('lead@example.com', 'hold'));
      const otherB = await storeB.addApprovalVote(id, vote('b.ops@example.com', 'approve'));

      // Assess
      expect(firstA?.votes).toEqual([vote('lead@example.com', 'approve')]);
      expect(twinB).toBeUndefined();
      expect(otherB?.votes).toEqual([
        vote('lead@example.com', 'approve'),
        vote('b.ops@example.com', 'approve'),
      ]);
      expect((await storeA.getApproval(id))?.votes).toEqual(otherB?.votes);
    } finally {
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens a file whose approvals predate votes, reads them with the defaults and records a vote', async () => {
    // Prepare: the row as the earlier version wrote it (no quorum, break-glass or votes in the JSON)
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-sqlite-'));
    const file = join(dir, 'devops-agent.db');
    const { quorum: _q, breakGlass: _b, votes: _v, ...older } = anApproval();
    const before = openDatabase(file);
    before
      .prepare(
        'INSERT INTO approvals (approval_id, deployment_id, status, created_at, record) VALUES (?, ?, ?, ?, ?)',
      )
      .run(older.approvalId, older.deploymentId, older.status, older.createdAt, JSON.stringify(older));
    before.close();
    const vote = {
      by: 'lead@example.com',
      decision: 'approve',
      at: older.createdAt,
      channel: 'link',
    } as const;

    try {
      // Act
      const db = openDatabase(file);
      const store = new SqliteDeploymentStore(db);
      const read = await store.getApproval(older.approvalId);
      const voted = await store.addApprovalVote(older.approvalId, vote);
      const version = db.prepare('PRAGMA user_version').get();
      db.close();

      // Assess
      expect(read).toEqual(anApproval());
      expect(voted).toEqual(anApproval({ votes: [vote] }));
      expect(version).toEqual({ user_version: MIGRATIONS.length });
    } finally {
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
