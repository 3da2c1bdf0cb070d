import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { z } from 'zod';

/** What a command may touch: its environment, its output streams and its working directory. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** relative paths resolve against it (default: the process's working directory) */
  cwd: string;
}

/** A failure the user can fix; `main` prints its message as one line and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line itself is wrong: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` (strict, no positionals) then zod: an unknown option or a bad value is a `UsageError` that
 * names the option and points at the command's `--help`. Returns undefined when `--help` was asked for.
 */
export const parseOptions = <S extends z.ZodType>(
  command: string,
  argv: string[],
  options: Options,
  schema: S,
  extra: (values: Record<string, unknown>) => Record<string, unknown> = (v) => v,
): z.infer<S> | undefined => {
  const name = command.replace(/^devops-agent /, '');
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    const message = (error as Error).message.split('. ')[0] ?? String(error);
    throw new UsageError(`${name}: ${message}; see ${command} --help`);
  }
  if (values.help) return undefined;
  const parsed = schema.safeParse(extra(values));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message = issue?.message.includes('--')
      ? issue.message
      : `--${issue?.path.join('.')}: ${issue?.message}`;
    throw new UsageError(`${name}: ${message}; see ${command} --help`);
  }
  return parsed.data;
};
