import type { SqlDialect } from './types.js';

/**
 * Column types reduced to what decides whether a change of type loses values: the family, and the
 * size within it (bytes for integers and floats, characters or bytes for strings, digits for decimals).
 */

export type TypeFamily =
  | 'integer'
  | 'text'
  | 'binary'
  | 'decimal'
  | 'float'
  | 'temporal'
  | 'boolean'
  | 'other';

export interface SqlType {
  /** canonical lower-case name: int, varchar, text, numeric, timestamptz, … */
  name: string;
  family: TypeFamily;
  /** integers and floats: bytes; text and binary: maximum length, undefined when unbounded */
  size?: number;
  /** decimals: digits, undefined when unbounded; temporal: fractional-second digits */
  precision?: number;
  scale?: number;
  unsigned: boolean;
  array: boolean;
  /** filled in by the database itself (serial types) */
  serial: boolean;
  /** MySQL ENUM and SET: the allowed values */
  values?: string[];
  /** as it reads in a reason */
  display: string;
}

const INTEGER_BYTES: Record<string, number> = {
  tinyint: 1,
  smallint: 2,
  int2: 2,
  smallserial: 2,
  serial2: 2,
  mediumint: 3,
  int: 4,
  integer: 4,
  int4: 4,
  serial: 4,
  serial4: 4,
  bigint: 8,
  int8: 8,
  bigserial: 8,
  serial8: 8,
};
const CANONICAL_INTEGER: Record<number, string> = {
  1: 'tinyint',
  2: 'smallint',
  3: 'mediumint',
  4: 'int',
  8: 'bigint',
};
/** decimal digits an integer of that many bytes can need */
const INTEGER_DIGITS: Record<number, number> = { 1: 3, 2: 5, 3: 8, 4: 10, 8: 19 };

const MYSQL_TEXT_BYTES: Record<string, number> = {
  tinytext: 255,
  text: 65_535,
  mediumtext: 16_777_215,
  longtext: 4_294_967_295,
};
const MYSQL_BLOB_BYTES: Record<string, number> = {
  tinyblob: 255,
  blob: 65_535,
  mediumblob: 16_777_215,
  longblob: 4_294_967_295,
};

const TEMPORAL = new Set([
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'datetime',
  'year',
  'interval',
]);

/**
 * Reads a type from its words (`['character', 'varying']`, `['timestamp', 'with', 'time', 'zone']`),
 * its parenthesised arguments and modifiers.
 */
export const sqlType = (
  dialect: SqlDialect,
  words: string[],
  args: number[] = [],
  modifiers: { unsigned?: boolean; array?: boolean; values?: string[] } = {},
): SqlType => {
  const lower = words.map((w) => w.toLowerCase());
  let name = lower.join(' ');
  if (name === 'character varying' || name === 'char varying' || name === 'national character varying')
    name = 'varchar';
  else if (name === 'character' || name === 'bpchar' || name === 'national character' || name === 'nchar')
    name = 'char';
  else if (name === 'nvarchar') name = 'varchar';
  else if (name === 'double precision' || name === 'float8') name = 'double';
  else if (name === 'float4') name = 'real';
  else if (name === 'decimal' || name === 'dec' || name === 'fixed') name = 'numeric';
  else if (name === 'bool') name = 'boolean';
  else if (/^timestamp with(out)? time zone$/.test(name))
    name = name.includes('without') ? 'timestamp' : 'timestamptz';
  else if (/^time with(out)? time zone$/.test(name)) name = name.includes('without') ? 'time' : 'timetz';
  const unsigned = modifiers.unsigned === true;
  const array = modifiers.array === true;
  const base = { unsigned, array, serial: false };
  const shown = (text: string): string =>
    `${text}${unsigned ? ' unsigned' : ''}${array ? '[]' : ''}`.replace(/\s+/g, ' ');
  // timestamp(3) with time zone: the arguments follow the first words
  const zoneAt = lower.findIndex((w) => w === 'with' || w === 'without');
  const head = zoneAt === -1 ? lower : lower.slice(0, zoneAt);
  const zone = zoneAt === -1 ? '' : ` ${lower.slice(zoneAt).join(' ')}`;
  const display = shown(`${head.join(' ')}${args.length > 0 ? `(${args.join(',')})` : ''}${zone}`);

  const bytes = INTEGER_BYTES[name];
  if (bytes !== undefined) {
    // MySQL's tinyint(1) is its boolean; int(11) is a display width, not a size
    return {
      ...base,
      name: CANONICAL_INTEGER[bytes] as string,
      family: 'integer',
      size: bytes,
      serial: name.includes('serial'),
      display,
    };
  }
  if (name === 'varchar' || name === 'char') {
    const size = args[0] ?? (name === 'char' ? 1 : undefined);
    return { ...base, name, family: 'text', size, display };
  }
  if (name === 'text' || name === 'citext' || name in MYSQL_TEXT_BYTES) {
    const size = dialect === 'mysql' ? MYSQL_TEXT_BYTES[name] : undefined;
    return { ...base, name, family: 'text', size, display };
  }
  if (name === 'bytea' || name === 'binary' || name === 'varbinary' || name in MYSQL_BLOB_BYTES) {
    const size = name === 'bytea' ? undefined : (MYSQL_BLOB_BYTES[name] ?? args[0] ?? 1);
    return { ...base, name, family: 'binary', size, display };
  }
  if (name === 'numeric') {
    // PostgreSQL's bare numeric is unbounded; MySQL's bare DECIMAL is DECIMAL(10,0)
    const precision = args[0] ?? (dialect === 'mysql' ? 10 : undefined);
    const scale = precision === undefined ? undefined : (args[1] ?? 0);
    return { ...base, name, family: 'decimal', precision, scale, display };
  }
  if (name === 'real' || name === 'double' || name === 'float') {
    const size =
      name === 'double' ||
      (name === 'real' && dialect === 'mysql') ||
      (name === 'float' && (args[0] ?? 0) > 24)
        ? 8
        : name === 'float' && dialect === 'postgresql' && args.length === 0
          ? 8
          : 4;
    return { ...base, name: size === 8 ? 'double' : 'real', family: 'float', size, display };
  }
  if (TEMPORAL.has(name)) return { ...base, name, family: 'temporal', precision: args[0], display };
  if (name === 'boolean') return { ...base, name, family: 'boolean', display };
  if ((name === 'enum' || name === 'set') && modifiers.values)
    return {
      ...base,
      name,
      family: 'other',
      values: modifiers.values,
      display: shown(`${name}(${modifiers.values.map((v) => `'${v}'`).join(',')})`),
    };
  return { ...base, name, family: 'other', display };
};

export type TypeChange = 'same' | 'widens' | 'narrows';

/**
 * Whether every value of `from` fits `to` unchanged. `narrows` also covers changes across families
 * (text to integer, json to jsonb): values may be rejected or converted, and the old release expects
 * the old type.
 */
export const compareTypes = (from: SqlType, to: SqlType): TypeChange => {
  if (from.array !== to.array) return 'narrows';
  if (from.family === 'integer' && to.family === 'integer') {
    const a = from.size ?? 0;
    const b = to.size ?? 0;
    if (from.unsigned === to.unsigned) return a === b ? 'same' : b > a ? 'widens' : 'narrows';
    if (from.unsigned) return b > a ? 'widens' : 'narrows';
    return 'narrows';
  }
  if (from.family === 'integer' && to.family === 'decimal') {
    if (to.precision === undefined) return 'widens';
    const digits = INTEGER_DIGITS[from.size ?? 8] ?? 19;
    return to.precision - (to.scale ?? 0) >= digits ? 'widens' : 'narrows';
  }
  if (from.family === 'integer' && to.family === 'float') {
    // a float holds integers exactly up to its mantissa: 24 bits (real), 53 bits (double)
    const exactBytes = to.size === 8 ? 4 : 2;
    return (from.size ?? 8) <= exactBytes ? 'widens' : 'narrows';
  }
  if (from.family !== to.family) return 'narrows';
  switch (from.family) {
    case 'text':
    case 'binary': {
      if (from.family === 'binary' && (from.name === 'binary') !== (to.name === 'binary')) {
        // fixed-length binary pads with zero bytes
        return to.size === undefined || (from.size !== undefined && to.size >= from.size)
          ? 'widens'
          : 'narrows';
      }
      if (to.size === undefined) return from.size === undefined && from.name === to.name ? 'same' : 'widens';
      if (from.size === undefined) return 'narrows';
      if (to.size < from.size) return 'narrows';
      return to.size === from.size && from.name === to.name ? 'same' : 'widens';
    }
    case 'decimal': {
      if (to.precision === undefined) return from.precision === undefined ? 'same' : 'widens';
      if (from.precision === undefined) return 'narrows';
      const fromScale = from.scale ?? 0;
      const toScale = to.scale ?? 0;
      if (from.unsigned !== to.unsigned && !from.unsigned) return 'narrows';
      if (toScale < fromScale || to.precision - toScale < from.precision - fromScale) return 'narrows';
      return toScale === fromScale && to.precision === from.precision ? 'same' : 'widens';
    }
    case 'float':
      return from.size === to.size ? 'same' : (to.size ?? 0) > (from.size ?? 0) ? 'widens' : 'narrows';
    case 'temporal': {
      if (from.name === 'date' && ['timestamp', 'timestamptz', 'datetime'].includes(to.name)) return 'widens';
      if (from.name !== to.name) return 'narrows';
      if (from.precision === to.precision) return 'same';
      if (to.precision === undefined) return 'widens';
      return from.precision !== undefined && to.precision >= from.precision ? 'widens' : 'narrows';
    }
    default: {
      if (from.name !== to.name) return 'narrows';
      if (!from.values || !to.values) return from.values || to.values ? 'narrows' : 'same';
      const allowed = new Set(to.values);
      if (!from.values.every((v) => allowed.has(v))) return 'narrows';
      return from.values.join('\u0000') === to.values.join('\u0000') ? 'same' : 'widens';
    }
  }
};

/**
 * The widest type of its family (bigint, text, unbounded numeric, double, bytea, longtext, longblob):
 * converting a narrower type of the same family into it loses nothing.
 */
export const isWidestOfFamily = (type: SqlType): boolean => {
  if (type.array) return false;
  switch (type.family) {
    case 'integer':
      return type.size === 8 && !type.unsigned;
    case 'text':
      return type.size === undefined || type.name === 'longtext';
    case 'binary':
      return type.size === undefined || type.name === 'longblob';
    case 'decimal':
      return type.precision === undefined;
    case 'float':
      return type.size === 8;
    default:
      return false;
  }
};
