import { classifyMigration } from '../../../functions/shared/migrations/classify.js';
import { MIGRATION_CORPUS } from '../../fixtures/migration-corpus.js';

const describeClass = (kind: string, irreversible: boolean): string =>
  kind === 'additive' ? 'additive' : `destructive and ${irreversible ? 'irreversible' : 'reversible'}`;

describe('classifyMigration', () => {
  describe('the corpus of real-world statements', () => {
    it('holds at least 15 statements of each dialect', () => {
      // Assess
      expect(MIGRATION_CORPUS.filter((e) => e.dialect === 'postgresql').length).toBeGreaterThanOrEqual(15);
      expect(MIGRATION_CORPUS.filter((e) => e.dialect === 'mysql').length).toBeGreaterThanOrEqual(15);
    });

    it.each(MIGRATION_CORPUS.map((e) => ({ ...e, expected: describeClass(e.kind, e.irreversible) })))(
      'classifies $dialect $title as $expected',
      (entry) => {
        // Act
        const analysis = classifyMigration(entry.sql, entry.dialect, { schema: entry.setup });

        // Assess
        expect(analysis.statements).toHaveLength(1);
        expect({ kind: analysis.kind, irreversible: analysis.irreversible }).toEqual({
          kind: entry.kind,
          irreversible: entry.irreversible,
        });
        expect(analysis.reasons.length).toBeGreaterThan(0);
      },
    );
  });

  describe('named rules', () => {
    it('classifies DROP COLUMN as destructive and irreversible, naming the column', () => {
      // Act
      const analysis = classifyMigration('ALTER TABLE users DROP COLUMN email;', 'postgresql');

      // Assess
      expect(analysis).toEqual({
        kind: 'destructive',
        irreversible: true,
        reasons: ['drops column users.email: its data cannot be restored'],
        statements: [
          {
            sql: 'ALTER TABLE users DROP COLUMN email',
            kind: 'destructive',
            irreversible: true,
            reasons: ['drops column users.email: its data cannot be restored'],
            parsedBy: 'parser',
          },
        ],
      });
    });

    it('classifies ADD CONSTRAINT UNIQUE as destructive with the reason "may fail on existing rows"', () => {
      // Act
      const analysis = classifyMigration('ALTER TABLE users ADD CONSTRAINT u UNIQUE (email)', 'postgresql');

      // Assess
      expect(analysis.kind).toBe('destructive');
      expect(analysis.irreversible).toBe(false);
      expect(analysis.reasons[0]).toContain('may fail on existing rows');
    });

    it('notes that CREATE INDEX without CONCURRENTLY blocks writes in PostgreSQL', () => {
      // Act
      const analysis = classifyMigration('CREATE INDEX i ON orders (user_id)', 'postgresql');

      // Assess
      expect(analysis.kind).toBe('additive');
      expect(analysis.reasons[0]).toContain('CREATE INDEX CONCURRENTLY does not');
    });

    it('classifies DROP INDEX as destructive but reversible', () => {
      // Act
      const analysis = classifyMigration('DROP INDEX index_users_on_email', 'postgresql');

      // Assess
      expect({ kind: analysis.kind, irreversible: analysis.irreversible }).toEqual({
        kind: 'destructive',
        irreversible: false,
      });
    });

    it.each([
      ['DELETE FROM sessions WHERE created_at < now()', 'deletes the rows of sessions'],
      ['UPDATE users SET email = lower(email) WHERE id > 10', 'overwrites users.email'],
      ["UPDATE users SET status = 'x' WHERE status IS NULL OR id = 1", 'overwrites users.status'],
    ])('classifies %s as destructive and irreversible', (sql, reason) => {
      // Act
      const analysis = classifyMigration(sql, 'postgresql');

      // Assess
      expect(analysis.kind).toBe('destructive');
      expect(analysis.irreversible).toBe(true);
      expect(analysis.reasons[0]).toContain(reason);
    });

    it.each([
      ['ALTER TABLE users DROP DEFAULT', 'postgresql'],
      ['WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', 'postgresql'],
      ['\\connect other', 'postgresql'],
    ] as const)('fails safe on %s', (sql, dialect) => {
      // Act
      const analysis = classifyMigration(sql, dialect);

      // Assess
      expect(analysis.kind).toBe('destructive');
      expect(analysis.irreversible).toBe(true);
      expect(analysis.reasons[0]).toMatch(/review by hand/);
    });

    it('classifies a REVOKE as destructive and reversible', () => {
      // Act
      const analysis = classifyMigration('REVOKE SELECT ON users FROM reporting', 'postgresql');

      // Assess
      expect({ kind: analysis.kind, irreversible: analysis.irreversible }).toEqual({
        kind: 'destructive',
        irreversible: false,
      });
    });

    it.each([
      ['CALL backfill_accounts()', 'mysql'],
      ['DO $$ BEGIN DELETE FROM t; END $$', 'postgresql'],
    ] as const)('classifies procedural code (%s) as destructive and irreversible', (sql, dialect) => {
      // Act
      const analysis = classifyMigration(sql, dialect);

      // Assess
      expect(analysis.kind).toBe('destructive');
      expect(analysis.irreversible).toBe(true);
      expect(analysis.reasons[0]).toContain('procedural code');
    });
  });

  describe('type changes', () => {
    it.each([
      ['bigint', 'additive', false],
      ['text', 'additive', false],
      ['numeric', 'additive', false],
      ['varchar(255)', 'destructive', true],
      ['integer', 'destructive', true],
      ['numeric(10,2)', 'destructive', true],
    ] as const)('without the previous type, classifies TYPE %s as %s', (type, kind, irreversible) => {
      // Act
      const analysis = classifyMigration(`ALTER TABLE t ALTER COLUMN c TYPE ${type}`, 'postgresql');

      // Assess
      expect({ kind: analysis.kind, irreversible: analysis.irreversible }).toEqual({ kind, irreversible });
    });

    it.each([
      ['varchar(50)', 'varchar(255)', 'additive'],
      ['varchar(255)', 'varchar(50)', 'destructive'],
      ['varchar(255)', 'text', 'additive'],
      ['text', 'varchar(4000)', 'destructive'],
      ['smallint', 'integer', 'additive'],
      ['bigint', 'integer', 'destructive'],
      ['integer', 'numeric(12,0)', 'additive'],
      ['integer', 'numeric(6,2)', 'destructive'],
      ['numeric(10,2)', 'numeric(12,4)', 'additive'],
      ['numeric(10,2)', 'numeric(10,0)', 'destructive'],
      ['real', 'double precision', 'additive'],
      ['double precision', 'real', 'destructive'],
      ['date', 'timestamptz', 'additive'],
      ['timestamptz', 'date', 'destructive'],
      ['integer', 'text', 'destructive'],
      ['json', 'jsonb', 'destructive'],
      ['text[]', 'text', 'destructive'],
    ])('knowing the column was %s, classifies TYPE %s as %s', (from, to, kind) => {
      // Act
      const analysis = classifyMigration(`ALTER TABLE t ALTER COLUMN c TYPE ${to}`, 'postgresql', {
        schema: `CREATE TABLE t (id int, c ${from})`,
      });

      // Assess
      expect(analysis.kind).toBe(kind);
      expect(analysis.irreversible).toBe(kind === 'destructive');
    });

    it.each([
      ['int', 'int unsigned', 'destructive'],
      ['int unsigned', 'bigint', 'additive'],
      ['tinyint', 'smallint', 'additive'],
      ['text', 'mediumtext', 'additive'],
      ['longtext', 'text', 'destructive'],
      ['decimal', 'decimal(12,2)', 'additive'],
      ["enum('a','b')", "enum('a','b','c')", 'additive'],
      ["enum('a','b','c')", "enum('a','c')", 'destructive'],
    ])('knowing the MySQL column was %s, classifies MODIFY %s as %s', (from, to, kind) => {
      // Act
      const analysis = classifyMigration(`ALTER TABLE t MODIFY c ${to}`, 'mysql', {
        schema: `CREATE TABLE t (id int, c ${from})`,
      });

      // Assess
      expect(analysis.kind).toBe(kind);
    });

    it('learns the previous type from an earlier statement of the same migration', () => {
      // Act
      const analysis = classifyMigration(
        'ALTER TABLE users ALTER COLUMN code TYPE varchar(10); ALTER TABLE users ALTER COLUMN code TYPE varchar(5)',
        'postgresql',
      );

      // Assess
      expect(analysis.statements.map((s) => s.kind)).toEqual(['destructive', 'destructive']);
      expect(analysis.statements[1]?.reasons[0]).toContain(
        'narrows users.code from varchar(10) to varchar(5)',
      );
    });

    it('classifies a MySQL MODIFY that drops a known DEFAULT of a NOT NULL column as destructive', () => {
      // Act
      const analysis = classifyMigration('ALTER TABLE t MODIFY c int NOT NULL', 'mysql', {
        schema: 'CREATE TABLE t (c int NOT NULL DEFAULT 0)',
      });

      // Assess
      expect(analysis.kind).toBe('destructive');
      expect(analysis.reasons[0]).toContain('drops the default of t.c');
    });
  });

  describe('changes to what the migration itself creates', () => {
    it('classifies constraints and NOT NULL columns on a table created in the same migration as additive', () => {
      // Act
      const analysis = classifyMigration(
        `CREATE TABLE invoices (id bigserial PRIMARY KEY, number text);
         ALTER TABLE invoices ADD COLUMN tenant_id bigint NOT NULL;
         ALTER TABLE invoices ADD CONSTRAINT invoices_number_key UNIQUE (number);
         CREATE UNIQUE INDEX invoices_tenant_number ON invoices (tenant_id, number);`,
        'postgresql',
      );

      // Assess
      expect(analysis.kind).toBe('additive');
      expect(analysis.statements).toHaveLength(4);
    });

    it('does not trust CREATE TABLE IF NOT EXISTS to be a new table', () => {
      // Act
      const analysis = classifyMigration(
        'CREATE TABLE IF NOT EXISTS t (id int); ALTER TABLE t ADD COLUMN x int NOT NULL',
        'mysql',
      );

      // Assess
      expect(analysis.kind).toBe('destructive');
    });

    it("classifies Django's ADD COLUMN … DEFAULT NOT NULL then DROP DEFAULT as destructive (old INSERTs fail)", () => {
      // Act
      const analysis = classifyMigration(
        'ALTER TABLE "shop_order" ADD COLUMN "priority" integer DEFAULT 0 NOT NULL; ALTER TABLE "shop_order" ALTER COLUMN "priority" DROP DEFAULT;',
        'postgresql',
      );

      // Assess
      expect(analysis.statements.map((s) => s.kind)).toEqual(['additive', 'destructive']);
      expect(analysis.irreversible).toBe(false);
    });

    it('classifies a nullable column added, filled and dropped in one migration as additive', () => {
      // Act
      const analysis = classifyMigration(
        'ALTER TABLE users ADD COLUMN tmp int; UPDATE users SET tmp = 1; ALTER TABLE users DROP COLUMN tmp;',
        'postgresql',
      );

      // Assess
      expect(analysis.kind).toBe('additive');
    });

    it('still classifies SET NOT NULL on a column added without a DEFAULT as destructive', () => {
      // Act
      const analysis = classifyMigration(
        'ALTER TABLE users ADD COLUMN x int; UPDATE users SET x = 1; ALTER TABLE users ALTER COLUMN x SET NOT NULL',
        'postgresql',
      );

      // Assess
      expect(analysis.statements.map((s) => s.kind)).toEqual(['additive', 'additive', 'destructive']);
    });
  });

  describe('files of several statements', () => {
    it('classifies each statement of a multi-statement file and sums them up', () => {
      // Act
      const analysis = classifyMigration(
        `CREATE TABLE notifications (id bigserial PRIMARY KEY, body text);
         CREATE INDEX CONCURRENTLY notifications_body ON notifications (body);
         ALTER TABLE users RENAME COLUMN name TO full_name;
         ALTER TABLE users DROP COLUMN legacy;`,
        'postgresql',
      );

      // Assess
      expect(analysis.statements.map((s) => [s.kind, s.irreversible, s.parsedBy])).toEqual([
        ['additive', false, 'parser'],
        ['additive', false, 'parser'],
        ['destructive', false, 'fallback'],
        ['destructive', true, 'parser'],
      ]);
      expect(analysis.kind).toBe('destructive');
      expect(analysis.irreversible).toBe(true);
      expect(analysis.reasons).toEqual([
        expect.stringContaining('renames column users.name to full_name'),
        expect.stringContaining('drops column users.legacy'),
      ]);
    });

    it('summarises an additive file by its changes', () => {
      // Act
      const analysis = classifyMigration(
        'CREATE TABLE a (id int); CREATE TABLE b (id int); COMMENT ON TABLE a IS $$x$$;',
        'postgresql',
      );

      // Assess
      expect(analysis).toMatchObject({
        kind: 'additive',
        irreversible: false,
        reasons: ['creates table a', 'creates table b', 'sets a comment on table a'],
      });
    });

    it('ignores semicolons and statements inside strings and comments', () => {
      // Act
      const analysis = classifyMigration(
        `-- DROP TABLE users;
         INSERT INTO notes (body) VALUES ('a; DROP TABLE users; b'); /* TRUNCATE users; */
         INSERT INTO notes (body) VALUES ('it''s; fine');`,
        'postgresql',
      );

      // Assess
      expect(analysis.kind).toBe('additive');
      expect(analysis.statements).toHaveLength(2);
      expect(analysis.statements[0]?.sql).toBe(
        "-- DROP TABLE users;\n         INSERT INTO notes (body) VALUES ('a; DROP TABLE users; b')",
      );
    });

    it('keeps a dollar-quoted function body, semicolons and all, in one statement', () => {
      // Act
      const analysis = classifyMigration(
        `CREATE FUNCTION audit() RETURNS trigger AS $body$
         BEGIN
           DELETE FROM audit_log WHERE at < now() - interval '1 year';
           RETURN NEW;
         END;
         $body$ LANGUAGE plpgsql;
         CREATE TABLE audit_log (at timestamptz);`,
        'postgresql',
      );

      // Assess
      expect(analysis.statements).toHaveLength(2);
      expect(analysis.kind).toBe('additive');
    });

    it('keeps a PostgreSQL BEGIN ATOMIC body in one statement', () => {
      // Act
      const analysis = classifyMigration(
        'CREATE FUNCTION one() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; SELECT one();',
        'postgresql',
      );

      // Assess
      expect(analysis.statements).toHaveLength(2);
    });

    it('honours PostgreSQL nested block comments and E-strings', () => {
      // Act
      const analysis = classifyMigration(
        "/* outer /* inner; */ still a comment; */ INSERT INTO t VALUES (E'it\\'s; here');",
        'postgresql',
      );

      // Assess
      expect(analysis.statements).toHaveLength(1);
      expect(analysis.kind).toBe('additive');
    });

    it('honours the MySQL DELIMITER command, # comments and backslash escapes', () => {
      // Act
      const analysis = classifyMigration(
        `# a trigger with a compound body
DELIMITER $$
CREATE TRIGGER users_bi BEFORE INSERT ON users FOR EACH ROW
BEGIN
  SET NEW.created_at = NOW();
  SET NEW.token = 'a\\';b';
END$$
DELIMITER ;
INSERT INTO notes VALUES ("x;y");
DROP TABLE old_users;`,
        'mysql',
      );

      // Assess
      expect(analysis.statements.map((s) => s.kind)).toEqual(['additive', 'additive', 'destructive']);
      expect(analysis.statements[0]?.sql).toMatch(/^# a trigger[\s\S]*END$/);
    });

    it('keeps a MySQL routine body without DELIMITER in one statement, as the server takes it', () => {
      // Act
      const analysis = classifyMigration(
        `CREATE PROCEDURE archive_orders() BEGIN
           IF (SELECT COUNT(*) FROM orders) > 0 THEN
             INSERT INTO orders_archive SELECT * FROM orders;
           END IF;
           DROP TABLE IF EXISTS tmp_orders;
         END;
         CREATE TABLE logs (event varchar(50), at datetime);
         DROP TABLE old_logs;`,
        'mysql',
      );

      // Assess
      expect(analysis.statements.map((s) => s.kind)).toEqual(['additive', 'additive', 'destructive']);
      expect(analysis.statements[0]?.reasons).toEqual(['creates procedure archive_orders']);
    });

    it('fails safe when a routine body is never closed (the rest of the file would be hidden in it)', () => {
      // Act
      const analysis = classifyMigration(
        'CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; DROP TABLE b;',
        'mysql',
      );

      // Assess
      expect(analysis.kind).toBe('destructive');
      expect(analysis.reasons[0]).toContain('could not be parsed; review by hand');
    });

    it('reads MySQL executable comments as code', () => {
      // Act
      const analysis = classifyMigration('/*!50001 DROP TABLE IF EXISTS `v_users` */;', 'mysql');

      // Assess
      expect(analysis.kind).toBe('destructive');
      expect(analysis.reasons[0]).toContain('drops table v_users');
    });
  });

  describe('input it cannot read', () => {
    it.each(['', '   \n', '-- nothing to do\n/* really */ ;;'])(
      'classifies %j as additive with "no statements"',
      (sql) => {
        // Act
        const analysis = classifyMigration(sql, 'postgresql');

        // Assess
        expect(analysis).toEqual({
          kind: 'additive',
          irreversible: false,
          statements: [],
          reasons: ['no statements'],
        });
      },
    );

    it.each([
      ['this is not sql', 'postgresql'],
      ['FROBNICATE TABLE users', 'mysql'],
      ["INSERT INTO t VALUES ('never closed", 'postgresql'],
      ['CREATE FUNCTION f() RETURNS int AS $$ SELECT 1', 'postgresql'],
      ['SELECT 1 /* never closed', 'mysql'],
    ] as const)('classifies unparseable %j as destructive and irreversible (fail safe)', (sql, dialect) => {
      // Act
      const analysis = classifyMigration(sql, dialect);

      // Assess
      expect(analysis.kind).toBe('destructive');
      expect(analysis.irreversible).toBe(true);
      expect(analysis.statements[0]?.parsedBy).toBe('fallback');
      expect(analysis.reasons[0]).toContain('could not be parsed; review by hand');
    });

    it('classifies an unrecognised ALTER TABLE clause as destructive', () => {
      // Act
      const analysis = classifyMigration('ALTER TABLE measurements DETACH PARTITION m2020', 'postgresql');

      // Assess
      expect(analysis.kind).toBe('destructive');
      expect(analysis.reasons[0]).toContain('not recognised');
    });

    it('classifies a whole file as destructive when one statement cannot be parsed', () => {
      // Act
      const analysis = classifyMigration('CREATE TABLE a (id int); GARBAGE HERE;', 'postgresql');

      // Assess
      expect(analysis.statements.map((s) => s.kind)).toEqual(['additive', 'destructive']);
      expect(analysis.kind).toBe('destructive');
    });
  });
});
