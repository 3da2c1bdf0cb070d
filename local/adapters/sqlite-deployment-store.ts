import { NotFoundError } from '../../functions/shared/errors.js';
import { type Clock, systemClock } from '../../functions/shared/ports/clock.js';
import {
  type ApprovalDecisionUpdate,
  type ApprovalRecord,
  type ApprovalVote,
  type AuditEntry,
  type DeploymentRecord,
  type DeploymentStore,
  type LockResult,
  waiterIsFresh,
  withApprovalDefaults,
} from '../../functions/shared/ports/deployment-store.js';
import { type Database, transaction } from './sqlite-database.js';

type Row = Record<string, unknown>;

const parse = <T>(row: Row | undefined, column: string): T | undefined =>
  row ? (JSON.parse(String(row[column])) as T) : undefined;

const approvalOf = (row: Row | undefined): ApprovalRecord | undefined => {
  const stored = parse<ApprovalRecord>(row, 'record');
  return stored ? withApprovalDefaults(stored) : undefined;
};

/**
 * The local runtime's `DeploymentStore` on SQLite: each record is a JSON column, with the fields queries
 * filter on (task, service, status, times) copied into indexed columns. Writes that must not race (create,
 * lock, approval decision) are single conditional statements or immediate transactions, so two processes
 * sharing the file behave like two Lambdas sharing DynamoDB.
 */
export class SqliteDeploymentStore implements DeploymentStore {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  async createDeployment(record: DeploymentRecord): Promise<boolean> {
    const result = this.db
      .prepare(
        `INSERT INTO deployments (deployment_id, task_id, service, environment, status, created_at, updated_at, record)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (deployment_id) DO NOTHING`,
      )
      .run(
        record.deploymentId,
        record.taskId,
        record.service,
        record.environment,
        record.status,
        record.createdAt,
        record.updatedAt,
        JSON.stringify(record),
      );
    return result.changes === 1;
  }

  async getDeployment(deploymentId: string): Promise<DeploymentRecord | undefined> {
    return this.readDeployment(deploymentId);
  }

  async updateDeployment(deploymentId: string, patch: Partial<DeploymentRecord>): Promise<DeploymentRecord> {
    return transaction(this.db, () => {
      const current = this.readDeployment(deploymentId);
      if (!current) throw new NotFoundError(`deployment ${deploymentId} not found`);
      const next: DeploymentRecord = {
        ...current,
        ...structuredClone(patch),
        // The key and the indexed creation time never change: list order and `since` read the column.
        deploymentId,
        createdAt: current.createdAt,
        updatedAt: this.clock.now().toISOString(),
      };
      this.db
        .prepare(
          `UPDATE deployments SET task_id = ?, service = ?, environment = ?, status = ?, updated_at = ?, record = ?
           WHERE deployment_id = ?`,
        )
        .run(
          next.taskId,
          next.service,
          next.environment,
          next.status,
          next.updatedAt,
          JSON.stringify(next),
          deploymentId,
        );
      return next;
    });
  }

  async listDeployments(
    filter: { service?: string; taskId?: string; since?: string } = {},
  ): Promise<DeploymentRecord[]> {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.service) {
      where.push('service = ?');
      args.push(filter.service);
    }
    if (filter.taskId) {
      where.push('task_id = ?');
      args.push(filter.taskId);
    }
    if (filter.since) {
      where.push('created_at >= ?');
      args.push(filter.since);
    }
    const rows = this.db
      .prepare(
        `SELECT record FROM deployments ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at, rowid`,
      )
      .all(...args);
    return rows.map((row) => parse<DeploymentRecord>(row, 'record') as DeploymentRecord);
  }

  async acquireLock(key: string, owner: string, expiresAt: string, now: string): Promise<LockResult> {
    return transaction(this.db, () => {
      const lock = this.db.prepare('SELECT owner, expires_at FROM locks WHERE lock_key = ?').get(key);
      // waiters that stopped asking lose their place (a crashed run cannot block the queue behind it)
      const waiters = this.db
        .prepare('SELECT owner, seen_at FROM lock_waiters WHERE lock_key = ? ORDER BY seq')
        .all(key)
        .filter((w) => w.owner === owner || waiterIsFresh(String(w.seen_at), now));
      const mine = waiters.findIndex((w) => w.owner === owner);
      const ahead = mine === -1 ? waiters.length : mine;
      const free = !lock || String(lock.expires_at) <= now;
      if (lock?.owner === owner || (free && ahead === 0)) {
        this.db
          .prepare(
            `INSERT INTO locks (lock_key, owner, expires_at) VALUES (?, ?, ?)
             ON CONFLICT (lock_key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at`,
          )
          .run(key, owner, expiresAt);
        this.db.prepare('DELETE FROM lock_waiters WHERE lock_key = ? AND owner = ?').run(key, owner);
        return { acquired: true, position: 0 };
      }
      this.db
        .prepare(
          `INSERT INTO lock_waiters (lock_key, owner, seen_at) VALUES (?, ?, ?)
           ON CONFLICT (lock_key, owner) DO UPDATE SET seen_at = excluded.seen_at`,
        )
        .run(key, owner, now);
      return {
        acquired: false,
        ...(free || !lock ? {} : { holder: String(lock.owner) }),
        position: ahead + 1,
      };
    });
  }

  async releaseLock(key: string, owner: string): Promise<void> {
    transaction(this.db, () => {
      this.db.prepare('DELETE FROM locks WHERE lock_key = ? AND owner = ?').run(key, owner);
      // A deployment that gives up while queued leaves the queue too.
      this.db.prepare('DELETE FROM lock_waiters WHERE lock_key = ? AND owner = ?').run(key, owner);
    });
  }

  async putApproval(approval: ApprovalRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO approvals (approval_id, deployment_id, status, created_at, record) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (approval_id) DO UPDATE SET deployment_id = excluded.deployment_id, status = excluded.status,
           created_at = excluded.created_at, record = excluded.record`,
      )
      .run(
        approval.approvalId,
        approval.deploymentId,
        approval.status,
        approval.createdAt,
        JSON.stringify(approval),
      );
  }

  async getApproval(approvalId: string): Promise<ApprovalRecord | undefined> {
    return approvalOf(this.db.prepare('SELECT record FROM approvals WHERE approval_id = ?').get(approvalId));
  }

  async findApprovalByDeployment(deploymentId: string): Promise<ApprovalRecord | undefined> {
    return approvalOf(
      this.db
        .prepare(
          'SELECT record FROM approvals WHERE deployment_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
        )
        .get(deploymentId),
    );
  }

  async addApprovalVote(approvalId: string, vote: ApprovalVote): Promise<ApprovalRecord | undefined> {
    // One conditional statement: the check for an earlier vote by the same identity and the append happen
    // together, so of two racing votes by one approver exactly one is kept.
    return approvalOf(
      this.db
        .prepare(
          `UPDATE approvals
           SET record = json_set(record, '$.votes',
             json_insert(coalesce(json_extract(record, '$.votes'), json('[]')), '$[#]', json(?)))
           WHERE approval_id = ? AND status = 'pending'
             AND NOT EXISTS (
               SELECT 1 FROM json_each(coalesce(json_extract(record, '$.votes'), json('[]')))
               WHERE json_extract(value, '$.by') = ?)
           RETURNING record`,
        )
        .get(JSON.stringify(vote), approvalId, vote.by),
    );
  }

  async decideApproval(approvalId: string, decision: ApprovalDecisionUpdate): Promise<boolean> {
    const fields = {
      status: decision.status,
      decidedBy: decision.decidedBy,
      decidedAt: decision.decidedAt,
      ...(decision.comment !== undefined ? { comment: decision.comment } : {}),
    };
    // One conditional statement: of two racing decisions exactly one sees `pending`.
    const result = this.db
      .prepare(
        `UPDATE approvals SET status = ?, record = json_patch(record, ?)
         WHERE approval_id = ? AND status = 'pending'`,
      )
      .run(decision.status, JSON.stringify(fields), approvalId);
    return result.changes === 1;
  }

  async setMonitorToken(deploymentId: string, token: string | undefined): Promise<void> {
    if (token === undefined) {
      this.db.prepare('DELETE FROM monitor_tokens WHERE deployment_id = ?').run(deploymentId);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO monitor_tokens (deployment_id, token) VALUES (?, ?)
         ON CONFLICT (deployment_id) DO UPDATE SET token = excluded.token`,
      )
      .run(deploymentId, token);
  }

  async getMonitorToken(deploymentId: string): Promise<string | undefined> {
    const row = this.db.prepare('SELECT token FROM monitor_tokens WHERE deployment_id = ?').get(deploymentId);
    return row ? String(row.token) : undefined;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    this.db
      .prepare('INSERT INTO audit (deployment_id, at, entry) VALUES (?, ?, ?)')
      .run(entry.deploymentId, entry.at, JSON.stringify(entry));
  }

  async listAudit(deploymentId: string): Promise<AuditEntry[]> {
    return this.db
      .prepare('SELECT entry FROM audit WHERE deployment_id = ? ORDER BY seq')
      .all(deploymentId)
      .map((row) => parse<AuditEntry>(row, 'entry') as AuditEntry);
  }

  private readDeployment(deploymentId: string): DeploymentRecord | undefined {
    return parse<DeploymentRecord>(
      this.db.prepare('SELECT record FROM deployments WHERE deployment_id = ?').get(deploymentId),
      'record',
    );
  }
}
