import mysqlParser from 'node-sql-parser/build/mysql.js';
import postgresqlParser from 'node-sql-parser/build/postgresql.js';
import { changesFromAst } from './from-ast.js';
import { changesFromTokens, UNPARSED } from './from-tokens.js';
import { type Change, judge, SchemaState, type Verdict } from './rules.js';
import { type RawStatement, splitStatements } from './split.js';
import type {
  ClassifyOptions,
  MigrationAnalysis,
  MigrationKind,
  SqlDialect,
  StatementAnalysis,
} from './types.js';

export type {
  ClassifyOptions,
  MigrationAnalysis,
  MigrationKind,
  SqlDialect,
  StatementAnalysis,
} from './types.js';

/**
 * The migration-safety gate's engine: classifies a migration file as additive (the previous release
 * keeps running on it, and a rollback can keep it in place) or destructive (review by hand), and says
 * whether it is irreversible (it loses data or schema a down migration cannot restore: the plan then
 * promises no automatic database rollback). Pure: no I/O. What cannot be read is destructive.
 */

// One parser per dialect, built on first use (each dialect's grammar is its own ~300 KB bundle).
const parsers: Partial<Record<SqlDialect, { astify(sql: string, opt?: { database?: string }): unknown }>> =
  {};
const parserFor = (dialect: SqlDialect) => {
  parsers[dialect] ??= dialect === 'mysql' ? new mysqlParser.Parser() : new postgresqlParser.Parser();
  return parsers[dialect];
};
const PARSER_DATABASE: Record<SqlDialect, string> = { postgresql: 'PostgresQL', mysql: 'MySQL' };

/** The changes one statement makes: from the parser's syntax tree, or else from its tokens. */
const readStatement = (
  statement: RawStatement,
  dialect: SqlDialect,
): { changes: Change[]; parsedBy: 'parser' | 'fallback' } => {
  if (statement.unterminated)
    return {
      changes: [{ op: 'unknown', reason: `${UNPARSED} (a string, comment or quoted body is not closed)` }],
      parsedBy: 'fallback',
    };
  let ast: unknown;
  try {
    ast = parserFor(dialect).astify(statement.code, { database: PARSER_DATABASE[dialect] });
  } catch {
    ast = undefined;
  }
  const single = Array.isArray(ast) ? (ast.length === 1 ? ast[0] : undefined) : ast;
  const fromAst = single === undefined ? undefined : changesFromAst(single, statement.tokens, dialect);
  if (fromAst) return { changes: fromAst, parsedBy: 'parser' };
  const fromTokens = changesFromTokens(statement.tokens, dialect);
  if (single !== undefined)
    // the parser accepted it, so it is SQL; the fallback's "could not be parsed" would mislead
    for (const change of fromTokens)
      if (change.op === 'unknown' && change.reason === UNPARSED)
        change.reason = `not recognised: "${statement.code.slice(0, 60).replace(/\s+/g, ' ')}"; review by hand`;
  return { changes: fromTokens, parsedBy: 'fallback' };
};

const kindOf = (verdicts: Verdict[]): MigrationKind =>
  verdicts.some((v) => v.kind === 'destructive') ? 'destructive' : 'additive';

const unique = (items: string[]): string[] => [...new Set(items)];

/**
 * Classifies a migration (one file, any number of statements).
 *
 * @example
 * classifyMigration('ALTER TABLE users DROP COLUMN email;', 'postgresql')
 * // → { kind: 'destructive', irreversible: true,
 * //     reasons: ['drops column users.email: its data cannot be restored'], statements: [ … ] }
 */
export const classifyMigration = (
  sql: string,
  dialect: SqlDialect,
  options: ClassifyOptions = {},
): MigrationAnalysis => {
  const state = new SchemaState();
  if (options.schema) {
    for (const statement of splitStatements(options.schema, dialect))
      for (const change of readStatement(statement, dialect).changes) state.apply(change);
    state.settle();
  }

  const statements: StatementAnalysis[] = [];
  const verdicts: Verdict[] = [];
  for (const statement of splitStatements(sql, dialect)) {
    const { changes, parsedBy } = readStatement(statement, dialect);
    const own: Verdict[] = [];
    for (const change of changes) {
      own.push(...judge(change, state, dialect));
      state.apply(change);
    }
    verdicts.push(...own);
    statements.push({
      sql: statement.text,
      kind: kindOf(own),
      irreversible: own.some((v) => v.irreversible),
      reasons: own.map((v) => v.reason),
      parsedBy,
    });
  }

  if (statements.length === 0)
    return { kind: 'additive', irreversible: false, statements, reasons: ['no statements'] };
  const kind = kindOf(verdicts);
  return {
    kind,
    irreversible: verdicts.some((v) => v.irreversible),
    statements,
    reasons: unique(verdicts.filter((v) => v.kind === kind).map((v) => v.reason)),
  };
};
