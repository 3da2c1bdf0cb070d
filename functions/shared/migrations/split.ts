import type { SqlDialect } from './types.js';

/**
 * A lexer for migration files: it splits a file into statements and each statement into tokens, the way
 * the database's own client would. Semicolons inside strings, quoted identifiers, comments and
 * PostgreSQL dollar-quoted bodies do not end a statement; MySQL's client-side `DELIMITER` is honoured.
 */

export type TokenType = 'word' | 'identifier' | 'string' | 'number' | 'punct' | 'param';

export interface Token {
  type: TokenType;
  /** the token as written (a string or identifier keeps its quotes) */
  text: string;
  /** words upper-cased, quoted identifiers unquoted (case kept), strings unquoted */
  value: string;
}

export interface RawStatement {
  /** the statement as written, comments included, without its delimiter */
  text: string;
  /** the statement with comments blanked out (MySQL executable comments unwrapped), for the parser */
  code: string;
  tokens: Token[];
  /** a string, quoted identifier, comment or dollar-quoted body is still open at the end of the input */
  unterminated: boolean;
}

const isWordStart = (c: string): boolean => /[A-Za-z_\u0080-\uffff]/.test(c);
const isWordPart = (c: string): boolean => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
const isSpace = (c: string): boolean => /\s/.test(c);
const ROUTINES = new Set(['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT']);
const MYSQL_BLOCKS = new Set(['BEGIN', 'CASE', 'LOOP', 'WHILE', 'REPEAT']);
const IF_STATEMENT_AFTER = new Set([';', ':', 'BEGIN', 'THEN', 'ELSE', 'DO', 'LOOP', 'REPEAT']);
const TWO_CHAR_PUNCT = new Set(['::', '<=', '>=', '<>', '!=', '||', '=>', ':=', '->']);

/** Splits SQL into statements; statements made only of comments and blanks are left out. */
export const splitStatements = (sql: string, dialect: SqlDialect): RawStatement[] => {
  const mysql = dialect === 'mysql';
  const statements: RawStatement[] = [];
  let delimiter = ';';
  let text = '';
  let code = '';
  let tokens: Token[] = [];
  let unterminated = false;
  // Routine bodies hold semicolons: PostgreSQL's BEGIN ATOMIC … END, and MySQL's BEGIN … END in
  // CREATE PROCEDURE / FUNCTION / TRIGGER / EVENT (the server takes them whole). Depth of open blocks.
  let bodyDepth = 0;
  // MySQL: this statement creates a routine
  let routine = false;
  // inside a MySQL executable comment (/*! … */), whose content is code
  let executableComment = false;

  const flush = (): void => {
    // a body never closed swallowed the rest of the file: classified as unreadable
    if (tokens.length > 0)
      statements.push({
        text: text.trim(),
        code: code.trim(),
        tokens,
        unterminated: unterminated || bodyDepth > 0,
      });
    text = '';
    code = '';
    tokens = [];
    unterminated = false;
    bodyDepth = 0;
    routine = false;
  };
  const push = (type: TokenType, raw: string, value: string): void => {
    tokens.push({ type, text: raw, value });
    const previous = tokens[tokens.length - 2];
    if (mysql) {
      // CREATE [DEFINER = …] PROCEDURE / FUNCTION / TRIGGER / EVENT, before any parenthesis (not a column)
      if (
        type === 'word' &&
        tokens[0]?.value === 'CREATE' &&
        ROUTINES.has(value) &&
        !tokens.some((t) => t.type === 'punct' && t.value === '(')
      )
        routine = true;
      if (!routine) return;
      if (type !== 'word') return;
      if (value === 'END') bodyDepth = Math.max(0, bodyDepth - 1);
      else if (previous?.value !== 'END' && MYSQL_BLOCKS.has(value)) bodyDepth += 1;
      // the IF statement (not IF(…) in an expression, nor IF EXISTS) starts a statement of the body
      else if (value === 'IF' && IF_STATEMENT_AFTER.has(previous?.value ?? '')) bodyDepth += 1;
      return;
    }
    if (type !== 'word') return;
    if (value === 'ATOMIC' && previous?.value === 'BEGIN') bodyDepth = 1;
    else if (bodyDepth > 0 && (value === 'CASE' || (value === 'BEGIN' && previous?.value !== 'ATOMIC')))
      bodyDepth += 1;
    else if (bodyDepth > 0 && value === 'END') bodyDepth -= 1;
  };

  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1] ?? '';

    // MySQL client command: DELIMITER <string> on its own line, between statements
    if (mysql && tokens.length === 0 && /^delimiter\s/i.test(sql.slice(i, i + 10))) {
      const end = sql.indexOf('\n', i);
      const line = sql.slice(i, end === -1 ? n : end);
      const chosen = line.slice('delimiter'.length).trim();
      if (chosen) delimiter = chosen;
      i = end === -1 ? n : end + 1;
      continue;
    }

    if (sql.startsWith(delimiter, i) && bodyDepth === 0) {
      flush();
      i += delimiter.length;
      continue;
    }

    if (isSpace(c)) {
      text += c;
      code += c;
      i += 1;
      continue;
    }

    // comments: -- (MySQL wants a blank after it), # (MySQL), /* */ (nested in PostgreSQL)
    if (c === '-' && next === '-' && (!mysql || i + 2 >= n || isSpace(sql[i + 2] as string))) {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      text += sql.slice(i, stop);
      code += ' ';
      i = stop;
      continue;
    }
    if (mysql && c === '#') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      text += sql.slice(i, stop);
      code += ' ';
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      // MySQL executes /*! … */ and /*M! … */ (MariaDB): their content is code, not a comment
      const executable = mysql ? /^\/\*M?!\d*/.exec(sql.slice(i, i + 12)) : null;
      if (executable) {
        executableComment = true;
        text += executable[0];
        code += ' ';
        i += executable[0].length;
        continue;
      }
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (!mysql && sql[j] === '/' && sql[j + 1] === '*') {
          depth += 1;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth -= 1;
          j += 2;
        } else j += 1;
      }
      if (depth > 0) unterminated = true;
      text += sql.slice(i, j);
      code += ' ';
      i = j;
      continue;
    }
    // the end of an unwrapped MySQL executable comment
    if (executableComment && c === '*' && next === '/') {
      executableComment = false;
      text += '*/';
      code += ' ';
      i += 2;
      continue;
    }

    // PostgreSQL dollar quotes: $$ … $$ or $tag$ … $tag$
    if (!mysql && c === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        const stop = end === -1 ? n : end + tag[0].length;
        if (end === -1) unterminated = true;
        const raw = sql.slice(i, stop);
        push('string', raw, raw.slice(tag[0].length, raw.length - tag[0].length));
        text += raw;
        code += raw;
        i = stop;
        continue;
      }
      const param = /^\$\d+/.exec(sql.slice(i, i + 12));
      if (param) {
        push('param', param[0], param[0]);
        text += param[0];
        code += param[0];
        i += param[0].length;
        continue;
      }
    }

    // strings and quoted identifiers
    const escapeString = !mysql && (c === 'E' || c === 'e') && next === "'" && !isWordPart(sql[i - 1] ?? ' ');
    const quote = escapeString ? "'" : c;
    if (quote === "'" || quote === '"' || (mysql && quote === '`')) {
      const backslashes = mysql ? quote !== '`' : escapeString;
      let j = escapeString ? i + 2 : i + 1;
      let closed = false;
      while (j < n) {
        const d = sql[j];
        if (backslashes && d === '\\') j += 2;
        else if (d === quote && sql[j + 1] === quote) j += 2;
        else if (d === quote) {
          j += 1;
          closed = true;
          break;
        } else j += 1;
      }
      if (!closed) unterminated = true;
      const raw = sql.slice(i, Math.min(j, n));
      const body = raw
        .slice(escapeString ? 2 : 1, closed ? -1 : undefined)
        .split(quote + quote)
        .join(quote);
      const identifier = quote === '`' || (quote === '"' && !mysql);
      push(identifier ? 'identifier' : 'string', raw, body);
      text += raw;
      code += raw;
      i = Math.min(j, n);
      continue;
    }

    if (isWordStart(c)) {
      let j = i + 1;
      // a custom delimiter may follow a word directly (MySQL: END$$)
      while (j < n && isWordPart(sql[j] as string) && !(delimiter !== ';' && sql.startsWith(delimiter, j)))
        j += 1;
      const raw = sql.slice(i, j);
      push('word', raw, raw.toUpperCase());
      text += raw;
      code += raw;
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next))) {
      const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(sql.slice(i)) as RegExpExecArray;
      push('number', num[0], num[0]);
      text += num[0];
      code += num[0];
      i += num[0].length;
      continue;
    }
    const pair = c + next;
    const punct = TWO_CHAR_PUNCT.has(pair) ? pair : c;
    push('punct', punct, punct);
    text += punct;
    code += punct;
    i += punct.length;
  }
  flush();
  return statements;
};
