import { compareTypes, isWidestOfFamily, type SqlType } from './sql-types.js';
import type { MigrationKind, SqlDialect } from './types.js';

/**
 * The changes a statement makes, whichever way it was read (the parser's syntax tree or the fallback's
 * tokens), and the rules that classify each change. The key question for every rule: can the previous
 * release keep running on the migrated schema, and can the deployment roll back without losing data?
 * docs/migrations.md has the table.
 */

export interface ColumnDef {
  name: string;
  type?: SqlType;
  notNull: boolean;
  /** value: a DEFAULT; generated: the database fills it in (serial, identity, AUTO_INCREMENT, GENERATED … AS) */
  default: 'none' | 'value' | 'generated';
  /** inline UNIQUE or PRIMARY KEY */
  unique: boolean;
}

export type ConstraintKind = 'unique' | 'primary key' | 'foreign key' | 'check' | 'exclude' | 'index';

export type Change =
  | {
      op: 'create';
      object: string;
      name: string;
      orReplace: boolean;
      ifNotExists: boolean;
      columns?: ColumnDef[];
    }
  | { op: 'create-index'; table: string; name: string; unique: boolean; concurrently: boolean }
  | { op: 'drop'; object: string; names: string[]; cascade: boolean }
  | { op: 'truncate'; tables: string[] }
  | { op: 'delete'; table: string; where: boolean }
  | { op: 'update'; table: string; columns: string[]; where: boolean; onlyNulls: boolean }
  | { op: 'insert'; table: string; overwrites: boolean }
  | { op: 'rename'; object: string; table?: string; from: string; to: string }
  | { op: 'add-column'; table: string; column: ColumnDef }
  | { op: 'drop-column'; table: string; column: string; cascade: boolean }
  | { op: 'change-type'; table: string; column: string; to: SqlType; using: boolean }
  /** MySQL MODIFY / CHANGE: the whole definition is replaced (type, nullability, default) */
  | { op: 'redefine-column'; table: string; column: ColumnDef }
  | { op: 'set-not-null' | 'drop-not-null' | 'set-default' | 'drop-default'; table: string; column: string }
  | {
      op: 'add-constraint';
      table: string;
      name?: string;
      constraint: ConstraintKind;
      unique: boolean;
      notValid: boolean;
      usingIndex: boolean;
    }
  | { op: 'validate-constraint'; table: string; name: string }
  | { op: 'drop-constraint'; table: string; name: string }
  | { op: 'fixed'; rule: FixedRule; subject: string }
  /** a statement or clause that is not understood; `reason` says so */
  | { op: 'unknown'; reason: string };

export interface Verdict {
  kind: MigrationKind;
  irreversible: boolean;
  reason: string;
}

const additive = (reason: string): Verdict => ({ kind: 'additive', irreversible: false, reason });
const destructive = (irreversible: boolean, reason: string): Verdict => ({
  kind: 'destructive',
  irreversible,
  reason,
});

/** Statements classified the same way whatever they name. */
const FIXED_RULES = {
  comment: (s: string) => additive(`sets a comment on ${s}`),
  grant: (s: string) => additive(`grants privileges${s ? ` on ${s}` : ''}`),
  revoke: (s: string) =>
    destructive(
      false,
      `revokes privileges${s ? ` on ${s}` : ''}: the old release may need them; GRANT undoes it`,
    ),
  setting: (s: string) => additive(`changes a session setting${s ? ` (${s})` : ''}`),
  transaction: (s: string) => additive(`transaction control (${s})`),
  read: () => additive('only reads (functions it calls are not inspected)'),
  maintenance: (s: string) => additive(`maintenance (${s}): no change to schema or data`),
  'table-option': (s: string) => additive(`changes a table option of ${s}`),
  lock: (s: string) => additive(`locks ${s} until the transaction ends`),
  'enum-value': (s: string) => additive(`adds a value to enum type ${s}`),
  refresh: (s: string) => additive(`refreshes materialized view ${s}`),
  use: (s: string) => additive(`selects database ${s}`),
  'rename-index': (s: string) => additive(`renames index ${s} (queries do not name indexes)`),
  procedural: (s: string) =>
    destructive(true, `runs procedural code (${s}), which is not inspected; review by hand`),
  'restart-sequence': (s: string) =>
    destructive(
      true,
      `restarts sequence ${s}: new ids may collide with existing rows, and its value is lost`,
    ),
  'row-security': (s: string) =>
    destructive(
      false,
      `enables row-level security on ${s}: the old release may see no rows until a policy allows them`,
    ),
  'convert-charset': (s: string) =>
    destructive(
      true,
      `converts the text of ${s} to another character set: characters it cannot hold are lost`,
    ),
  'convert-utf8mb4': (s: string) =>
    additive(`converts the text of ${s} to utf8mb4, which holds every character`),
} satisfies Record<string, (subject: string) => Verdict>;
export type FixedRule = keyof typeof FIXED_RULES;

const lower = (name: string): string => name.toLowerCase();
const key = (name: string): string => lower(name.split('.').pop() ?? name);

interface KnownColumn {
  type?: SqlType;
  notNull?: boolean;
  hasDefault?: boolean;
  /** added by the migration being classified (the previous release does not know it) */
  addedHere: boolean;
}
interface KnownTable {
  columns: Map<string, KnownColumn>;
  /** created by the migration being classified: it has no rows the previous release wrote */
  createdHere: boolean;
}

/** What is known of the schema: from `options.schema`, then from the migration's own statements. */
export class SchemaState {
  private readonly tables = new Map<string, KnownTable>();

  /** Everything known so far existed before the migration. */
  settle(): void {
    for (const table of this.tables.values()) {
      table.createdHere = false;
      for (const column of table.columns.values()) column.addedHere = false;
    }
  }

  table(name: string): KnownTable | undefined {
    return this.tables.get(key(name));
  }

  column(table: string, column: string): KnownColumn | undefined {
    return this.table(table)?.columns.get(lower(column));
  }

  createdHere(table: string): boolean {
    return this.table(table)?.createdHere === true;
  }

  addedHere(table: string, column: string): boolean {
    return this.createdHere(table) || this.column(table, column)?.addedHere === true;
  }

  private ensure(table: string): KnownTable {
    let known = this.tables.get(key(table));
    if (!known) {
      known = { columns: new Map(), createdHere: false };
      this.tables.set(key(table), known);
    }
    return known;
  }

  private setColumn(table: string, column: string, update: Partial<KnownColumn>): void {
    const known = this.ensure(table);
    const current = known.columns.get(lower(column)) ?? { addedHere: false };
    known.columns.set(lower(column), { ...current, ...update });
  }

  apply(change: Change): void {
    switch (change.op) {
      case 'create':
        if (change.object === 'table' && !(change.ifNotExists && this.table(change.name))) {
          const columns = new Map<string, KnownColumn>();
          for (const c of change.columns ?? [])
            columns.set(lower(c.name), {
              type: c.type,
              notNull: c.notNull,
              hasDefault: c.default !== 'none',
              addedHere: false,
            });
          // IF NOT EXISTS may meet a table that exists with rows: it is not known to be new
          this.tables.set(key(change.name), { columns, createdHere: !change.ifNotExists });
        }
        return;
      case 'drop':
        if (change.object === 'table') for (const name of change.names) this.tables.delete(key(name));
        return;
      case 'rename': {
        if (change.object === 'table') {
          const known = this.tables.get(key(change.from));
          this.tables.delete(key(change.from));
          if (known) this.tables.set(key(change.to), known);
        } else if (change.object === 'column' && change.table) {
          const table = this.ensure(change.table);
          const known = table.columns.get(lower(change.from));
          table.columns.delete(lower(change.from));
          if (known) table.columns.set(lower(change.to), known);
        }
        return;
      }
      case 'add-column':
        this.setColumn(change.table, change.column.name, {
          type: change.column.type,
          notNull: change.column.notNull,
          hasDefault: change.column.default !== 'none',
          addedHere: true,
        });
        return;
      case 'drop-column':
        this.table(change.table)?.columns.delete(lower(change.column));
        return;
      case 'change-type':
        this.setColumn(change.table, change.column, { type: change.to });
        return;
      case 'redefine-column':
        this.setColumn(change.table, change.column.name, {
          type: change.column.type,
          notNull: change.column.notNull,
          hasDefault: change.column.default !== 'none',
        });
        return;
      case 'set-not-null':
      case 'drop-not-null':
        this.setColumn(change.table, change.column, { notNull: change.op === 'set-not-null' });
        return;
      case 'set-default':
      case 'drop-default':
        this.setColumn(change.table, change.column, { hasDefault: change.op === 'set-default' });
        return;
      default:
        return;
    }
  }
}

const NO_DATA_OBJECTS = new Set([
  'view',
  'function',
  'procedure',
  'trigger',
  'type',
  'domain',
  'extension',
  'policy',
  'rule',
  'materialized view',
  'event',
  'aggregate',
  'operator',
  'collation',
  'publication',
]);

const onNewTable = (table: string, what: string): Verdict =>
  additive(`${what} (table ${table} is created in this migration: no existing rows)`);

const mayNarrow = (table: string, column: string, to: SqlType): Verdict =>
  destructive(
    true,
    `changes ${table}.${column} to ${to.display}, which may narrow it (its previous type is not in this migration or the schema given): values that do not fit are rejected or cut; review by hand`,
  );

const typeVerdict = (
  state: SchemaState,
  dialect: SqlDialect,
  table: string,
  column: string,
  to: SqlType,
  using: boolean,
): Verdict => {
  const where = `${table}.${column}`;
  if (state.addedHere(table, column))
    return additive(`changes ${where}, added in this migration, to ${to.display}`);
  if (using)
    return destructive(true, `converts ${where} to ${to.display} with USING: every value is rewritten`);
  const from = state.column(table, column)?.type;
  if (!from) {
    if (isWidestOfFamily(to))
      return additive(
        `changes ${where} to ${to.display}, the widest type of its family (widening assumed: its previous type is not in this migration or the schema given)`,
      );
    return mayNarrow(table, column, to);
  }
  const change = compareTypes(from, to);
  const rewrite =
    dialect === 'postgresql' && from.family !== 'text' && change !== 'same'
      ? ' (PostgreSQL rewrites the table under an exclusive lock)'
      : '';
  if (change === 'same') return additive(`keeps ${where} as ${to.display}`);
  if (change === 'widens') return additive(`widens ${where} from ${from.display} to ${to.display}${rewrite}`);
  if (from.family !== to.family && !(from.family === 'integer' && ['decimal', 'float'].includes(to.family)))
    return destructive(
      true,
      `changes ${where} from ${from.display} to ${to.display}: values are converted or rejected, and the old release expects ${from.display}`,
    );
  return destructive(
    true,
    `narrows ${where} from ${from.display} to ${to.display}: values that do not fit are rejected or cut, and cannot be restored`,
  );
};

const setNotNullVerdict = (state: SchemaState, table: string, column: string, what: string): Verdict => {
  const known = state.column(table, column);
  if (state.createdHere(table)) return onNewTable(table, what);
  if (known?.notNull === true) return additive(`${what} (it is NOT NULL already)`);
  if (known?.addedHere && known.hasDefault)
    return additive(`${what} (added in this migration with a DEFAULT)`);
  return destructive(
    false,
    `${what}: may fail on existing rows (NULLs), and the old release's writes of NULL then fail; DROP NOT NULL undoes it`,
  );
};

const dropDefaultVerdict = (
  state: SchemaState,
  table: string,
  column: string,
  notNull = state.column(table, column)?.notNull,
): Verdict => {
  const where = `${table}.${column}`;
  if (state.createdHere(table)) return onNewTable(table, `drops the default of ${where}`);
  if (notNull === false)
    return additive(`drops the default of ${where} (it is nullable: rows inserted without it get NULL)`);
  return destructive(
    false,
    `drops the default of ${where}: the old release may insert rows without it and rely on the default (a NOT NULL column then rejects them); SET DEFAULT undoes it`,
  );
};

const list = (names: string[]): string => names.join(', ');

/** Classifies one change against what is known of the schema (call before `state.apply(change)`). */
export const judge = (change: Change, state: SchemaState, dialect: SqlDialect): Verdict[] => {
  switch (change.op) {
    case 'create': {
      const what = `${change.orReplace ? 'creates or replaces' : 'creates'} ${change.object} ${change.name}`;
      return [
        additive(
          change.orReplace ? `${what} (the down migration must restore its previous definition)` : what,
        ),
      ];
    }
    case 'create-index': {
      const what = `creates ${change.unique ? 'unique index' : 'index'} ${change.name} on ${change.table}`;
      if (state.createdHere(change.table)) return [onNewTable(change.table, what)];
      if (change.unique)
        return [
          destructive(
            false,
            `${what}: may fail on existing rows (duplicates), and the old release's duplicate writes then fail`,
          ),
        ];
      if (dialect === 'postgresql' && !change.concurrently)
        return [
          additive(
            `${what} (it blocks writes to ${change.table} while it builds; CREATE INDEX CONCURRENTLY does not)`,
          ),
        ];
      return [additive(change.concurrently ? `${what} concurrently, without blocking writes` : what)];
    }
    case 'drop': {
      const names = list(change.names);
      const cascade = change.cascade ? ' (CASCADE also drops what depends on it)' : '';
      const object = change.object;
      if (object === 'table') {
        if (change.names.every((n) => state.createdHere(n)))
          return [additive(`drops table ${names}, created earlier in this migration`)];
        return [destructive(true, `drops table ${names}: its rows cannot be restored${cascade}`)];
      }
      if (object === 'schema' || object === 'database')
        return [destructive(true, `drops ${object} ${names} and everything in it`)];
      if (object === 'sequence')
        return [destructive(true, `drops sequence ${names}: its current value is lost${cascade}`)];
      if (object === 'index')
        return [
          destructive(
            change.cascade,
            `drops index ${names}: the old release's queries may slow down or lose the uniqueness they rely on (upserts); re-creating it undoes it${cascade}`,
          ),
        ];
      if (NO_DATA_OBJECTS.has(object))
        return [
          destructive(
            change.cascade,
            `drops ${object} ${names}: the old release may use it; the down migration can re-create it${cascade}`,
          ),
        ];
      return [destructive(true, `drops ${object} ${names}; review by hand${cascade}`)];
    }
    case 'truncate':
      if (change.tables.every((t) => state.createdHere(t)))
        return [additive(`truncates ${list(change.tables)}, created in this migration`)];
      return [destructive(true, `truncates ${list(change.tables)}: every row is deleted`)];
    case 'delete':
      if (state.createdHere(change.table))
        return [onNewTable(change.table, `deletes rows of ${change.table}`)];
      return [
        destructive(
          true,
          change.where
            ? `deletes the rows of ${change.table} that match its WHERE: they cannot be restored`
            : `deletes every row of ${change.table} (no WHERE)`,
        ),
      ];
    case 'update': {
      const columns = list(change.columns.map((c) => `${change.table}.${c}`));
      if (change.columns.length > 0 && change.columns.every((c) => state.addedHere(change.table, c)))
        return [additive(`writes ${columns}, added in this migration`)];
      if (!change.where)
        return [destructive(true, `rewrites ${columns || change.table} in every row (no WHERE)`)];
      if (change.onlyNulls) return [additive(`fills ${columns} where it is NULL (a backfill)`)];
      return [
        destructive(
          true,
          `overwrites ${columns || change.table} in the rows its WHERE (or join) selects: the previous values are lost`,
        ),
      ];
    }
    case 'insert':
      if (change.overwrites)
        return [
          destructive(
            true,
            `inserts into ${change.table} and overwrites the rows it conflicts with (ON CONFLICT DO UPDATE, ON DUPLICATE KEY UPDATE, REPLACE): the previous values are lost`,
          ),
        ];
      return [additive(`inserts rows into ${change.table}`)];
    case 'rename': {
      const from = change.table ? `${change.table}.${change.from}` : change.from;
      const what = `renames ${change.object} ${from} to ${change.to}`;
      if (change.object === 'index') return [additive(`${what} (queries do not name indexes)`)];
      if (change.object === 'column' && change.table && state.addedHere(change.table, change.from))
        return [additive(`${what}, added in this migration`)];
      if (change.object === 'table' && state.createdHere(change.from))
        return [additive(`${what}, created in this migration`)];
      return [
        destructive(false, `${what}: the old release still uses the old name; renaming it back undoes it`),
      ];
    }
    case 'add-column': {
      const { table, column } = change;
      const where = `${table}.${column.name}`;
      if (state.createdHere(table)) return [onNewTable(table, `adds column ${where}`)];
      if (column.notNull && column.default === 'none')
        return [
          destructive(
            false,
            `adds column ${where} NOT NULL without a DEFAULT: may fail on existing rows, and the old release's INSERTs (which leave it out) then fail; dropping the column undoes it`,
          ),
        ];
      if (column.unique && column.default === 'value')
        return [
          destructive(
            false,
            `adds column ${where} UNIQUE with a DEFAULT: may fail on existing rows (they all get the same value)`,
          ),
        ];
      const how =
        column.default === 'generated'
          ? ' (filled in by the database)'
          : column.default === 'value'
            ? ' with a DEFAULT'
            : ' (nullable)';
      return [additive(`adds column ${where}${how}`)];
    }
    case 'drop-column': {
      const where = `${change.table}.${change.column}`;
      if (state.addedHere(change.table, change.column))
        return [additive(`drops column ${where}, added in this migration`)];
      const cascade = change.cascade ? ' (CASCADE also drops what depends on it)' : '';
      return [destructive(true, `drops column ${where}: its data cannot be restored${cascade}`)];
    }
    case 'change-type':
      return [typeVerdict(state, dialect, change.table, change.column, change.to, change.using)];
    case 'redefine-column': {
      const { table, column } = change;
      const where = `${table}.${column.name}`;
      if (state.addedHere(table, column.name))
        return [additive(`redefines ${where}, added in this migration`)];
      const known = state.column(table, column.name);
      const verdicts: Verdict[] = [];
      if (column.type) verdicts.push(typeVerdict(state, dialect, table, column.name, column.type, false));
      if (column.notNull && known?.notNull !== true)
        verdicts.push(setNotNullVerdict(state, table, column.name, `makes ${where} NOT NULL`));
      else if (known?.notNull === true) verdicts.push(additive(`makes ${where} nullable`));
      // MODIFY without DEFAULT drops the default; whether there was one is known from the schema only
      if (column.default === 'none' && known?.hasDefault === true)
        verdicts.push(dropDefaultVerdict(state, table, column.name, column.notNull));
      return verdicts.length > 0 ? verdicts : [additive(`redefines ${where}`)];
    }
    case 'set-not-null':
      return [
        setNotNullVerdict(
          state,
          change.table,
          change.column,
          `sets ${change.table}.${change.column} NOT NULL`,
        ),
      ];
    case 'drop-not-null':
      return [additive(`makes ${change.table}.${change.column} nullable`)];
    case 'set-default':
      return [additive(`sets a default on ${change.table}.${change.column} (for new rows only)`)];
    case 'drop-default':
      return [dropDefaultVerdict(state, change.table, change.column)];
    case 'add-constraint': {
      const named = change.name ? ` ${change.name}` : '';
      const what =
        change.constraint === 'index'
          ? `adds ${change.unique ? 'unique index' : 'index'}${named} on ${change.table}`
          : `adds ${change.constraint} constraint${named} on ${change.table}`;
      if (state.createdHere(change.table)) return [onNewTable(change.table, what)];
      if (change.constraint === 'index' && !change.unique) return [additive(what)];
      if (change.usingIndex) return [additive(`${what} using an existing unique index (no scan)`)];
      if (change.notValid)
        return [additive(`${what} NOT VALID: existing rows are not checked; new writes must satisfy it`)];
      return [
        destructive(
          false,
          `${what}: may fail on existing rows${
            dialect !== 'postgresql'
              ? ''
              : ['check', 'foreign key'].includes(change.constraint)
                ? ', and it blocks writes while it checks them (ADD … NOT VALID, then VALIDATE CONSTRAINT, does not)'
                : ', and it blocks writes while it checks them'
          }${change.unique ? "; the old release's duplicate writes then fail" : ''}; dropping it undoes it`,
        ),
      ];
    }
    case 'validate-constraint':
      return [
        additive(
          `validates constraint ${change.name} on ${change.table}: checks existing rows without blocking writes (fails if a row violates it)`,
        ),
      ];
    case 'drop-constraint':
      if (state.createdHere(change.table))
        return [onNewTable(change.table, `drops constraint ${change.name} on ${change.table}`)];
      return [
        destructive(
          false,
          `drops constraint ${change.name} on ${change.table}: the old release may rely on it (upserts, integrity), and rows written meanwhile can stop it being added back`,
        ),
      ];
    case 'fixed':
      return [FIXED_RULES[change.rule](change.subject)];
    case 'unknown':
      return [destructive(true, change.reason)];
  }
};
