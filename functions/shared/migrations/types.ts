/** The SQL dialects a migration can be written in (MariaDB is classified as MySQL). */
export type SqlDialect = 'postgresql' | 'mysql';

/**
 * additive: the previous release keeps running on the migrated schema and nothing is lost, so a
 * deployment can roll back its code and keep the migration in place. destructive: the previous release
 * may break, or data or schema may be lost; a human has to look.
 */
export type MigrationKind = 'additive' | 'destructive';

export interface StatementAnalysis {
  /** the statement as written, comments included, without its delimiter */
  sql: string;
  kind: MigrationKind;
  /** it loses data or schema that a down migration cannot restore */
  irreversible: boolean;
  /** one line per change the statement makes, saying what it does and why it is classified so */
  reasons: string[];
  /** classified from the SQL parser's syntax tree, or from tokens when the parser rejected the statement */
  parsedBy: 'parser' | 'fallback';
}

export interface MigrationAnalysis {
  kind: MigrationKind;
  irreversible: boolean;
  statements: StatementAnalysis[];
  /** destructive: the reasons of the destructive changes; additive: a summary of the changes */
  reasons: string[];
}

export interface ClassifyOptions {
  /**
   * SQL of the schema before this migration (a dump, or the earlier migrations in order). Column types,
   * nullability and defaults are learnt from it, so that a type change can be told to widen or narrow.
   */
  schema?: string;
}
