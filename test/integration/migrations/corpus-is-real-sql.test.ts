import mysql from 'mysql2/promise';
import pg from 'pg';
import { type CorpusEntry, MIGRATION_CORPUS } from '../../fixtures/migration-corpus.js';
import { databaseOrWarn, MYSQL_URL, POSTGRES_URL } from '../../fixtures/test-databases.js';

/**
 * The classifier's corpus is real SQL: each PostgreSQL statement runs on a real PostgreSQL and each
 * MySQL statement on a real MariaDB/MySQL, after the setup it names. PostgreSQL runs each in a scratch
 * schema inside a transaction that is rolled back (or, for CONCURRENTLY, a scratch schema dropped
 * afterwards); MySQL DDL commits at once, so each runs in a scratch database dropped afterwards.
 */

databaseOrWarn('postgresql', 'the PostgreSQL migration corpus');
databaseOrWarn('mysql', 'the MySQL migration corpus');

const entries = (dialect: CorpusEntry['dialect']) =>
  MIGRATION_CORPUS.filter((e) => e.dialect === dialect).map((e, index) => ({ ...e, index }));
const scratch = (index: number): string => `corpus_${process.pid}_${index}`;

(POSTGRES_URL ? describe : describe.skip)('the PostgreSQL migration corpus', () => {
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });

  it.each(entries('postgresql'))('runs $title', async (entry) => {
    const schema = scratch(entry.index);
    if (entry.outsideTransaction) {
      try {
        // Prepare
        await client.query(`CREATE SCHEMA ${schema}`);
        await client.query(`SET search_path TO ${schema}`);
        if (entry.setup) await client.query(entry.setup);

        // Act
        const run = client.query(entry.sql);

        // Assess
        await expect(run).resolves.toBeDefined();
      } finally {
        await client.query('RESET search_path');
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
      return;
    }
    await client.query('BEGIN');
    try {
      // Prepare
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`SET LOCAL search_path TO ${schema}`);
      if (entry.setup) await client.query(entry.setup);

      // Act
      const run = client.query(entry.sql);

      // Assess
      await expect(run).resolves.toBeDefined();
    } finally {
      await client.query('ROLLBACK');
    }
  });
});

(MYSQL_URL ? describe : describe.skip)('the MySQL migration corpus', () => {
  let connection: mysql.Connection;

  beforeAll(async () => {
    const url = new URL(MYSQL_URL as string);
    // the URL's database need not exist: every statement runs in its own scratch database
    connection = await mysql.createConnection({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      multipleStatements: true,
    });
  });
  afterAll(async () => {
    await connection?.end();
  });

  it.each(entries('mysql'))('runs $title', async (entry) => {
    const database = scratch(entry.index);
    // a statement that drops a database of its own gets it from its setup; drop it in any case
    const ownDatabase = /CREATE DATABASE IF NOT EXISTS (\w+)/i.exec(entry.setup ?? '')?.[1];
    try {
      // Prepare
      await connection.query(`CREATE DATABASE ${database}`);
      await connection.query(`USE ${database}`);
      if (entry.setup) await connection.query(entry.setup);

      // Act
      const run = connection.query(entry.sql);

      // Assess
      await expect(run).resolves.toBeDefined();
    } finally {
      await connection.query(`DROP DATABASE IF EXISTS ${database}`);
      if (ownDatabase) await connection.query(`DROP DATABASE IF EXISTS ${ownDatabase}`);
    }
  });
});
