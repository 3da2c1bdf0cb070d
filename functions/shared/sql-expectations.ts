import type { SqlCheck, SqlOp } from './config/schema.js';

type Expected = string | number | boolean;

const INTEGER = /^[-+]?\d+$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const TRUE = new Set(['true', 't', '1']);
const FALSE = new Set(['false', 'f', '0']);
/** long values (a JSON column) are cut in details: the result should say what differed, not dump rows */
const SHOWN = 80;

/**
 * A value of a result row as a check compares and shows it; null for SQL NULL. Drivers disagree on types
 * (PostgreSQL sends COUNT(*) as a string, MySQL as a number; dates as Date objects), so everything is
 * compared as text, numerically when both sides are numbers.
 */
export const sqlText = (value: unknown): string | null => {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
};

/** -1, 0 or 1: big integers exactly (migration versions such as 20261127093000), other numbers as numbers. */
const order = (actual: string, expected: string): number => {
  if (INTEGER.test(actual) && INTEGER.test(expected)) {
    const a = BigInt(actual);
    const b = BigInt(expected);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (NUMBER.test(actual) && NUMBER.test(expected)) return Math.sign(Number(actual) - Number(expected));
  return actual < expected ? -1 : actual > expected ? 1 : 0;
};

/** Whether `actual op expected` holds; NULL satisfies no comparison, as in SQL. */
export const sqlHolds = (actual: string | null, op: SqlOp, expected: Expected): boolean => {
  if (actual === null) return false;
  if (typeof expected === 'boolean') {
    // MySQL has no boolean type: EXISTS(...) answers 1, PostgreSQL answers true
    const same = (expected ? TRUE : FALSE).has(actual.toLowerCase());
    if (op === '=') return same;
    if (op === '!=') return !same;
    return false;
  }
  const c = order(actual, String(expected));
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
};

const asComparison = (expectation: Expected | { op: SqlOp; value: string | number }) =>
  typeof expectation === 'object' ? expectation : { op: '=' as const, value: expectation };

const show = (value: string | null): string => {
  if (value === null) return 'NULL';
  return value.length > SHOWN ? `${value.slice(0, SHOWN)}…` : value;
};

const wanted = (op: SqlOp, value: Expected): string => `${op === '=' ? '' : `${op} `}${String(value)}`;

/**
 * What a `sql` check expects, for the plan: `20261127, rows >= 1, not below the value before the deploy`;
 * empty when it expects nothing beyond the query running.
 */
export const describeSqlExpectations = (check: SqlCheck): string =>
  [
    check.expect !== undefined
      ? wanted(asComparison(check.expect).op, asComparison(check.expect).value)
      : undefined,
    check.expect_rows !== undefined
      ? `rows ${asComparison(check.expect_rows).op} ${asComparison(check.expect_rows).value}`
      : undefined,
    check.expect_not_less_than_before ? 'not below the value before the deploy' : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(', ');

/**
 * Judges a query's rows against the check's expectations: `expect` (the first column of the first row),
 * `expect_rows` (the row count) and `expect_not_less_than_before` (against `baseline`). The detail says what
 * was seen and, for each miss, what was expected: `1 row in 4 ms, value=20261120, expected >= 20261127`.
 * A check without expectations passes when the query runs.
 */
export const judgeSqlRows = (
  check: SqlCheck,
  rows: readonly (readonly unknown[])[],
  ms: number,
  baseline?: string,
): { passed: boolean; detail: string } => {
  const problems: string[] = [];
  const seen: string[] = [];
  const first = rows.length > 0 ? sqlText(rows[0]?.[0]) : undefined;
  if (first !== undefined) seen.push(`value=${show(first)}`);
  if (check.expect_rows !== undefined) {
    const { op, value } = asComparison(check.expect_rows);
    if (!sqlHolds(String(rows.length), op, value)) problems.push(`expected rows ${op} ${value}`);
  }
  if (check.expect !== undefined) {
    const { op, value } = asComparison(check.expect);
    if (first === undefined) problems.push(`no row, expected ${wanted(op, value)}`);
    else if (!sqlHolds(first, op, value)) problems.push(`expected ${wanted(op, value)}`);
  }
  if (check.expect_not_less_than_before) {
    if (baseline === undefined) {
      problems.push('no value from before the deploy to compare with (the baseline was not taken)');
    } else if (first === undefined) {
      problems.push(`no row, expected >= ${show(baseline)} (the value before the deploy)`);
    } else if (!sqlHolds(first, '>=', baseline)) {
      problems.push(`expected >= ${show(baseline)} (the value before the deploy)`);
    } else {
      seen.push(`before=${show(baseline)}`);
    }
  }
  const head = `${rows.length} row${rows.length === 1 ? '' : 's'} in ${ms} ms`;
  if (problems.length === 0) return { passed: true, detail: [head, ...seen].join(', ') };
  return { passed: false, detail: [head, ...seen, ...problems].join(', ') };
};
