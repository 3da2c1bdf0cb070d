import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type * as Sqlite from 'node:sqlite';

export type Database = Sqlite.DatabaseSync;

/**
 * The schema of the local runtime's SQLite file, in order. A migration is never edited once released: add
 * one at the end. `PRAGMA user_version` records how many have been applied.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE deployments (
    deployment_id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    record TEXT NOT NULL
  );
  CREATE INDEX deployments_by_task ON deployments (task_id, created_at);
  CREATE INDEX deployments_by_service ON deployments (service, created_at);
  CREATE INDEX deployments_by_created ON deployments (created_at);

  CREATE TABLE locks (
    lock_key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  CREATE TABLE lock_waiters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    lock_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    UNIQUE (lock_key, owner)
  );

  CREATE TABLE approvals (
    approval_id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
  );
  CREATE INDEX approvals_by_deployment ON approvals (deployment_id, created_at);

  CREATE TABLE monitor_tokens (
    deployment_id TEXT PRIMARY KEY,
    token TEXT NOT NULL
  );

  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id TEXT NOT NULL,
    at TEXT NOT NULL,
    entry TEXT NOT NULL
  );
  CREATE INDEX audit_by_deployment ON audit (deployment_id, seq);

  CREATE TABLE tasks (
    task_id TEXT PRIMARY KEY,
    list_id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX tasks_by_list_status ON tasks (list_id, status COLLATE NOCASE);

  CREATE TABLE comments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    comment_id TEXT NOT NULL UNIQUE,
    task_id TEXT NOT NULL,
    text TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX comments_by_task ON comments (task_id, seq);

  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mail_id TEXT NOT NULL UNIQUE,
    sent_at TEXT NOT NULL,
    message TEXT NOT NULL
  );
  `,
  // FIFO locks: a waiter's place lasts while it keeps asking (LOCK_WAITER_TTL_MS); '' = not seen since
  `
  ALTER TABLE lock_waiters ADD COLUMN seen_at TEXT NOT NULL DEFAULT '';
  `,
];

let sqlite: typeof Sqlite | undefined;

/** Loads node:sqlite once. Node 22 warns on its first load; that warning is expected here, so it stays off stderr. */
const loadSqlite = (): typeof Sqlite => {
  if (sqlite) return sqlite;
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.includes('SQLite is an experimental feature')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    sqlite = createRequire(import.meta.url)('node:sqlite') as typeof Sqlite;
    return sqlite;
  } finally {
    process.emitWarning = emitWarning;
  }
};

/** Runs `fn` in one write transaction (BEGIN IMMEDIATE: other processes wait on `busy_timeout`, never interleave). */
export const transaction = <T>(db: Database, fn: () => T): T => {
  if (db.isTransaction) return fn();
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
};

const migrate = (db: Database): void => {
  transaction(db, () => {
    const row = db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined;
    const applied = row?.user_version ?? 0;
    if (applied > MIGRATIONS.length) {
      throw new Error(
        `the database is at schema version ${applied}, newer than this devops-agent (${MIGRATIONS.length}); upgrade devops-agent or use another --data-dir`,
      );
    }
    for (const [index, sql] of MIGRATIONS.entries()) {
      if (index < applied) continue;
      db.exec(sql);
    }
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
  });
};

export interface OpenDatabaseOptions {
  /** how long a writer waits for another process's lock before failing (ms) */
  busyTimeoutMs?: number;
}

/**
 * Opens (and creates, with its folder) the local runtime's SQLite file in WAL mode and brings its schema up to
 * date. `:memory:` gives a private in-memory database for tests.
 */
export const openDatabase = (path: string, options: OpenDatabaseOptions = {}): Database => {
  const { DatabaseSync } = loadSqlite();
  const memory = path === ':memory:';
  const file = memory ? path : resolve(path);
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? 5000))}`);
    if (!memory) db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
};

/**
 * Opens an existing database file for reading only, as a dry run needs it: no folder or file created, no
 * schema migration (a write), and `query_only` so any write fails. Throws when the file's schema is not the
 * one this version writes, saying which way it is off. A normal (not read-only) connection still removes its
 * WAL files on close, as a read-only one could not.
 */
export const openDatabaseForReading = (file: string, options: OpenDatabaseOptions = {}): Database => {
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(resolve(file));
  try {
    db.exec('PRAGMA query_only = ON');
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? 5000))}`);
    const row = db.prepare('PRAGMA user_version').get() as { user_version?: number } | undefined;
    const version = row?.user_version ?? 0;
    if (version !== MIGRATIONS.length) throw new SchemaVersionError(version, MIGRATIONS.length);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
};

/** The file's schema is not the one this version of devops-agent writes. */
export class SchemaVersionError extends Error {
  constructor(
    readonly found: number,
    readonly expected: number,
  ) {
    super(
      found === 0
        ? 'not a devops-agent database'
        : found < expected
          ? `written by an older devops-agent (schema ${found}, this one writes ${expected})`
          : `written by a newer devops-agent (schema ${found}, this one knows ${expected})`,
    );
    this.name = new.target.name;
  }
}
