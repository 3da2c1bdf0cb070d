import type { Change, ColumnDef, ConstraintKind } from './rules.js';
import type { Token } from './split.js';
import { type SqlType, sqlType } from './sql-types.js';
import type { SqlDialect } from './types.js';

/**
 * The fallback: reads the changes a statement makes from its tokens, for the statements the SQL parser
 * rejects (CREATE INDEX CONCURRENTLY …, ALTER TABLE … RENAME COLUMN in PostgreSQL, ADD CONSTRAINT …
 * NOT VALID, DO blocks, …). It recognises statement shapes by their keywords; whatever it does not
 * recognise becomes an `unknown` change, which is classified destructive.
 */

export const UNPARSED = 'could not be parsed; review by hand';

class Cursor {
  pos = 0;
  constructor(readonly tokens: Token[]) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  /** the upper-cased word at offset, if the token there is a word */
  word(offset = 0): string | undefined {
    const t = this.peek(offset);
    return t?.type === 'word' ? t.value : undefined;
  }

  /** the next tokens are these words or punctuation, in order */
  is(...items: string[]): boolean {
    return items.every((item, i) => {
      const t = this.peek(i);
      return t !== undefined && (t.type === 'word' || t.type === 'punct') && t.value === item;
    });
  }

  accept(...items: string[]): boolean {
    if (!this.is(...items)) return false;
    this.pos += items.length;
    return true;
  }

  acceptOneOf(...words: string[]): string | undefined {
    const w = this.word();
    if (w !== undefined && words.includes(w)) {
      this.pos += 1;
      return w;
    }
    return undefined;
  }

  done(): boolean {
    return this.pos >= this.tokens.length;
  }

  /** a possibly qualified name: a.b."C" */
  name(): string | undefined {
    const parts: string[] = [];
    for (;;) {
      const t = this.peek();
      if (
        !t ||
        (t.type !== 'word' && t.type !== 'identifier' && !(t.type === 'string' && parts.length === 0))
      )
        break;
      parts.push(t.type === 'word' ? t.text : t.value);
      this.pos += 1;
      if (!this.is('.')) break;
      this.pos += 1;
    }
    return parts.length > 0 ? parts.join('.') : undefined;
  }

  /** skips a parenthesised group if one starts here */
  skipParens(): void {
    if (!this.is('(')) return;
    let depth = 0;
    while (!this.done()) {
      const t = this.peek() as Token;
      this.pos += 1;
      if (t.type === 'punct' && t.value === '(') depth += 1;
      else if (t.type === 'punct' && t.value === ')') {
        depth -= 1;
        if (depth === 0) return;
      }
    }
  }

  rest(): Token[] {
    return this.tokens.slice(this.pos);
  }
}

/** Splits tokens on a separator outside parentheses. */
const splitTopLevel = (tokens: Token[], separator: string): Token[][] => {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.type === 'punct' && (t.value === '(' || t.value === '[')) depth += 1;
    if (t.type === 'punct' && (t.value === ')' || t.value === ']')) depth -= 1;
    const isSeparator =
      depth === 0 && (t.type === 'punct' || t.type === 'word') && t.value === separator.toUpperCase();
    if (isSeparator) parts.push([]);
    else parts[parts.length - 1]?.push(t);
  }
  return parts.filter((p) => p.length > 0);
};

const hasTopLevelWord = (tokens: Token[], word: string): boolean => {
  let depth = 0;
  for (const t of tokens) {
    if (t.type === 'punct' && t.value === '(') depth += 1;
    if (t.type === 'punct' && t.value === ')') depth -= 1;
    if (depth === 0 && t.type === 'word' && t.value === word) return true;
  }
  return false;
};

const hasWords = (tokens: Token[], ...words: string[]): boolean =>
  tokens.some((_, i) => words.every((w, j) => tokens[i + j]?.type === 'word' && tokens[i + j]?.value === w));

const words = (tokens: Token[], count = 6): string =>
  tokens
    .slice(0, count)
    .map((t) => t.text)
    .join(' ');

const notRecognised = (tokens: Token[]): Change => ({
  op: 'unknown',
  reason: `not recognised: "${words(tokens)}${tokens.length > 6 ? ' …' : ''}"; review by hand`,
});

// ── column definitions ───────────────────────────────────────────────────────────────────────────

const TYPE_CONTINUATIONS: Record<string, string[]> = {
  DOUBLE: ['PRECISION'],
  CHARACTER: ['VARYING'],
  CHAR: ['VARYING'],
  NATIONAL: ['CHARACTER', 'CHAR', 'VARYING'],
  BIT: ['VARYING'],
};

/** Reads a column type: name words, (arguments), [] or ARRAY, UNSIGNED, WITH TIME ZONE. */
const readType = (c: Cursor, dialect: SqlDialect): SqlType | undefined => {
  const first = c.peek();
  if (!first || (first.type !== 'word' && first.type !== 'identifier')) return undefined;
  const names: string[] = [];
  const qualified = c.name() as string;
  names.push(qualified.split('.').pop() as string);
  for (
    let next = c.word();
    next && TYPE_CONTINUATIONS[names[0]?.toUpperCase() ?? '']?.includes(next);
    next = c.word()
  ) {
    names.push(next);
    c.pos += 1;
  }
  const args: number[] = [];
  const values: string[] = [];
  if (c.is('(')) {
    const start = c.pos;
    c.skipParens();
    for (const t of c.tokens.slice(start, c.pos)) {
      if (t.type === 'number') args.push(Number(t.value));
      if (t.type === 'string') values.push(t.value);
    }
  }
  const zone = (): void => {
    if (c.is('WITH', 'TIME', 'ZONE') || c.is('WITHOUT', 'TIME', 'ZONE')) {
      names.push(...c.tokens.slice(c.pos, c.pos + 3).map((t) => t.value));
      c.pos += 3;
    }
  };
  zone();
  let array = false;
  let unsigned = false;
  for (;;) {
    if (c.accept('[', ']')) array = true;
    else if (c.is('[')) {
      c.pos += 1;
      while (!c.done() && !c.accept(']')) c.pos += 1;
      array = true;
    } else if (c.accept('ARRAY')) array = true;
    else if (c.accept('UNSIGNED')) unsigned = true;
    else if (c.acceptOneOf('SIGNED', 'ZEROFILL')) continue;
    else break;
  }
  zone();
  return sqlType(dialect, names, args, { unsigned, array, values: values.length > 0 ? values : undefined });
};

/** Reads `name type [constraints…]`, as in CREATE TABLE, ADD COLUMN and MySQL MODIFY / CHANGE. */
const readColumnDef = (c: Cursor, dialect: SqlDialect): ColumnDef | undefined => {
  const name = c.name();
  if (!name) return undefined;
  const type = readType(c, dialect);
  const def: ColumnDef = {
    name,
    type,
    notNull: false,
    default: type?.serial ? 'generated' : 'none',
    unique: false,
  };
  let depth = 0;
  for (let i = c.pos; i < c.tokens.length; i += 1) {
    const t = c.tokens[i] as Token;
    if (t.type === 'punct' && t.value === '(') depth += 1;
    if (t.type === 'punct' && t.value === ')') depth -= 1;
    if (depth !== 0 || t.type !== 'word') continue;
    const next = c.tokens[i + 1];
    const previous = c.tokens[i - 1];
    if (t.value === 'NOT' && next?.value === 'NULL') def.notNull = true;
    else if (t.value === 'NULL' && !['NOT', 'DEFAULT', 'SET'].includes(previous?.value ?? ''))
      def.notNull = false;
    else if (t.value === 'DEFAULT' && def.default === 'none' && next?.value !== 'NULL') def.default = 'value';
    else if (t.value === 'AUTO_INCREMENT' || t.value === 'GENERATED' || t.value === 'IDENTITY')
      def.default = 'generated';
    else if (t.value === 'AS' && next?.type === 'punct' && next.value === '(') def.default = 'generated';
    else if (t.value === 'PRIMARY' && next?.value === 'KEY') {
      def.unique = true;
      def.notNull = true;
    } else if (t.value === 'UNIQUE') def.unique = true;
  }
  c.pos = c.tokens.length;
  return def;
};

const TABLE_ELEMENT_KEYWORDS = new Set([
  'CONSTRAINT',
  'PRIMARY',
  'UNIQUE',
  'FOREIGN',
  'CHECK',
  'KEY',
  'INDEX',
  'EXCLUDE',
  'FULLTEXT',
  'SPATIAL',
  'LIKE',
  'PERIOD',
]);

const readTableColumns = (tokens: Token[], dialect: SqlDialect): ColumnDef[] => {
  const columns: ColumnDef[] = [];
  for (const element of splitTopLevel(tokens, ',')) {
    const first = element[0];
    if (!first || (first.type === 'word' && TABLE_ELEMENT_KEYWORDS.has(first.value))) continue;
    const def = readColumnDef(new Cursor(element), dialect);
    if (def) columns.push(def);
  }
  return columns;
};

/** The tokens inside the parentheses that start at the cursor (the cursor moves past them). */
const insideParens = (c: Cursor): Token[] => {
  const start = c.pos;
  c.skipParens();
  return c.tokens.slice(start + 1, c.pos - 1);
};

// ── statements ───────────────────────────────────────────────────────────────────────────────────

const OBJECT_WORDS = [
  ['MATERIALIZED', 'VIEW'],
  ['FOREIGN', 'TABLE'],
  ['EVENT', 'TRIGGER'],
  ['TEXT', 'SEARCH'],
  ['ACCESS', 'METHOD'],
  ['USER', 'MAPPING'],
];

/** Reads the kind of object after CREATE or DROP: TABLE, MATERIALIZED VIEW, … */
const readObject = (c: Cursor): string | undefined => {
  for (const pair of OBJECT_WORDS) if (c.accept(...pair)) return pair.join(' ').toLowerCase();
  const w = c.word();
  if (!w) return undefined;
  c.pos += 1;
  return w.toLowerCase();
};

const createStatement = (c: Cursor, dialect: SqlDialect): Change[] => {
  const orReplace = c.accept('OR', 'REPLACE');
  // modifiers before the object kind
  let unique = false;
  for (;;) {
    if (
      c.acceptOneOf('GLOBAL', 'LOCAL', 'TEMP', 'TEMPORARY', 'UNLOGGED', 'RECURSIVE', 'TRUSTED', 'PROCEDURAL')
    )
      continue;
    if (c.acceptOneOf('FULLTEXT', 'SPATIAL')) continue;
    if (c.accept('UNIQUE')) {
      unique = true;
      continue;
    }
    if (c.is('DEFINER', '=') || c.is('ALGORITHM', '=')) {
      c.pos += 2;
      c.name();
      if (c.is('@')) {
        c.pos += 1;
        c.name();
      }
      continue;
    }
    if (c.accept('SQL', 'SECURITY')) {
      c.pos += 1;
      continue;
    }
    if (c.accept('CONSTRAINT')) continue;
    break;
  }
  const object = readObject(c);
  if (!object) return [{ op: 'unknown', reason: UNPARSED }];
  if (object === 'index') {
    const concurrently = c.accept('CONCURRENTLY');
    c.accept('IF', 'NOT', 'EXISTS');
    const name = c.is('ON') ? '(unnamed)' : (c.name() ?? '(unnamed)');
    if (c.accept('USING')) c.name();
    if (!c.accept('ON')) return [{ op: 'unknown', reason: UNPARSED }];
    c.accept('ONLY');
    const table = c.name();
    if (!table) return [{ op: 'unknown', reason: UNPARSED }];
    return [{ op: 'create-index', table, name, unique, concurrently }];
  }
  const ifNotExists = c.accept('IF', 'NOT', 'EXISTS');
  const name = c.name() ?? '(unnamed)';
  if (object === 'table') {
    const columns = c.is('(') ? readTableColumns(insideParens(c), dialect) : [];
    return [{ op: 'create', object, name, orReplace, ifNotExists, columns }];
  }
  return [{ op: 'create', object, name, orReplace, ifNotExists }];
};

const dropStatement = (c: Cursor, tokens: Token[]): Change[] => {
  const object = readObject(c);
  if (!object) return [{ op: 'unknown', reason: UNPARSED }];
  c.accept('CONCURRENTLY');
  c.accept('IF', 'EXISTS');
  const names: string[] = [];
  for (;;) {
    const name = c.name();
    if (!name) break;
    names.push(name);
    c.skipParens();
    if (!c.accept(',')) break;
  }
  if (names.length === 0) return [{ op: 'unknown', reason: UNPARSED }];
  return [{ op: 'drop', object, names, cascade: hasTopLevelWord(tokens, 'CASCADE') }];
};

const readNames = (c: Cursor): string[] => {
  const names: string[] = [];
  for (;;) {
    c.accept('ONLY');
    const name = c.name();
    if (!name) break;
    names.push(name);
    c.accept('*');
    if (!c.accept(',')) break;
  }
  return names;
};

/** `WHERE a IS NULL AND b IS NULL`: every assigned column is only filled where it was NULL. */
export const onlyFillsNulls = (where: Token[], columns: string[]): boolean => {
  if (hasTopLevelWord(where, 'OR') || columns.length === 0) return false;
  const nullTests = new Set<string>();
  for (const conjunct of splitTopLevel(where, 'AND')) {
    const tail = conjunct.slice(-2).map((t) => t.value);
    if (tail[0] !== 'IS' || tail[1] !== 'NULL') continue;
    const column = new Cursor(conjunct.slice(0, -2)).name();
    if (column && conjunct.length >= 3) nullTests.add((column.split('.').pop() as string).toLowerCase());
  }
  return columns.every((c) => nullTests.has(c.toLowerCase()));
};

/** Where the first of these words stands outside parentheses, or -1. */
const topLevelIndex = (tokens: Token[], wanted: string[]): number => {
  let depth = 0;
  for (const [i, t] of tokens.entries()) {
    if (t.type === 'punct' && t.value === '(') depth += 1;
    if (t.type === 'punct' && t.value === ')') depth -= 1;
    if (depth === 0 && t.type === 'word' && wanted.includes(t.value)) return i;
  }
  return -1;
};

const updateStatement = (c: Cursor): Change[] => {
  c.acceptOneOf('LOW_PRIORITY');
  c.acceptOneOf('IGNORE');
  c.accept('ONLY');
  const table = c.name();
  if (!table) return [{ op: 'unknown', reason: UNPARSED }];
  const rest = c.rest();
  const setAt = topLevelIndex(rest, ['SET']);
  if (setAt === -1) return [{ op: 'unknown', reason: UNPARSED }];
  // a join or a second table (MySQL UPDATE a JOIN b … SET, UPDATE a, b SET) restricts the rows like a WHERE
  const joined = rest.slice(0, setAt).some((t) => t.value === 'JOIN' || t.value === ',');
  const tail = rest.slice(setAt + 1);
  const stop = topLevelIndex(tail, ['WHERE', 'FROM', 'RETURNING', 'ORDER', 'LIMIT']);
  const columns = splitTopLevel(stop === -1 ? tail : tail.slice(0, stop), ',')
    .map((assignment) => new Cursor(assignment).name())
    .filter((n): n is string => n !== undefined)
    .map((n) => n.split('.').pop() as string);
  const whereAt = topLevelIndex(tail, ['WHERE']);
  const from = topLevelIndex(tail, ['FROM']) !== -1;
  const whereTokens = whereAt === -1 ? [] : tail.slice(whereAt + 1);
  const end = topLevelIndex(whereTokens, ['RETURNING', 'ORDER', 'LIMIT']);
  return [
    {
      op: 'update',
      table,
      columns,
      where: whereAt !== -1 || from || joined,
      onlyNulls:
        whereAt !== -1 &&
        !from &&
        !joined &&
        onlyFillsNulls(end === -1 ? whereTokens : whereTokens.slice(0, end), columns),
    },
  ];
};

const alterTableClause = (clause: Token[], table: string, dialect: SqlDialect): Change[] => {
  const c = new Cursor(clause);
  const cascade = hasTopLevelWord(clause, 'CASCADE');
  if (c.accept('ADD')) {
    const constraintName = c.accept('CONSTRAINT') ? c.name() : undefined;
    let constraint: ConstraintKind | undefined;
    let unique = false;
    if (c.accept('PRIMARY', 'KEY')) {
      constraint = 'primary key';
      unique = true;
    } else if (c.accept('UNIQUE')) {
      unique = true;
      // MySQL: ADD UNIQUE [INDEX|KEY] [name] (…)
      constraint = c.acceptOneOf('INDEX', 'KEY') ? 'index' : 'unique';
    } else if (c.accept('FOREIGN', 'KEY')) constraint = 'foreign key';
    else if (c.accept('CHECK')) constraint = 'check';
    else if (c.accept('EXCLUDE')) constraint = 'exclude';
    else if (constraintName === undefined && c.acceptOneOf('INDEX', 'KEY', 'FULLTEXT', 'SPATIAL')) {
      c.acceptOneOf('INDEX', 'KEY');
      constraint = 'index';
    }
    if (constraint) {
      const indexName = constraint === 'index' && !c.is('(') && !c.is('USING') ? c.name() : undefined;
      return [
        {
          op: 'add-constraint',
          table,
          name: constraintName ?? indexName,
          constraint,
          unique,
          notValid: hasWords(clause, 'NOT', 'VALID'),
          usingIndex: hasWords(clause, 'USING', 'INDEX'),
        },
      ];
    }
    if (constraintName !== undefined) return [notRecognised(clause)];
    if (c.accept('PARTITION')) return [{ op: 'fixed', rule: 'table-option', subject: table }];
    c.accept('COLUMN');
    c.accept('IF', 'NOT', 'EXISTS');
    if (c.is('(')) {
      // MySQL: ADD COLUMN (a int, b int)
      return readTableColumns(insideParens(c), dialect).map((column) => ({
        op: 'add-column',
        table,
        column,
      }));
    }
    const column = readColumnDef(c, dialect);
    return column ? [{ op: 'add-column', table, column }] : [notRecognised(clause)];
  }
  if (c.accept('DROP')) {
    if (c.accept('CONSTRAINT') || c.accept('CHECK') || c.accept('FOREIGN', 'KEY')) {
      c.accept('IF', 'EXISTS');
      return [{ op: 'drop-constraint', table, name: c.name() ?? '(unnamed)' }];
    }
    if (c.accept('PRIMARY', 'KEY')) return [{ op: 'drop-constraint', table, name: 'PRIMARY KEY' }];
    if (c.acceptOneOf('INDEX', 'KEY')) {
      c.accept('IF', 'EXISTS');
      return [{ op: 'drop', object: 'index', names: [c.name() ?? '(unnamed)'], cascade: false }];
    }
    if (c.accept('PARTITION')) return [{ op: 'drop', object: 'partition', names: readNames(c), cascade }];
    if (c.is('DEFAULT') || c.is('NOT')) return [notRecognised(clause)];
    c.accept('COLUMN');
    c.accept('IF', 'EXISTS');
    const column = c.name();
    return column ? [{ op: 'drop-column', table, column, cascade }] : [notRecognised(clause)];
  }
  if (c.accept('ALTER')) {
    if (c.accept('CONSTRAINT') || c.accept('INDEX') || c.accept('CHECK'))
      return [{ op: 'fixed', rule: 'table-option', subject: table }];
    c.accept('COLUMN');
    const column = c.name();
    if (!column) return [notRecognised(clause)];
    if (c.accept('TYPE') || c.accept('SET', 'DATA', 'TYPE')) {
      const to = readType(c, dialect);
      if (!to) return [notRecognised(clause)];
      return [{ op: 'change-type', table, column, to, using: hasTopLevelWord(clause, 'USING') }];
    }
    if (c.accept('SET', 'NOT', 'NULL')) return [{ op: 'set-not-null', table, column }];
    if (c.accept('DROP', 'NOT', 'NULL')) return [{ op: 'drop-not-null', table, column }];
    if (c.accept('SET', 'DEFAULT')) return [{ op: 'set-default', table, column }];
    if (c.accept('DROP', 'DEFAULT')) return [{ op: 'drop-default', table, column }];
    if (c.accept('ADD', 'GENERATED')) return [{ op: 'set-default', table, column }];
    if (c.accept('DROP', 'IDENTITY')) return [{ op: 'drop-default', table, column }];
    if (
      c.accept('SET', 'STATISTICS') ||
      c.accept('SET', 'STORAGE') ||
      c.accept('SET', 'COMPRESSION') ||
      c.accept('SET', '(') ||
      c.accept('RESET') ||
      c.accept('SET', 'VISIBLE') ||
      c.accept('SET', 'INVISIBLE')
    )
      return [{ op: 'fixed', rule: 'table-option', subject: `${table}.${column}` }];
    return [notRecognised(clause)];
  }
  if (c.accept('RENAME')) {
    if (c.accept('CONSTRAINT')) {
      const from = c.name();
      if (!from || !c.accept('TO')) return [notRecognised(clause)];
      return [{ op: 'rename', object: 'constraint', table, from, to: c.name() ?? '' }];
    }
    if (c.acceptOneOf('INDEX', 'KEY')) {
      const from = c.name();
      if (!from || !c.accept('TO')) return [notRecognised(clause)];
      return [{ op: 'rename', object: 'index', table, from, to: c.name() ?? '' }];
    }
    if (c.acceptOneOf('TO', 'AS') || (c.word() !== 'COLUMN' && c.peek(1) === undefined)) {
      const to = c.name();
      return to ? [{ op: 'rename', object: 'table', from: table, to }] : [notRecognised(clause)];
    }
    c.accept('COLUMN');
    const from = c.name();
    if (!from || !c.accept('TO')) return [notRecognised(clause)];
    const to = c.name();
    return to ? [{ op: 'rename', object: 'column', table, from, to }] : [notRecognised(clause)];
  }
  if (c.accept('MODIFY')) {
    c.accept('COLUMN');
    const column = readColumnDef(c, dialect);
    return column ? [{ op: 'redefine-column', table, column }] : [notRecognised(clause)];
  }
  if (c.accept('CHANGE')) {
    c.accept('COLUMN');
    const from = c.name();
    const column = from ? readColumnDef(c, dialect) : undefined;
    if (!from || !column) return [notRecognised(clause)];
    const renamed: Change[] =
      from.toLowerCase() === column.name.toLowerCase()
        ? []
        : [{ op: 'rename', object: 'column', table, from, to: column.name }];
    return [...renamed, { op: 'redefine-column', table, column }];
  }
  if (c.accept('VALIDATE', 'CONSTRAINT')) return [{ op: 'validate-constraint', table, name: c.name() ?? '' }];
  if (c.accept('SET', 'SCHEMA'))
    return [{ op: 'rename', object: 'table', from: table, to: `${c.name()}.${table}` }];
  if (c.is('ENABLE', 'ROW') || c.is('FORCE', 'ROW'))
    return [{ op: 'fixed', rule: 'row-security', subject: table }];
  if (c.accept('CONVERT', 'TO')) {
    c.acceptOneOf('CHARACTER', 'CHARSET');
    c.accept('SET');
    const charset = c.name()?.toLowerCase();
    return [
      { op: 'fixed', rule: charset === 'utf8mb4' ? 'convert-utf8mb4' : 'convert-charset', subject: table },
    ];
  }
  const option = c.word();
  if (
    option &&
    [
      'OWNER',
      'SET',
      'RESET',
      'CLUSTER',
      'ENGINE',
      'AUTO_INCREMENT',
      'COMMENT',
      'ALGORITHM',
      'LOCK',
      'ROW_FORMAT',
      'DEFAULT',
      'CHARACTER',
      'CHARSET',
      'COLLATE',
      'FORCE',
      'ENABLE',
      'DISABLE',
      'REPLICA',
      'ORDER',
      'KEY_BLOCK_SIZE',
      'STATS_PERSISTENT',
      'PACK_KEYS',
      'CHECKSUM',
      'OF',
      'NOT',
    ].includes(option) &&
    !(option === 'DEFAULT' && c.word(1) !== 'CHARSET' && c.word(1) !== 'CHARACTER' && c.word(1) !== 'COLLATE')
  )
    return [{ op: 'fixed', rule: 'table-option', subject: table }];
  return [notRecognised(clause)];
};

const alterStatement = (c: Cursor, tokens: Token[], dialect: SqlDialect): Change[] => {
  c.acceptOneOf('ONLINE', 'OFFLINE');
  c.accept('IGNORE');
  const object = readObject(c);
  c.accept('IF', 'EXISTS');
  c.accept('ONLY');
  const name = c.name();
  if (!object || !name) return [{ op: 'unknown', reason: UNPARSED }];
  c.accept('*');
  if (object === 'table') {
    const clauses = splitTopLevel(c.rest(), ',');
    if (clauses.length === 0) return [{ op: 'unknown', reason: UNPARSED }];
    return clauses.flatMap((clause) => alterTableClause(clause, name, dialect));
  }
  const rest = c.rest();
  if (object === 'type') {
    if (c.accept('ADD', 'VALUE')) return [{ op: 'fixed', rule: 'enum-value', subject: name }];
    if (c.accept('RENAME', 'VALUE')) {
      const from = c.name() ?? '';
      c.accept('TO');
      return [{ op: 'rename', object: 'enum value', table: name, from, to: c.name() ?? '' }];
    }
  }
  if (object === 'sequence' && hasTopLevelWord(rest, 'RESTART'))
    return [{ op: 'fixed', rule: 'restart-sequence', subject: name }];
  if (c.is('RENAME', 'TO')) {
    c.pos += 2;
    const to = c.name() ?? '';
    if (object === 'index') return [{ op: 'fixed', rule: 'rename-index', subject: `${name} to ${to}` }];
    return [{ op: 'rename', object, from: name, to }];
  }
  if (c.is('RENAME', 'COLUMN') && (object === 'view' || object === 'materialized view')) {
    c.pos += 2;
    const from = c.name() ?? '';
    c.accept('TO');
    return [{ op: 'rename', object: 'column', table: name, from, to: c.name() ?? '' }];
  }
  if (c.is('SET', 'SCHEMA'))
    return [{ op: 'rename', object, from: name, to: `${rest[2]?.text ?? ''}.${name}` }];
  if (object === 'type' || object === 'domain') return [notRecognised(tokens)];
  // owner, settings, storage and other options of views, indexes, functions, sequences, databases, …
  if (
    [
      'OWNER',
      'SET',
      'RESET',
      'ALTER',
      'INCREMENT',
      'CACHE',
      'OWNED',
      'NO',
      'MINVALUE',
      'MAXVALUE',
      'CYCLE',
      'START',
      'AS',
      'DEFAULT',
      'CHARACTER',
      'CHARSET',
      'COLLATE',
      'ENCRYPTION',
      'READ',
      'ATTACH',
      'DEPENDS',
      'VOLATILE',
      'STABLE',
      'IMMUTABLE',
      'SECURITY',
      'COST',
    ].includes(c.word() ?? '')
  )
    return [{ op: 'fixed', rule: 'table-option', subject: `${object} ${name}` }];
  return [notRecognised(tokens)];
};

/** Reads the changes of one statement from its tokens. */
export const changesFromTokens = (tokens: Token[], dialect: SqlDialect): Change[] => {
  const c = new Cursor(tokens);
  const first = c.word();
  c.pos += 1;
  switch (first) {
    case 'CREATE':
      return createStatement(c, dialect);
    case 'DROP':
      return dropStatement(c, tokens);
    case 'ALTER':
      return alterStatement(c, tokens, dialect);
    case 'TRUNCATE': {
      c.accept('TABLE');
      const tables = readNames(c);
      return tables.length > 0 ? [{ op: 'truncate', tables }] : [{ op: 'unknown', reason: UNPARSED }];
    }
    case 'DELETE': {
      const fromAt = tokens.findIndex((t) => t.type === 'word' && t.value === 'FROM');
      if (fromAt === -1) return [{ op: 'unknown', reason: UNPARSED }];
      const from = new Cursor(tokens.slice(fromAt + 1));
      from.accept('ONLY');
      const table = from.name();
      if (!table) return [{ op: 'unknown', reason: UNPARSED }];
      const where = ['WHERE', 'USING', 'JOIN'].some((w) => hasTopLevelWord(tokens, w));
      return [{ op: 'delete', table, where }];
    }
    case 'UPDATE':
      return updateStatement(c);
    case 'INSERT':
    case 'REPLACE': {
      c.acceptOneOf('LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY');
      c.accept('IGNORE');
      c.accept('INTO');
      const table = c.name();
      if (!table) return [{ op: 'unknown', reason: UNPARSED }];
      const overwrites =
        first === 'REPLACE' ||
        (hasWords(tokens, 'ON', 'CONFLICT') && hasWords(tokens, 'DO', 'UPDATE')) ||
        hasWords(tokens, 'ON', 'DUPLICATE', 'KEY', 'UPDATE');
      return [{ op: 'insert', table, overwrites }];
    }
    case 'RENAME': {
      if (!c.acceptOneOf('TABLE', 'TABLES')) return [{ op: 'unknown', reason: UNPARSED }];
      return splitTopLevel(c.rest(), ',').map((pair): Change => {
        const p = new Cursor(pair);
        const from = p.name();
        const to = p.accept('TO') ? p.name() : undefined;
        return from && to ? { op: 'rename', object: 'table', from, to } : { op: 'unknown', reason: UNPARSED };
      });
    }
    case 'COMMENT': {
      c.accept('ON');
      const object = readObject(c) ?? '';
      return [{ op: 'fixed', rule: 'comment', subject: `${object} ${c.name() ?? ''}`.trim() }];
    }
    case 'GRANT':
    case 'REVOKE': {
      const onAt = tokens.findIndex((t) => t.type === 'word' && t.value === 'ON');
      const on = onAt === -1 ? undefined : new Cursor(tokens.slice(onAt + 1));
      on?.acceptOneOf('TABLE', 'SCHEMA', 'SEQUENCE', 'FUNCTION', 'DATABASE', 'TYPE');
      const subject = on?.name() ?? '';
      return [{ op: 'fixed', rule: first === 'GRANT' ? 'grant' : 'revoke', subject }];
    }
    case 'SET':
    case 'RESET':
      return [{ op: 'fixed', rule: 'setting', subject: words(tokens.slice(1), 2) }];
    case 'BEGIN':
    case 'START':
    case 'COMMIT':
    case 'END':
    case 'ROLLBACK':
    case 'SAVEPOINT':
    case 'RELEASE':
    case 'UNLOCK':
      return [{ op: 'fixed', rule: 'transaction', subject: words(tokens, 2) }];
    case 'SELECT':
    case 'SHOW':
    case 'EXPLAIN':
    case 'DESCRIBE':
    case 'VALUES':
      return [{ op: 'fixed', rule: 'read', subject: '' }];
    case 'ANALYZE':
    case 'ANALYSE':
    case 'VACUUM':
    case 'REINDEX':
    case 'CLUSTER':
    case 'OPTIMIZE':
    case 'CHECKPOINT':
    case 'CHECK':
      return [{ op: 'fixed', rule: 'maintenance', subject: first }];
    case 'LOCK':
      c.acceptOneOf('TABLE', 'TABLES');
      return [{ op: 'fixed', rule: 'lock', subject: c.name() ?? '' }];
    case 'REFRESH':
      c.accept('MATERIALIZED', 'VIEW');
      c.accept('CONCURRENTLY');
      return [{ op: 'fixed', rule: 'refresh', subject: c.name() ?? '' }];
    case 'USE':
      return [{ op: 'fixed', rule: 'use', subject: c.name() ?? '' }];
    case 'DO':
    case 'CALL':
    case 'EXECUTE':
    case 'EXEC':
    case 'PERFORM':
    case 'PREPARE':
      return [{ op: 'fixed', rule: 'procedural', subject: first }];
    default:
      return [{ op: 'unknown', reason: UNPARSED }];
  }
};

export { Cursor, readColumnDef, readType, splitTopLevel };
