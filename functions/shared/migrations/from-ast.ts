import type { Change, ColumnDef, ConstraintKind } from './rules.js';
import type { Token } from './split.js';
import { type SqlType, sqlType } from './sql-types.js';
import type { SqlDialect } from './types.js';

/**
 * Reads the changes of one statement from node-sql-parser's syntax tree. The tree's shape differs
 * between dialects and is not fully typed, so every node is read defensively; a statement or clause
 * whose shape is not one of those below returns undefined, and the caller reads the tokens instead.
 */

type Node = Record<string, unknown>;

const node = (v: unknown): Node | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : undefined;
const nodes = (v: unknown): Node[] =>
  (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v])
    .map(node)
    .filter((n): n is Node => n !== undefined);
const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

/** The name in a table, column or object reference, whichever shape the dialect gives it. */
const nameOf = (v: unknown): string | undefined => {
  const direct = text(v);
  if (direct !== undefined) return direct;
  const n = node(v);
  if (!n) return undefined;
  if (n.table !== undefined && n.column === undefined) {
    const table = nameOf(n.table);
    const db = text(n.db) ?? text(n.schema);
    return table === undefined ? undefined : db ? `${db}.${table}` : table;
  }
  if (n.column !== undefined) return nameOf(n.column);
  if (n.expr !== undefined) return nameOf(n.expr);
  if (n.value !== undefined) return nameOf(n.value);
  if (n.view !== undefined) return nameOf(n.view);
  if (Array.isArray(n.name)) return nodes(n.name).map(nameOf).join('.');
  if (n.name !== undefined) return nameOf(n.name);
  return undefined;
};

const typeOf = (definition: unknown, dialect: SqlDialect): SqlType | undefined => {
  const d = node(definition);
  const dataType = text(d?.dataType);
  if (!d || !dataType) return undefined;
  const suffix = (Array.isArray(d.suffix) ? d.suffix : []).map((s) => String(s).toUpperCase());
  const zone = suffix.join(' ').match(/WITH(OUT)? TIME ZONE/)?.[0];
  const args = [d.length, d.scale].filter((a): a is number => typeof a === 'number');
  const listed = nodes(node(d.expr)?.value).map((v) => text(v.value));
  return sqlType(dialect, [...dataType.split(/\s+/), ...(zone ? zone.split(' ') : [])], args, {
    unsigned: suffix.includes('UNSIGNED'),
    array: d.array !== undefined && d.array !== null,
    values: listed.length > 0 && listed.every((v) => v !== undefined) ? (listed as string[]) : undefined,
  });
};

const columnDef = (item: Node, dialect: SqlDialect, column: unknown = item.column): ColumnDef | undefined => {
  const name = nameOf(column);
  if (!name) return undefined;
  const type = typeOf(item.definition, dialect);
  const nullable = node(item.nullable);
  const defaultValue = node(node(item.default_val)?.value);
  const generated =
    type?.serial === true ||
    Boolean(item.auto_increment) ||
    Boolean(item.generated_by_default) ||
    Boolean(item.generated);
  const primaryKey = Boolean(item.primary_key);
  return {
    name,
    type,
    notNull: nullable?.type === 'not null' || primaryKey,
    default: generated ? 'generated' : defaultValue && defaultValue.type !== 'null' ? 'value' : 'none',
    unique: primaryKey || Boolean(item.unique),
  };
};

const CONSTRAINTS: Record<string, { constraint: ConstraintKind; unique: boolean }> = {
  unique: { constraint: 'unique', unique: true },
  'unique key': { constraint: 'index', unique: true },
  'unique index': { constraint: 'index', unique: true },
  'primary key': { constraint: 'primary key', unique: true },
  'foreign key': { constraint: 'foreign key', unique: false },
  check: { constraint: 'check', unique: false },
};

/** One clause of ALTER TABLE, or undefined when its shape is not known. */
const alterClause = (item: Node, table: string, dialect: SqlDialect): Change[] | undefined => {
  const action = text(item.action);
  const resource = text(item.resource);
  const column = nameOf(item.column);
  if (action === 'add' && resource === 'column') {
    const def = columnDef(item, dialect);
    return def ? [{ op: 'add-column', table, column: def }] : undefined;
  }
  if (action === 'add' && resource === 'constraint') {
    const definition = node(item.create_definitions);
    const kind = CONSTRAINTS[text(definition?.constraint_type)?.toLowerCase() ?? ''];
    if (!definition || !kind) return undefined;
    return [
      {
        op: 'add-constraint',
        table,
        name: text(definition.constraint) ?? text(definition.index),
        ...kind,
        notValid: false,
        usingIndex: false,
      },
    ];
  }
  if (action === 'add' && resource === 'index') {
    const keyword = text(item.keyword)?.toLowerCase() ?? '';
    if (keyword.includes('unique')) return undefined;
    return [
      {
        op: 'add-constraint',
        table,
        name: text(item.index),
        constraint: 'index',
        unique: false,
        notValid: false,
        usingIndex: false,
      },
    ];
  }
  // a reserved word read as a column name (DROP DEFAULT) is a clause the parser misread
  if (column && ['DEFAULT', 'NOT', 'NULL', 'CONSTRAINT'].includes(column.toUpperCase())) return undefined;
  if (action === 'drop' && resource === 'column' && column)
    return [{ op: 'drop-column', table, column, cascade: false }];
  if (action === 'drop' && resource === 'constraint')
    return [{ op: 'drop-constraint', table, name: text(item.constraint) ?? '(unnamed)' }];
  if (action === 'drop' && resource === 'index')
    return [{ op: 'drop', object: 'index', names: [text(item.index) ?? '(unnamed)'], cascade: false }];
  if (action === 'drop' && resource === 'key') {
    const keyword = text(item.keyword)?.toLowerCase();
    if (keyword === 'primary key') return [{ op: 'drop-constraint', table, name: 'PRIMARY KEY' }];
    if (keyword === 'foreign key')
      return [{ op: 'drop-constraint', table, name: text(item.key) ?? '(unnamed)' }];
    if (keyword === 'key' || keyword === 'index')
      return [{ op: 'drop', object: 'index', names: [text(item.key) ?? '(unnamed)'], cascade: false }];
    return undefined;
  }
  if (action === 'alter' && resource === 'column' && column) {
    if (item.definition !== undefined) {
      const to = typeOf(item.definition, dialect);
      return to ? [{ op: 'change-type', table, column, to, using: Boolean(item.using) }] : undefined;
    }
    const nullable = node(item.nullable);
    if (nullable?.action === 'set') return [{ op: 'set-not-null', table, column }];
    if (nullable?.action === 'drop') return [{ op: 'drop-not-null', table, column }];
    const defaultType = text(node(item.default_val)?.type);
    if (defaultType === 'set default') return [{ op: 'set-default', table, column }];
    if (defaultType === 'drop default') return [{ op: 'drop-default', table, column }];
    return undefined;
  }
  if (action === 'rename' && resource === 'table') {
    const to = nameOf(item.table);
    return to ? [{ op: 'rename', object: 'table', from: table, to }] : undefined;
  }
  if (action === 'rename' && resource === 'column') {
    const from = nameOf(item.old_column);
    return from && column ? [{ op: 'rename', object: 'column', table, from, to: column }] : undefined;
  }
  if (action === 'modify' || action === 'change') {
    const def = columnDef(item, dialect);
    if (!def) return undefined;
    const from = action === 'change' ? nameOf(item.old_column) : def.name;
    if (!from) return undefined;
    const renamed: Change[] =
      from.toLowerCase() === def.name.toLowerCase()
        ? []
        : [{ op: 'rename', object: 'column', table, from, to: def.name }];
    return [...renamed, { op: 'redefine-column', table, column: def }];
  }
  if (action === 'owner') return [{ op: 'fixed', rule: 'table-option', subject: table }];
  if (
    action === undefined &&
    ['algorithm', 'lock', 'engine', 'comment', 'auto_increment', 'row_format', 'charset', 'collate'].includes(
      resource ?? '',
    )
  )
    return [{ op: 'fixed', rule: 'table-option', subject: table }];
  return undefined;
};

const whereConjuncts = (where: unknown): Node[] => {
  const n = node(where);
  if (!n) return [];
  if (n.type === 'binary_expr' && text(n.operator)?.toUpperCase() === 'AND')
    return [...whereConjuncts(n.left), ...whereConjuncts(n.right)];
  return [n];
};

/** Every assigned column has a `column IS NULL` test joined by AND to the rest of the WHERE. */
const fillsOnlyNulls = (where: unknown, columns: string[]): boolean => {
  const tested = new Set(
    whereConjuncts(where)
      .filter(
        (c) =>
          c.type === 'binary_expr' &&
          text(c.operator)?.toUpperCase() === 'IS' &&
          node(c.left)?.type === 'column_ref' &&
          node(c.right)?.type === 'null',
      )
      .map((c) => nameOf(node(c.left)?.column)?.toLowerCase()),
  );
  return columns.length > 0 && columns.every((c) => tested.has(c.toLowerCase()));
};

const hasCascade = (tokens: Token[]): boolean =>
  tokens.some((t) => t.type === 'word' && t.value === 'CASCADE');

/** The changes of one statement's syntax tree, or undefined when the tree is not understood. */
export const changesFromAst = (ast: unknown, tokens: Token[], dialect: SqlDialect): Change[] | undefined => {
  const a = node(ast);
  if (!a) return undefined;
  const keyword = text(a.keyword)?.toLowerCase();
  switch (a.type) {
    case 'create': {
      const orReplace = Boolean(a.replace);
      const ifNotExists = Boolean(a.if_not_exists);
      if (keyword === 'table') {
        const name = nameOf(nodes(a.table)[0]);
        if (!name) return undefined;
        const columns = nodes(a.create_definitions)
          .filter((d) => d.resource === 'column')
          .map((d) => columnDef(d, dialect));
        if (columns.some((c) => c === undefined)) return undefined;
        return [
          { op: 'create', object: 'table', name, orReplace, ifNotExists, columns: columns as ColumnDef[] },
        ];
      }
      if (keyword === 'index') {
        const table = nameOf(a.table);
        if (!table) return undefined;
        return [
          {
            op: 'create-index',
            table,
            name: text(a.index) ?? '(unnamed)',
            unique: text(a.index_type)?.toLowerCase() === 'unique',
            concurrently: Boolean(a.concurrently),
          },
        ];
      }
      // views, functions, triggers, types, sequences, schemas, …: the tokens name them reliably
      return undefined;
    }
    case 'drop': {
      if (!keyword || !['table', 'view', 'index', 'type', 'trigger', 'database', 'schema'].includes(keyword))
        return undefined;
      const names = nodes(a.name).map(nameOf);
      if (names.length === 0 || names.some((n) => n === undefined)) return undefined;
      return [{ op: 'drop', object: keyword, names: names as string[], cascade: hasCascade(tokens) }];
    }
    case 'truncate': {
      const tables = nodes(a.name).map(nameOf);
      if (tables.length === 0 || tables.some((n) => n === undefined)) return undefined;
      return [{ op: 'truncate', tables: tables as string[] }];
    }
    case 'delete': {
      const table = nameOf(nodes(a.table)[0] ?? nodes(a.from)[0]);
      if (!table) return undefined;
      const where = Boolean(a.where) || nodes(a.from).length > 1 || Boolean(a.using);
      return [{ op: 'delete', table, where }];
    }
    case 'update': {
      const tables = nodes(a.table);
      const table = nameOf(tables[0]);
      const columns = nodes(a.set).map((s) => nameOf(s.column));
      if (!table || columns.some((c) => c === undefined)) return undefined;
      const restricted = tables.length > 1 || nodes(a.from).length > 0;
      return [
        {
          op: 'update',
          table,
          columns: columns as string[],
          where: Boolean(a.where) || restricted,
          onlyNulls: Boolean(a.where) && !restricted && fillsOnlyNulls(a.where, columns as string[]),
        },
      ];
    }
    case 'insert':
    case 'replace': {
      const table = nameOf(nodes(a.table)[0]);
      if (!table) return undefined;
      const conflictAction = node(node(node(a.conflict)?.action)?.expr);
      const overwrites =
        a.type === 'replace' || conflictAction?.type === 'update' || Boolean(a.on_duplicate_update);
      return [{ op: 'insert', table, overwrites }];
    }
    case 'alter': {
      if (keyword !== undefined && keyword !== 'table') return undefined;
      const table = nameOf(nodes(a.table)[0]);
      if (!table) return undefined;
      const changes: Change[] = [];
      for (const item of nodes(a.expr)) {
        const clause = alterClause(item, table, dialect);
        if (!clause) return undefined;
        changes.push(...clause);
      }
      return changes.length > 0 ? changes : undefined;
    }
    case 'rename': {
      const pairs = (Array.isArray(a.table) ? a.table : []).map((pair: unknown) => nodes(pair).map(nameOf));
      if (pairs.length === 0 || pairs.some((p) => p.length !== 2 || p.some((n) => n === undefined)))
        return undefined;
      return pairs.map(([from, to]) => ({
        op: 'rename',
        object: 'table',
        from: from as string,
        to: to as string,
      }));
    }
    case 'select':
      // SELECT … INTO creates a table; any other SELECT only reads
      return node(a.into)?.expr
        ? [
            {
              op: 'create',
              object: 'table',
              name: nameOf(node(a.into)?.expr) ?? '(unnamed)',
              orReplace: false,
              ifNotExists: false,
              columns: [],
            },
          ]
        : [{ op: 'fixed', rule: 'read', subject: '' }];
    case 'set':
      return [{ op: 'fixed', rule: 'setting', subject: nameOf(node(nodes(a.expr)[0]?.left)) ?? '' }];
    case 'transaction':
      return [{ op: 'fixed', rule: 'transaction', subject: nameOf(node(a.expr)?.action) ?? '' }];
    default:
      return undefined;
  }
};
