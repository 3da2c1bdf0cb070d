import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, type Node, parse, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { describeExpected, fieldPath, readConfigText } from './issues.js';
import { type Config, ConfigSchema } from './schema.js';

/** Finds the YAML node for a path, falling back to the nearest parent that exists. */
const nodeAt = (doc: ReturnType<typeof parseDocument>, path: readonly PropertyKey[]): Node | undefined => {
  for (let length = path.length; length >= 0; length--) {
    const node = doc.getIn(path.slice(0, length) as (string | number)[], true) as Node | undefined;
    if (node && (node as { range?: unknown }).range) return node;
    if (length === 0 && (isMap(doc.contents) || isSeq(doc.contents))) return doc.contents as Node;
  }
  return undefined;
};

/** Parses and validates configuration text; throws ConfigError naming the file, line and field of each problem. */
export const parseConfig = (text: string, file: string): Config => {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          file,
          line: pos?.line,
          column: pos?.col,
          path: '',
          message: `YAML syntax: ${e.message.split('\n')[0]}`,
        };
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An alias to a missing anchor, or aliases that would expand to a huge document (a "billion laughs").
    throw new ConfigError(
      [
        {
          file,
          line: 1,
          path: '',
          message: `YAML: ${(error as Error).message}; define each anchor (&name) before its alias (*name) and use fewer aliases`,
        },
      ],
      { cause: error },
    );
  }
  // With the input in each issue, a field of the wrong type is not reported as a missing one.
  const result = ConfigSchema.safeParse(data ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => {
    const path = issue.path;
    const node = nodeAt(doc, path);
    const offset = node?.range?.[0];
    const pos = offset === undefined ? undefined : lineCounter.linePos(offset);
    return {
      file,
      line: pos?.line,
      column: pos?.col,
      path: fieldPath(path),
      message: describeExpected(issue),
    };
  });
  throw new ConfigError(issues);
};

export const loadConfigFile = (file: string): Config =>
  parseConfig(readConfigText(file, 'configuration file', 'pass an existing file with --config'), file);

/**
 * A valid configuration file as the JSON a deployed function loads (`parseConfigJson`): the document as
 * written (the function's schema applies the defaults), validated first so that synth fails, not Lambda.
 */
export const configJson = (file: string): string => {
  loadConfigFile(file);
  return JSON.stringify(parse(readFileSync(file, 'utf8')));
};

/**
 * A problem a later rule finds in a valid file (the stack's rules for AWS), located as the loader locates
 * its own: the file, the line of the field at `path` (or of its nearest parent), the field and the message.
 */
export const configIssueAt = (
  file: string,
  path: readonly (string | number)[],
  message: string,
): ConfigIssue => {
  const lineCounter = new LineCounter();
  let offset: number | undefined;
  try {
    offset = nodeAt(parseDocument(readFileSync(file, 'utf8'), { lineCounter }), path)?.range?.[0];
  } catch {
    // the file was loaded a moment ago; without it the issue still names the file and the field
  }
  const pos = offset === undefined ? undefined : lineCounter.linePos(offset);
  return { file, line: pos?.line, column: pos?.col, path: fieldPath(path), message };
};
