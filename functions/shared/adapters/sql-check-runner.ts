import type { Check, SqlCheck } from '../config/schema.js';
import { BadRequestError } from '../errors.js';
import type { CheckResult } from '../ports/deployment-store.js';
import type { CheckBaseline, CheckRunner, CheckRunOptions, SecretLookup } from '../ports/step-runner.js';
import { judgeSqlRows, sqlText } from '../sql-expectations.js';

export type SqlDialect = 'postgresql' | 'mysql';

/** One open connection to the database a check reads, whatever the driver. */
export interface SqlConnection {
  /** Runs one statement in a read-only transaction that is rolled back; rows as arrays of column values. */
  read(statement: string, timeoutMs: number): Promise<unknown[][]>;
  close(): Promise<void>;
}

export type SqlConnector = (url: string, dialect: SqlDialect, timeoutMs: number) => Promise<SqlConnection>;

export interface SqlCheckRunnerOptions {
  /** reads the environment variable a check's `url_env` names */
  env?: (name: string) => string | undefined;
  /** reads the secret a check's `url_secret` names (Secrets Manager on AWS); without it `url_secret` fails */
  secret?: SecretLookup;
  /** opens connections; default the `pg` and `mysql2` drivers */
  connect?: SqlConnector;
}

/** time a driver gets beyond the statement timeout to report it before the runner stops waiting */
const GRACE_MS = 2000;

/** The dialect a connection URL speaks, from its scheme; undefined for anything else. */
export const dialectOf = (url: string): SqlDialect | undefined => {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgresql';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  return undefined;
};

const blank = (text: string): string => text.replace(/[^\n]/g, ' ');

/**
 * The statement with its string literals, quoted identifiers and comments blanked out (same length, so
 * positions match the original), in the dialect's lexical rules; a string when it cannot be read.
 */
const codeOf = (sql: string, dialect: SqlDialect): { code: string } | { problem: string } => {
  let code = '';
  let i = 0;
  const unterminated = { problem: 'the query has an unterminated quote or comment' };
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    const lineComment =
      (c === '-' && next === '-' && (dialect === 'postgresql' || /^(\s|$)/.test(sql[i + 2] ?? ''))) ||
      (c === '#' && dialect === 'mysql');
    if (lineComment) {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      code += blank(sql.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      if (dialect === 'mysql' && sql[i + 2] === '!') {
        return { problem: 'MySQL executable comments (/*! … */) are not allowed in a check' };
      }
      let depth = 1;
      let j = i + 2;
      while (j < sql.length && depth > 0) {
        // PostgreSQL nests block comments, MySQL does not
        if (dialect === 'postgresql' && sql.startsWith('/*', j)) {
          depth += 1;
          j += 2;
        } else if (sql.startsWith('*/', j)) {
          depth -= 1;
          j += 2;
        } else j += 1;
      }
      if (depth > 0) return unterminated;
      code += blank(sql.slice(i, j));
      i = j;
      continue;
    }
    const quote =
      c === "'" || (c === '"' && dialect === 'mysql')
        ? 'string'
        : c === '"' || c === '`'
          ? 'identifier'
          : undefined;
    if (quote && (c !== '`' || dialect === 'mysql')) {
      const backslashes =
        quote === 'string' &&
        (dialect === 'mysql' || (/[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? '')));
      let j = i + 1;
      let closed = false;
      while (j < sql.length) {
        if (backslashes && sql[j] === '\\') j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) {
          closed = true;
          j += 1;
          break;
        } else j += 1;
      }
      if (!closed) return unterminated;
      code += blank(sql.slice(i, j));
      i = j;
      continue;
    }
    if (c === '$' && dialect === 'postgresql' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))?.[0];
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        if (end === -1) return unterminated;
        code += blank(sql.slice(i, end + tag.length));
        i = end + tag.length;
        continue;
      }
    }
    code += c;
    i += 1;
  }
  return { code };
};

const WRITES = /\b(INSERT|UPDATE|DELETE|MERGE|UPSERT|TRUNCATE|DROP|ALTER|CREATE|GRANT|REVOKE|INTO|COPY)\b/i;
const LOCKS = /\bFOR\s+(KEY\s+)?SHARE\b|\bLOCK\s+IN\s+SHARE\s+MODE\b/i;

/**
 * Checks that a check's query is one SELECT, WITH or SHOW statement that neither writes nor locks (no
 * INSERT/UPDATE/DELETE in a WITH, no SELECT … INTO, no FOR UPDATE/SHARE); returns the statement to send
 * (a trailing `;` dropped) or the reason it is refused. A guard for readable errors and for what a
 * read-only transaction lets through (INTO OUTFILE, row locks); the read-only transaction is the other half.
 */
export const guardStatement = (
  sql: string,
  dialect: SqlDialect,
): { statement: string } | { problem: string } => {
  const read = codeOf(sql, dialect);
  if ('problem' in read) return read;
  let { code } = read;
  let statement = sql;
  const last = code.trimEnd();
  if (last.endsWith(';')) {
    statement = sql.slice(0, last.length - 1);
    code = code.slice(0, last.length - 1);
  }
  if (code.trim() === '') return { problem: 'the query is empty' };
  if (code.includes(';')) return { problem: 'a check runs one statement; the query has a ; before its end' };
  const first = /^[\s(]*([A-Za-z]+)/.exec(code)?.[1]?.toUpperCase();
  if (first !== 'SELECT' && first !== 'WITH' && first !== 'SHOW') {
    return { problem: `a check runs a single SELECT, WITH or SHOW statement, not ${first ?? 'this'}` };
  }
  if (first !== 'SHOW') {
    const write = WRITES.exec(code)?.[1];
    if (write) return { problem: `a check only reads; ${write.toUpperCase()} is not allowed` };
    const lock = LOCKS.exec(code)?.[0];
    if (lock) return { problem: `a check takes no locks; ${lock.toUpperCase()} is not allowed` };
  }
  return { statement: statement.trim() };
};

/**
 * The text with the connection URL, its password and any `scheme://user:password@` taken out: driver
 * messages may quote what they were given, and details end up in comments and the record.
 */
export const redact = (text: string, url: string): string => {
  const secrets = new Set<string>([url]);
  try {
    const parsed = new URL(url);
    for (const value of [
      parsed.password,
      decodeURIComponent(parsed.password),
      parsed.searchParams.get('password') ?? '',
      parsed.searchParams.get('sslpassword') ?? '',
    ]) {
      if (value) secrets.add(value);
    }
  } catch {
    // not a URL the parser reads: the whole text is still taken out
  }
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
};

const reasonOf = (error: unknown): string => {
  const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
  if (typeof message === 'string' && message.trim()) return message.trim();
  // Node's AggregateError (both ::1 and 127.0.0.1 refused) has an empty message and only a code
  if (typeof code === 'string') return code;
  return String(error);
};

/** Waits for `work` at most `ms`; `abandon` gets what it resolves to if that is too late (to close it). */
const within = async <T>(work: Promise<T>, ms: number, abandon?: (value: T) => void): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new Error(`no answer within ${Math.round(ms)} ms`));
    }, ms);
  });
  work.then(
    (value) => {
      if (late) abandon?.(value);
    },
    () => undefined,
  );
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
};

const connectPostgres = async (url: string, timeoutMs: number): Promise<SqlConnection> => {
  // loaded on first use: every function builds its ports, only verification opens a connection
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: Math.max(1, Math.round(timeoutMs)),
    statement_timeout: Math.max(1, Math.round(timeoutMs)),
    application_name: 'devops-agent verification',
  });
  // a connection the server drops after the check must not take the process down
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return {
    read: async (statement, ms) => {
      await client.query('BEGIN TRANSACTION READ ONLY');
      try {
        await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(ms))}`);
        // the extended protocol refuses a second statement, whatever the guard missed
        const query = { text: statement, rowMode: 'array' as const, queryMode: 'extended' };
        const result = await client.query<unknown[]>(query);
        return result.rows;
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
      }
    },
    close: () => client.end(),
  };
};

const connectMysql = async (url: string, timeoutMs: number): Promise<SqlConnection> => {
  const { default: mysql } = await import('mysql2/promise');
  const connection = await mysql.createConnection({
    uri: url.replace(/^mariadb:/i, 'mysql:'),
    connectTimeout: Math.max(1, Math.round(timeoutMs)),
    multipleStatements: false,
    // exact big numbers and dates as the server writes them: compared as text, shown as stored
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  });
  connection.on('error', () => undefined);
  return {
    read: async (statement, ms) => {
      const limit = Math.max(1, Math.round(ms));
      // MariaDB and MySQL name the server-side limit differently; the client timeout below covers both
      await connection
        .query(`SET SESSION max_statement_time = ${limit / 1000}`)
        .catch(() => connection.query(`SET SESSION max_execution_time = ${limit}`))
        .catch(() => undefined);
      await connection.query('START TRANSACTION READ ONLY');
      try {
        const [rows] = await connection.query({
          sql: statement,
          rowsAsArray: true,
          timeout: limit + GRACE_MS,
        });
        return Array.isArray(rows) ? (rows as unknown[][]) : [];
      } finally {
        await connection.query('ROLLBACK').catch(() => undefined);
      }
    },
    close: async () => {
      await connection.end().catch(() => connection.destroy());
    },
  };
};

/** Opens a connection with the driver of the dialect: `pg` for PostgreSQL, `mysql2` for MySQL and MariaDB. */
export const connectSql: SqlConnector = (url, dialect, timeoutMs) =>
  dialect === 'postgresql' ? connectPostgres(url, timeoutMs) : connectMysql(url, timeoutMs);

type Read = { rows: unknown[][]; ms: number } | { problem: string };

/**
 * Runs `sql` verification checks against PostgreSQL (`postgres://`, `postgresql://`) or MySQL/MariaDB
 * (`mysql://`, `mariadb://`): one connection per check, one guarded statement in a read-only transaction
 * that is rolled back, bounded by the check's `timeout` and the time left of `verification_timeout`. The URL
 * comes from the variable `url_env` names when it is set, else from the secret `url_secret` names, and never
 * appears in a result.
 * A failing expectation or an unreachable database is an answer (`passed: false`), never a throw.
 *
 * @example
 * const runner = new SqlCheckRunner({ env: (name) => variables[name] });
 * const result = await runner.run(check, { timeoutMs: 30_000 });
 */
export class SqlCheckRunner implements CheckRunner {
  private readonly env: (name: string) => string | undefined;
  private readonly secret: SecretLookup | undefined;
  private readonly connect: SqlConnector;

  constructor(options: SqlCheckRunnerOptions = {}) {
    this.env = options.env ?? (() => undefined);
    this.secret = options.secret;
    this.connect = options.connect ?? connectSql;
  }

  async run(check: Check, options: CheckRunOptions = {}): Promise<CheckResult> {
    const sql = this.sqlCheck(check);
    const started = performance.now();
    const answer = await this.read(sql, options.timeoutMs);
    const durationMs = Math.round(performance.now() - started);
    const base = { name: check.name, kind: check.kind, durationMs };
    if ('problem' in answer) return { ...base, passed: false, detail: answer.problem };
    return { ...base, ...judgeSqlRows(sql, answer.rows, answer.ms, options.baseline) };
  }

  /** The value `expect_not_less_than_before` compares with: the first value, read before the deploy. */
  async baseline(
    check: Check,
    options: Pick<CheckRunOptions, 'timeoutMs'> = {},
  ): Promise<CheckBaseline | undefined> {
    const sql = this.sqlCheck(check);
    if (!sql.expect_not_less_than_before) return undefined;
    const answer = await this.read(sql, options.timeoutMs);
    if ('problem' in answer) return { name: check.name, detail: answer.problem };
    const value = answer.rows.length > 0 ? sqlText(answer.rows[0]?.[0]) : null;
    if (value === null) return { name: check.name, detail: 'the query returned no value before the deploy' };
    return { name: check.name, value, detail: `value=${value} before the deploy` };
  }

  private sqlCheck(check: Check): SqlCheck {
    if (check.kind !== 'sql') {
      throw new BadRequestError(`SqlCheckRunner runs sql checks, not ${check.kind} ("${check.name}")`);
    }
    return check;
  }

  /**
   * The variable first, then the secret: one check with both serves the local runtime (the variable is set
   * there) and AWS (no such variable in a Lambda, so the secret is read). `source` names where the URL came
   * from, never the URL.
   */
  private async url(check: SqlCheck): Promise<{ url: string; source: string } | { problem: string }> {
    const variable = check.url_env;
    if (variable !== undefined) {
      const url = this.env(variable);
      if (url) return { url, source: variable };
    }
    const id = check.url_secret;
    if (id === undefined) {
      return {
        problem:
          variable === undefined
            ? 'neither url_env nor url_secret is given: no database URL to connect to'
            : `${variable} is not set (url_env): no database URL to connect to`,
      };
    }
    if (!this.secret) {
      return {
        problem:
          variable === undefined
            ? `url_secret needs Secrets Manager, which this runtime does not read; use url_env here`
            : `${variable} is not set (url_env), and url_secret needs Secrets Manager, which this runtime does not read: set ${variable}`,
      };
    }
    try {
      const url = await this.secret(id);
      return url
        ? { url, source: `secret ${id}` }
        : { problem: `secret ${id} (url_secret) holds no database URL` };
    } catch (error) {
      // the SDK's error name says enough (ResourceNotFoundException, AccessDeniedException)
      return { problem: `cannot read secret ${id} (url_secret): ${(error as Error).name ?? 'error'}` };
    }
  }

  private async read(check: SqlCheck, timeLeftMs?: number): Promise<Read> {
    const found = await this.url(check);
    if ('problem' in found) return found;
    const { url, source } = found;
    const dialect = dialectOf(url);
    if (!dialect) {
      return {
        problem: `${source} does not hold a postgres://, postgresql://, mysql:// or mariadb:// URL`,
      };
    }
    const guarded = guardStatement(check.query, dialect);
    if ('problem' in guarded) return { problem: `refused: ${guarded.problem}` };
    const budget = Math.min(check.timeout * 1000, timeLeftMs ?? Number.POSITIVE_INFINITY);
    if (budget <= 0) return { problem: 'not run: no time left of the verification_timeout' };
    const deadline = performance.now() + budget;
    const database = dialect === 'postgresql' ? 'PostgreSQL' : 'MySQL';

    let connection: SqlConnection;
    try {
      connection = await within(this.connect(url, dialect, budget), budget + GRACE_MS, (late) => {
        late.close().catch(() => undefined);
      });
    } catch (error) {
      return { problem: `cannot connect to ${database} (${source}): ${redact(reasonOf(error), url)}` };
    }
    try {
      const left = deadline - performance.now();
      if (left <= 0) return { problem: `connected to ${database} but no time was left for the query` };
      const started = performance.now();
      const rows = await within(connection.read(guarded.statement, left), left + GRACE_MS);
      return { rows, ms: Math.round(performance.now() - started) };
    } catch (error) {
      return { problem: `query failed: ${redact(reasonOf(error), url)}` };
    } finally {
      await within(connection.close(), GRACE_MS).catch(() => undefined);
    }
  }
}
