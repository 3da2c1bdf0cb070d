import {
  dialectOf,
  guardStatement,
  redact,
  SqlCheckRunner,
  type SqlConnection,
  type SqlConnector,
  type SqlDialect,
} from '../../../functions/shared/adapters/sql-check-runner.js';
import { type Check, type SqlCheck, SqlCheckSchema } from '../../../functions/shared/config/schema.js';
import { BadRequestError } from '../../../functions/shared/errors.js';
import { describeSqlExpectations } from '../../../functions/shared/sql-expectations.js';

const URL_PG = 'postgres://app:hunter2-pass@db.internal:5432/notifications';

/** A connector that answers every statement with `rows`, or fails where told; records what it was asked. */
class FakeDatabase {
  readonly connects: { url: string; dialect: SqlDialect; timeoutMs: number }[] = [];
  readonly statements: { statement: string; timeoutMs: number }[] = [];
  closed = 0;
  rows: unknown[][] = [];
  connectError?: Error;
  readError?: Error;
  connect: SqlConnector = async (url, dialect, timeoutMs) => {
    this.connects.push({ url, dialect, timeoutMs });
    if (this.connectError) throw this.connectError;
    const connection: SqlConnection = {
      read: async (statement, ms) => {
        this.statements.push({ statement, timeoutMs: ms });
        if (this.readError) throw this.readError;
        return this.rows;
      },
      close: async () => {
        this.closed += 1;
      },
    };
    return connection;
  };
}

const check = (overrides: Record<string, unknown> = {}): SqlCheck =>
  SqlCheckSchema.parse({
    name: 'Latest migration applied',
    kind: 'sql',
    url_env: 'NOTIFICATIONS_DB_URL',
    query: 'SELECT version FROM schema_migrations ORDER BY version DESC LIMIT 1',
    ...overrides,
  });

const runnerWith = (db: FakeDatabase, env: Record<string, string> = { NOTIFICATIONS_DB_URL: URL_PG }) =>
  new SqlCheckRunner({ env: (name) => env[name], connect: db.connect });

describe('guardStatement', () => {
  it.each([
    ['a SELECT', 'SELECT version FROM schema_migrations ORDER BY version DESC LIMIT 1'],
    ['a SELECT with a trailing ; and comment', 'select count(*) from notifications; -- no data lost'],
    ['a WITH', 'WITH latest AS (SELECT max(version) v FROM schema_migrations) SELECT v FROM latest'],
    ['a parenthesised UNION', '(SELECT 1) UNION (SELECT 2)'],
    ['a SHOW', 'SHOW server_version'],
    ['; and write words inside a string', "SELECT count(*) FROM audit WHERE action = 'DELETE; DROP'"],
    ['write words as quoted identifiers', 'SELECT "update", "into" FROM "delete"'],
    ['a dollar-quoted string with ;', 'SELECT $tag$ a; DELETE $tag$ AS text'],
    ['an E-string with an escaped quote', "SELECT E'it\\'s; fine'"],
    ['a -- comment right after a value (PostgreSQL comments out the rest)', 'SELECT 1--; DROP TABLE x'],
    ['a nested block comment', 'SELECT 1 /* outer /* inner; */ still comment; */'],
    ['column names that contain write words', 'SELECT updated_at, created_by, deleted FROM notifications'],
  ])('accepts %s (PostgreSQL)', (_title, sql) => {
    // Act
    const guarded = guardStatement(sql, 'postgresql');

    // Assess
    expect(guarded).toHaveProperty('statement');
  });

  it.each([
    ['a SHOW INDEX', 'SHOW INDEX FROM notifications WHERE Key_name = "notifications_user_id_idx"'],
    ['a # comment', 'SELECT 1 # a comment; DROP TABLE x\n'],
    ['a backslash-escaped quote', "SELECT 'it\\'s; fine'"],
    ['backquoted write words', 'SELECT `update` FROM `delete`'],
    ['SHOW CREATE TABLE', 'SHOW CREATE TABLE notifications'],
  ])('accepts %s (MySQL)', (_title, sql) => {
    // Act
    const guarded = guardStatement(sql, 'mysql');

    // Assess
    expect(guarded).toHaveProperty('statement');
  });

  it('drops a trailing ; and keeps the rest of the statement as written', () => {
    // Act
    const guarded = guardStatement('  SELECT 1 ;  -- done\n', 'mysql');

    // Assess
    expect(guarded).toEqual({ statement: 'SELECT 1' });
  });

  it.each([
    ['two statements', 'SELECT 1; SELECT 2', 'a check runs one statement; the query has a ; before its end'],
    ['a write hidden after a statement', 'SELECT 1; DELETE FROM notifications', 'a check runs one statement'],
    ['an INSERT', 'INSERT INTO notifications (id) VALUES (1)', 'not INSERT'],
    ['an UPDATE', "update users set admin = true where name = 'me'", 'not UPDATE'],
    ['a DROP', 'DROP TABLE notifications', 'not DROP'],
    ['EXPLAIN ANALYZE (it executes)', 'EXPLAIN ANALYZE DELETE FROM notifications', 'not EXPLAIN'],
    [
      'a data-modifying WITH',
      'WITH gone AS (DELETE FROM notifications RETURNING *) SELECT count(*) FROM gone',
      'DELETE is not allowed',
    ],
    ['SELECT … INTO', 'SELECT * INTO backup FROM notifications', 'INTO is not allowed'],
    ['row locks', 'SELECT * FROM notifications FOR UPDATE', 'UPDATE is not allowed'],
    ['shared row locks', 'SELECT * FROM notifications FOR SHARE', 'FOR SHARE is not allowed'],
    ['an empty query', '  ;  ', 'the query is empty'],
    ['an unterminated string', "SELECT 'oops", 'unterminated quote or comment'],
    ['an unterminated comment', 'SELECT 1 /* oops', 'unterminated quote or comment'],
  ])('refuses %s (PostgreSQL)', (_title, sql, reason) => {
    // Act
    const guarded = guardStatement(sql, 'postgresql');

    // Assess
    expect(guarded).toHaveProperty('problem');
    expect((guarded as { problem: string }).problem).toContain(reason);
  });

  it.each([
    ['an executable comment', 'SELECT 1 /*!50000 INTO OUTFILE "/tmp/x" */', 'executable comments'],
    ['INTO OUTFILE', "SELECT * FROM users INTO OUTFILE '/tmp/users.csv'", 'INTO is not allowed'],
    [
      'LOCK IN SHARE MODE',
      'SELECT * FROM notifications LOCK IN SHARE MODE',
      'LOCK IN SHARE MODE is not allowed',
    ],
    [
      '--1 (minus minus one, not a comment) before a second statement',
      'SELECT 1--1; DELETE FROM x',
      'one statement',
    ],
    ['REPLACE INTO', 'REPLACE INTO notifications VALUES (1)', 'not REPLACE'],
  ])('refuses %s (MySQL)', (_title, sql, reason) => {
    // Act
    const guarded = guardStatement(sql, 'mysql');

    // Assess
    expect((guarded as { problem: string }).problem).toContain(reason);
  });
});

describe('dialectOf and redact', () => {
  it('reads the dialect from the URL scheme', () => {
    // Act
    const dialects = [
      'postgres://h/d',
      'postgresql://h/d',
      'mysql://h/d',
      'MariaDB://h/d',
      'sqlite://x',
      'h:5432',
    ].map(dialectOf);

    // Assess
    expect(dialects).toEqual(['postgresql', 'postgresql', 'mysql', 'mysql', undefined, undefined]);
  });

  it('takes the URL, its password (raw and decoded) and any user:password@ out of a text', () => {
    // Prepare
    const url = 'mysql://app:p%40ss%3Aword@db:3306/app';

    // Act
    const text = redact(
      `failed for ${url}; password p%40ss%3Aword / p@ss:word; other mysql://u:other-secret@h/x`,
      url,
    );

    // Assess
    expect(text).toBe('failed for ***; password *** / ***; other mysql://***@h/x');
  });
});

describe('SqlCheckRunner', () => {
  it('passes when the first value equals expect, comparing big integers exactly', async () => {
    // Prepare
    const db = new FakeDatabase();
    db.rows = [['20261127093000']];

    // Act
    const result = await runnerWith(db).run(check({ expect: 20261127093000 }));

    // Assess
    expect(result).toMatchObject({ name: 'Latest migration applied', kind: 'sql', passed: true });
    expect(result.detail).toMatch(/^1 row in \d+ ms, value=20261127093000$/);
    expect(db.connects).toEqual([{ url: URL_PG, dialect: 'postgresql', timeoutMs: 10_000 }]);
    expect(db.closed).toBe(1);
  });

  it('fails a value that misses its comparison, naming expected and actual', async () => {
    // Prepare
    const db = new FakeDatabase();
    db.rows = [['20261120000000']];

    // Act
    const result = await runnerWith(db).run(check({ expect: { op: '>=', value: '20261127000000' } }));

    // Assess
    expect(result.passed).toBe(false);
    expect(result.detail).toMatch(/^1 row in \d+ ms, value=20261120000000, expected >= 20261127000000$/);
  });

  it.each([
    [{ op: '=', value: 3 }, '3', true],
    [{ op: '!=', value: 3 }, '3', false],
    [{ op: '<', value: 10 }, '9.5', true],
    [{ op: '<=', value: '1e3' }, '1000', true],
    [{ op: '>', value: 2 }, '10', true],
    [{ op: '>=', value: 'b' }, 'a', false],
    [true, '1', true],
    [true, 'true', true],
    [false, 't', false],
    ['healthy', 'healthy', true],
    [5, null, false],
  ])('judges expect %j against %j as %s', async (expectation, value, passed) => {
    // Prepare
    const db = new FakeDatabase();
    db.rows = [[value]];

    // Act
    const result = await runnerWith(db).run(check({ expect: expectation }));

    // Assess
    expect(result.passed).toBe(passed);
  });

  it('shows SQL NULL as NULL and fails any expectation on it', async () => {
    // Prepare
    const db = new FakeDatabase();
    db.rows = [[null]];

    // Act
    const result = await runnerWith(db).run(check({ expect: { op: '!=', value: 0 } }));

    // Assess
    expect(result.detail).toMatch(/value=NULL, expected != 0$/);
  });

  it('judges the row count with expect_rows, as a number or a comparison', async () => {
    // Prepare
    const db = new FakeDatabase();
    db.rows = [];

    // Act
    const none = await runnerWith(db).run(check({ expect_rows: { op: '>=', value: 1 } }));
    db.rows = [['a'], ['b']];
    const two = await runnerWith(db).run(check({ expect_rows: 2 }));

    // Assess
    expect(none.passed).toBe(false);
    expect(none.detail).toMatch(/^0 rows in \d+ ms, expected rows >= 1$/);
    expect(two.passed).toBe(true);
  });

  it('fails expect on an empty result with "no row"', async () => {
    // Prepare
    const db = new FakeDatabase();

    // Act
    const result = await runnerWith(db).run(check({ expect: 1 }));

    // Assess
    expect(result.detail).toMatch(/^0 rows in \d+ ms, no row, expected 1$/);
  });

  it('compares a count with the baseline for expect_not_less_than_before', async () => {
    // Prepare
    const db = new FakeDatabase();
    const counted = check({ query: 'SELECT COUNT(*) FROM notifications', expect_not_less_than_before: true });
    const runner = runnerWith(db);

    // Act
    db.rows = [[1520]];
    const grown = await runner.run(counted, { baseline: '1500' });
    db.rows = [[1490]];
    const dropped = await runner.run(counted, { baseline: '1500' });
    const unknown = await runner.run(counted);

    // Assess
    expect(grown.passed).toBe(true);
    expect(grown.detail).toMatch(/value=1520, before=1500$/);
    expect(dropped.passed).toBe(false);
    expect(dropped.detail).toMatch(/value=1490, expected >= 1500 \(the value before the deploy\)$/);
    expect(unknown.passed).toBe(false);
    expect(unknown.detail).toContain('no value from before the deploy to compare with');
  });

  it('passes a check without expectations when its query runs', async () => {
    // Prepare
    const db = new FakeDatabase();
    db.rows = [['42']];

    // Act
    const result = await runnerWith(db).run(check());

    // Assess
    expect(result.passed).toBe(true);
    expect(result.detail).toMatch(/^1 row in \d+ ms, value=42$/);
  });

  it('refuses a write statement without connecting', async () => {
    // Prepare
    const db = new FakeDatabase();

    // Act
    const result = await runnerWith(db).run(check({ query: 'DELETE FROM schema_migrations' }));

    // Assess
    expect(result).toMatchObject({
      passed: false,
      detail: 'refused: a check runs a single SELECT, WITH or SHOW statement, not DELETE',
    });
    expect(db.connects).toHaveLength(0);
  });

  it('fails a connection without the URL or the password in the detail', async () => {
    // Prepare
    const db = new FakeDatabase();
    db.connectError = new Error(`could not connect to ${URL_PG}: password hunter2-pass rejected`);

    // Act
    const result = await runnerWith(db).run(check());

    // Assess
    expect(result.passed).toBe(false);
    expect(result.detail).toBe(
      'cannot connect to PostgreSQL (NOTIFICATIONS_DB_URL): could not connect to ***: password *** rejected',
    );
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });

  it('uses the error code when a driver error has no message', async () => {
    // Prepare
    const db = new FakeDatabase();
    db.connectError = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' });

    // Act
    const result = await runnerWith(db).run(check());

    // Assess
    expect(result.detail).toBe('cannot connect to PostgreSQL (NOTIFICATIONS_DB_URL): ECONNREFUSED');
  });

  it('fails a query error with the reason and closes the connection', async () => {
    // Prepare
    const db = new FakeDatabase();
    db.readError = new Error('relation "schema_migrations" does not exist');

    // Act
    const result = await runnerWith(db).run(check());

    // Assess
    expect(result).toMatchObject({
      passed: false,
      detail: 'query failed: relation "schema_migrations" does not exist',
    });
    expect(db.closed).toBe(1);
  });

  it('bounds the statement by the check timeout and by the time left of the verification', async () => {
    // Prepare
    const db = new FakeDatabase();
    const runner = runnerWith(db);

    // Act
    await runner.run(check({ timeout: '30s' }));
    await runner.run(check({ timeout: '30s' }), { timeoutMs: 4000 });
    const spent = await runner.run(check(), { timeoutMs: 0 });

    // Assess
    expect(db.connects.map((c) => c.timeoutMs)).toEqual([30_000, 4000]);
    expect(db.statements.every((s) => s.timeoutMs <= 30_000)).toBe(true);
    expect(db.statements[1]?.timeoutMs).toBeLessThanOrEqual(4000);
    expect(spent).toMatchObject({
      passed: false,
      detail: 'not run: no time left of the verification_timeout',
    });
  });

  it('names the variable when url_env is not set, and a URL of another database without showing it', async () => {
    // Prepare
    const db = new FakeDatabase();

    // Act
    const unset = await runnerWith(db, {}).run(check());
    const sqlite = await runnerWith(db, { NOTIFICATIONS_DB_URL: 'sqlite://user:pw@/tmp/x.db' }).run(check());

    // Assess
    expect(unset.detail).toBe('NOTIFICATIONS_DB_URL is not set (url_env): no database URL to connect to');
    expect(sqlite.detail).toBe(
      'NOTIFICATIONS_DB_URL does not hold a postgres://, postgresql://, mysql:// or mariadb:// URL',
    );
    expect(db.connects).toHaveLength(0);
  });

  it('reads url_secret through the secret lookup, and says so when the runtime has none', async () => {
    // Prepare
    const db = new FakeDatabase();
    db.rows = [['1']];
    const secretCheck = check({ url_env: undefined, url_secret: 'prod/notifications-db' });
    const withSecrets = new SqlCheckRunner({
      connect: db.connect,
      secret: async (id) => (id === 'prod/notifications-db' ? 'mariadb://ro:pw@db:3306/app' : undefined),
    });

    // Act
    const read = await withSecrets.run(secretCheck);
    const local = await new SqlCheckRunner({ connect: db.connect }).run(secretCheck);

    // Assess
    expect(read.passed).toBe(true);
    expect(db.connects[0]).toMatchObject({ dialect: 'mysql' });
    expect(local.detail).toBe(
      'url_secret needs Secrets Manager, which this runtime does not read; use url_env here',
    );
  });

  it('connects with url_env when the variable is set and with url_secret otherwise', async () => {
    // Prepare: one check for both runtimes, as the local runtime and a Lambda see it
    const db = new FakeDatabase();
    db.rows = [['1']];
    const both = check({ url_secret: 'prod/notifications-db' });
    const looked: string[] = [];
    const secret = async (id: string) => {
      looked.push(id);
      return id === 'prod/notifications-db' ? 'mariadb://ro:pw@db:3306/app' : undefined;
    };
    const local = new SqlCheckRunner({
      env: (name) => ({ NOTIFICATIONS_DB_URL: URL_PG })[name],
      secret,
      connect: db.connect,
    });
    const lambda = new SqlCheckRunner({ env: () => undefined, secret, connect: db.connect });

    // Act
    const fromVariable = await local.run(both);
    const fromSecret = await lambda.run(both);

    // Assess
    expect([fromVariable.passed, fromSecret.passed]).toEqual([true, true]);
    expect(db.connects.map((c) => c.url)).toEqual([URL_PG, 'mariadb://ro:pw@db:3306/app']);
    expect(looked).toEqual(['prod/notifications-db']);
  });

  it('names the secret a URL came from, and both sources when neither yields one', async () => {
    // Prepare
    const db = new FakeDatabase();
    const both = check({ url_secret: 'prod/notifications-db' });
    const lambda = (secret: (id: string) => Promise<string | undefined>) =>
      new SqlCheckRunner({ env: () => undefined, secret, connect: db.connect });

    // Act
    const sqlite = await lambda(async () => 'sqlite:///tmp/x.db').run(both);
    const empty = await lambda(async () => undefined).run(both);
    const denied = await lambda(async () => {
      throw Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
    }).run(both);
    const local = await new SqlCheckRunner({ env: () => undefined, connect: db.connect }).run(both);

    // Assess
    expect(sqlite.detail).toBe(
      'secret prod/notifications-db does not hold a postgres://, postgresql://, mysql:// or mariadb:// URL',
    );
    expect(empty.detail).toBe('secret prod/notifications-db (url_secret) holds no database URL');
    expect(denied.detail).toBe(
      'cannot read secret prod/notifications-db (url_secret): AccessDeniedException',
    );
    expect(local.detail).toBe(
      'NOTIFICATIONS_DB_URL is not set (url_env), and url_secret needs Secrets Manager, which this runtime does not read: set NOTIFICATIONS_DB_URL',
    );
    expect(db.connects).toHaveLength(0);
  });

  it('takes the baseline only for checks that compare with it', async () => {
    // Prepare
    const db = new FakeDatabase();
    db.rows = [['1500']];
    const runner = runnerWith(db);

    // Act
    const counted = await runner.baseline(check({ name: 'Count', expect_not_less_than_before: true }));
    const plain = await runner.baseline(check());
    db.rows = [];
    const empty = await runner.baseline(check({ name: 'Count', expect_not_less_than_before: true }));

    // Assess
    expect(counted).toEqual({ name: 'Count', value: '1500', detail: 'value=1500 before the deploy' });
    expect(plain).toBeUndefined();
    expect(empty).toEqual({ name: 'Count', detail: 'the query returned no value before the deploy' });
  });

  it('throws BadRequestError for a check of another kind', async () => {
    // Prepare
    const http = { name: 'Health', kind: 'http', url: 'https://x/health' } as Check;

    // Act
    const run = new SqlCheckRunner().run(http);

    // Assess
    await expect(run).rejects.toThrow(BadRequestError);
  });
});

describe('SqlCheckSchema', () => {
  it('keeps an existing check valid and fills the defaults', () => {
    // Act
    const parsed = SqlCheckSchema.parse({ name: 'Rows', kind: 'sql', url_env: 'DB', query: 'SELECT 1' });

    // Assess
    expect(parsed).toEqual({
      name: 'Rows',
      kind: 'sql',
      url_env: 'DB',
      query: 'SELECT 1',
      expect_not_less_than_before: false,
      timeout: 10,
      retries: 2,
      retry_interval: 1,
    });
  });

  it('takes url_env, url_secret or both, and refuses neither saying what to add', () => {
    // Act
    const parse = (urls: Record<string, string>) =>
      SqlCheckSchema.safeParse({ name: 'Rows', kind: 'sql', query: 'SELECT 1', ...urls });
    const neither = parse({});
    const variable = parse({ url_env: 'DB' });
    const secret = parse({ url_secret: 'prod/db-url' });
    const both = parse({ url_env: 'DB', url_secret: 'prod/db-url' });

    // Assess
    expect([variable.success, secret.success]).toEqual([true, true]);
    expect(both.data).toMatchObject({ url_env: 'DB', url_secret: 'prod/db-url' });
    expect(neither.success).toBe(false);
    expect(neither.error?.issues).toEqual([
      expect.objectContaining({
        path: ['url_env'],
        message:
          'no connection URL: add url_env (the environment variable holding it, for the local runtime) and/or url_secret (the Secrets Manager secret holding it, needed on AWS)',
      }),
    ]);
  });

  it('describes the expectations for the plan', () => {
    // Act
    const text = describeSqlExpectations(
      check({ expect: { op: '>=', value: 20261127 }, expect_rows: 1, expect_not_less_than_before: true }),
    );

    // Assess
    expect(text).toBe('>= 20261127, rows = 1, not below the value before the deploy');
  });
});
