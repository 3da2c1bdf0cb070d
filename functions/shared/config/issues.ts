import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

/** What a schema issue expects, in words a person editing the file acts on. */
export const describeExpected = (issue: z.core.$ZodIssue): string => {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined)
    return `required field is missing (expected ${issue.expected})`;
  return issue.message;
};

/** `services[0].verification[1]`: a path as the issues name it. */
export const fieldPath = (path: readonly PropertyKey[]): string =>
  path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');

/** A configuration file's text, or a ConfigError naming the file, why it cannot be read and `fix`. */
export const readConfigText = (file: string, what: string, fix: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      [
        {
          file,
          path: '',
          message: `cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? error}); ${fix}`,
        },
      ],
      { cause: error },
    );
  }
};
