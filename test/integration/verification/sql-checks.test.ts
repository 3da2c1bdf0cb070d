import mysql from 'mysql2/promise';
import pg from 'pg';
import { SqlCheckRunner } from '../../../functions/shared/adapters/sql-check-runner.js';
import { runChecks, takeBaselines } from '../../../functions/shared/checks.js';
import { type SqlCheck, SqlCheckSchema } from '../../../functions/shared/config/schema.js';
import { FakeClock } from '../../fixtures/fakes.js';
import { databaseOrWarn, MYSQL_URL, POSTGRES_URL } from '../../fixtures/test-databases.js';

/**
 * `sql` verification checks against a real PostgreSQL and a real MariaDB/MySQL: the seed's verification
 * queries (latest schema_migrations version, a row count not dropped, an index present) on a scratch
 * schema (PostgreSQL) or database (MySQL) made like the seed's notifications release, plus what must fail
 * (a missed expectation, a write, a bad connection) and how it says so.
 */

const SCRATCH = `verify_${process.pid}`;
const VERSION = '20261127093000';
const INDEX = 'notifications_user_id_idx';

interface Admin {
  exec(sql: string): Promise<unknown>;
  end(): Promise<void>;
}

interface Target {
  title: string;
  /** the URL the runner connects with (the scratch database for MySQL) */
  url: string;
  admin(): Promise<Admin>;
  setup: string[];
  teardown: string;
  /** table names as the check queries write them */
  table: (name: string) => string;
  indexQuery: (index: string) => string;
  /** a SELECT the guard lets through that writes, which only the read-only transaction stops */
  sneakyWrite: string;
  /** a URL to the same server with a password in it that cannot connect */
  failingUrl: string;
  database: string;
}

const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

const RUN_POSTGRES = databaseOrWarn('postgresql', 'the sql verification checks');
const RUN_MYSQL = databaseOrWarn('mysql', 'the sql verification checks');

const postgresTarget = (url: string): Target => ({
  title: 'PostgreSQL',
  url,
  database: 'PostgreSQL',
  admin: async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return { exec: (sql) => client.query(sql), end: () => client.end() };
  },
  setup: [
    `CREATE SCHEMA ${SCRATCH}`,
    `CREATE TABLE ${SCRATCH}.schema_migrations (version bigint PRIMARY KEY)`,
    `INSERT INTO ${SCRATCH}.schema_migrations VALUES (20261101120000), (${VERSION}), (20261015080000)`,
    `CREATE TABLE ${SCRATCH}.notifications (id serial PRIMARY KEY, user_id int NOT NULL, title text)`,
    `INSERT INTO ${SCRATCH}.notifications (user_id, title) VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
    `CREATE INDEX ${INDEX} ON ${SCRATCH}.notifications (user_id)`,
    `CREATE SEQUENCE ${SCRATCH}.ticket`,
  ],
  teardown: `DROP SCHEMA IF EXISTS ${SCRATCH} CASCADE`,
  table: (name) => `${SCRATCH}.${name}`,
  indexQuery: (index) =>
    `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = '${SCRATCH}' AND tablename = 'notifications' AND indexname = '${index}'`,
  sneakyWrite: `SELECT nextval('${SCRATCH}.ticket')`,
  // nothing listens on port 1; the password must not reach the detail
  failingUrl: (() => {
    const parsed = new URL(url);
    parsed.username = 'verifier';
    parsed.password = 'Sup3r-Secret-pw';
    parsed.port = '1';
    return parsed.toString();
  })(),
});

const mysqlTarget = (url: string): Target => ({
  title: 'MariaDB/MySQL',
  url: withDatabase(url, SCRATCH),
  database: 'MySQL',
  admin: async () => {
    const parsed = new URL(url);
    const connection = await mysql.createConnection({
      host: parsed.hostname,
      port: Number(parsed.port || 3306),
      user: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
    });
    return { exec: (sql) => connection.query(sql), end: () => connection.end() };
  },
  setup: [
    `CREATE DATABASE ${SCRATCH}`,
    `CREATE TABLE ${SCRATCH}.schema_migrations (version bigint PRIMARY KEY)`,
    `INSERT INTO ${SCRATCH}.schema_migrations VALUES (20261101120000), (${VERSION}), (20261015080000)`,
    `CREATE TABLE ${SCRATCH}.notifications (id int AUTO_INCREMENT PRIMARY KEY, user_id int NOT NULL, title text)`,
    `INSERT INTO ${SCRATCH}.notifications (user_id, title) VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
    `CREATE INDEX ${INDEX} ON ${SCRATCH}.notifications (user_id)`,
    `CREATE TABLE ${SCRATCH}.tickets (id int AUTO_INCREMENT PRIMARY KEY)`,
    `CREATE FUNCTION ${SCRATCH}.take_ticket() RETURNS int MODIFIES SQL DATA BEGIN INSERT INTO ${SCRATCH}.tickets VALUES (NULL); RETURN LAST_INSERT_ID(); END`,
  ],
  teardown: `DROP DATABASE IF EXISTS ${SCRATCH}`,
  table: (name) => name,
  indexQuery: (index) =>
    `SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'notifications' AND index_name = '${index}'`,
  sneakyWrite: 'SELECT take_ticket()',
  failingUrl: (() => {
    const parsed = new URL(withDatabase(url, SCRATCH));
    parsed.password = 'Sup3r-Secret-pw';
    return parsed.toString();
  })(),
});

const check = (overrides: Record<string, unknown>): SqlCheck =>
  SqlCheckSchema.parse({ name: 'check', kind: 'sql', url_env: 'DB_URL', query: 'SELECT 1', ...overrides });

const suite = (target: Target) => () => {
  let admin: Admin;
  let runner: SqlCheckRunner;
  const t = target.table;

  beforeAll(async () => {
    admin = await target.admin();
    await admin.exec(target.teardown);
    for (const sql of target.setup) await admin.exec(sql);
    runner = new SqlCheckRunner({
      env: (name) => ({ DB_URL: target.url, BAD_DB_URL: target.failingUrl })[name],
    });
  });

  afterAll(async () => {
    await admin?.exec(target.teardown);
    await admin?.end();
  });

  it('passes the latest schema_migrations version it expects', async () => {
    // Prepare
    const latest = check({
      name: 'Latest migration applied',
      query: `SELECT version FROM ${t('schema_migrations')} ORDER BY version DESC LIMIT 1`,
      expect: Number(VERSION),
    });

    // Act
    const result = await runner.run(latest);

    // Assess
    expect(result).toMatchObject({ name: 'Latest migration applied', kind: 'sql', passed: true });
    expect(result.detail).toMatch(new RegExp(`^1 row in \\d+ ms, value=${VERSION}$`));
  });

  it('fails a version older than expected, naming what it read and what it expected', async () => {
    // Prepare
    const latest = check({
      query: `SELECT version FROM ${t('schema_migrations')} ORDER BY version DESC LIMIT 1`,
      expect: { op: '>=', value: '20261201000000' },
    });

    // Act
    const result = await runner.run(latest);

    // Assess
    expect(result.passed).toBe(false);
    expect(result.detail).toMatch(new RegExp(`value=${VERSION}, expected >= 20261201000000$`));
  });

  it('passes a row count not dropped since before the deploy, and fails once rows are gone', async () => {
    // Prepare
    const count = check({
      name: 'No notifications lost',
      query: `SELECT COUNT(*) FROM ${t('notifications')}`,
      expect_not_less_than_before: true,
      retries: 0,
    });
    const ports = { checks: { sql: runner }, clock: new FakeClock() };
    const before = await takeBaselines([count], 30, ports);
    await admin.exec(`INSERT INTO ${SCRATCH}.notifications (user_id, title) VALUES (4, 'd')`);

    // Act
    const [grown] = await runChecks([count], 30, ports, before.baselines);
    await admin.exec(`DELETE FROM ${SCRATCH}.notifications WHERE user_id >= 3`);
    const [dropped] = await runChecks([count], 30, ports, before.baselines);

    // Assess
    expect(before).toEqual({ baselines: { 'No notifications lost': '3' }, problems: [] });
    expect(grown).toMatchObject({ passed: true });
    expect(grown?.detail).toMatch(/value=4, before=3$/);
    expect(dropped).toMatchObject({ passed: false });
    expect(dropped?.detail).toMatch(/value=2, expected >= 3 \(the value before the deploy\)$/);
  });

  it('finds an index by name in the catalog, and fails for one that is missing', async () => {
    // Act
    const present = await runner.run(
      check({ name: 'Index created', query: target.indexQuery(INDEX), expect: 1 }),
    );
    const missing = await runner.run(
      check({ query: target.indexQuery('notifications_title_idx'), expect: 1 }),
    );

    // Assess
    expect(present).toMatchObject({ passed: true });
    expect(missing.passed).toBe(false);
    expect(missing.detail).toMatch(/value=0, expected 1$/);
  });

  it('refuses a write statement and a write through a function, leaving the data unchanged', async () => {
    // Prepare
    const rows = check({ query: `SELECT COUNT(*) FROM ${t('notifications')}` });
    const before = await runner.run(rows);

    // Act
    const deleting = await runner.run(check({ query: `DELETE FROM ${t('notifications')}` }));
    const hidden = await runner.run(check({ query: `SELECT 1; DELETE FROM ${t('notifications')}` }));
    const sneaky = await runner.run(check({ query: target.sneakyWrite }));
    const after = await runner.run(rows);

    // Assess
    expect(deleting).toMatchObject({ passed: false });
    expect(deleting.detail).toBe('refused: a check runs a single SELECT, WITH or SHOW statement, not DELETE');
    expect(hidden.detail).toBe('refused: a check runs one statement; the query has a ; before its end');
    // the guard lets a SELECT of a writing function through: the read-only transaction refuses it
    expect(sneaky.passed).toBe(false);
    expect(sneaky.detail).toMatch(/^query failed: .*read[- ]only/i);
    expect(after.detail.replace(/in \d+ ms/, '')).toBe(before.detail.replace(/in \d+ ms/, ''));
  });

  it('stops a statement that runs longer than the check timeout', async () => {
    // Prepare
    const slow = check({
      query: target.title === 'PostgreSQL' ? 'SELECT pg_sleep(5)' : 'SELECT SLEEP(5)',
      timeout: '500ms',
    });

    // Act
    const started = Date.now();
    const result = await runner.run(slow);

    // Assess
    expect(result.passed).toBe(false);
    expect(result.detail).toMatch(/^query failed: .*(statement timeout|max_statement_time|interrupted)/i);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('reads the URL from url_secret when the url_env variable is not set, as in a Lambda', async () => {
    // Prepare: the variable is set locally only; the secret lookup stands in for Secrets Manager
    const lambda = new SqlCheckRunner({
      env: () => undefined,
      secret: async (id) => ({ 'prod/db-url': target.url, 'prod/bad-db-url': target.failingUrl })[id],
    });
    const both = (name: string, url_secret: string) =>
      check({
        name,
        url_secret,
        query: `SELECT version FROM ${t('schema_migrations')} ORDER BY version DESC LIMIT 1`,
        expect: Number(VERSION),
      });

    // Act
    const read = await lambda.run(both('Rows', 'prod/db-url'));
    const failed = await lambda.run(both('Unreachable', 'prod/bad-db-url'));

    // Assess
    expect(read).toMatchObject({ passed: true, detail: expect.stringContaining(`value=${VERSION}`) });
    expect(failed.detail).toMatch(
      new RegExp(`^cannot connect to ${target.database} \\(secret prod/bad-db-url\\): .+`),
    );
    expect(JSON.stringify(failed)).not.toContain('Sup3r-Secret-pw');
  });

  it('fails a connection with the reason, without the URL or its password', async () => {
    // Act
    const result = await runner.run(check({ name: 'Unreachable', url_env: 'BAD_DB_URL' }));

    // Assess
    expect(result.passed).toBe(false);
    expect(result.detail).toMatch(new RegExp(`^cannot connect to ${target.database} \\(BAD_DB_URL\\): .+`));
    expect(JSON.stringify(result)).not.toContain('Sup3r-Secret-pw');
    expect(result.detail).not.toContain(target.failingUrl);
  });
};

// without a server the suite is skipped and the placeholder URL is never used
(RUN_POSTGRES ? describe : describe.skip)(
  'sql checks on PostgreSQL',
  suite(postgresTarget(POSTGRES_URL ?? 'postgres://unset/unset')),
);
(RUN_MYSQL ? describe : describe.skip)(
  'sql checks on MariaDB/MySQL',
  suite(mysqlTarget(MYSQL_URL ?? 'mysql://unset/unset')),
);
