import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { z } from 'zod';

/** What a command may touch: its environment, its output streams and its working directory. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** relative paths resolve against it (default: the process's working directory) */
  cwd: string;
  /** stdout is a terminal: long operations redraw one progress line instead of printing line after line */
  isTTY?: boolean;
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

export interface ParseSettings {
  /**
   * The arguments the command takes besides its options, each required, named as its help shows them
   * (`task-id`); none by default
   */
  positionals?: readonly string[];
  /** arguments that may follow the required ones, each at most once (`status [task-id]`); none by default */
  optionalPositionals?: readonly string[];
  /** rewrites the parsed values before zod sees them (defaults from the environment) */
  extra?: (values: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * `parseArgs` (strict) then zod: an unknown option, a bad value, a missing or an extra argument is a
 * `UsageError` that names it and points at the command's `--help`. Returns undefined when `--help` was
 * asked for (then no argument is required).
 */
export const parseCommandLine = <S extends z.ZodType>(
  command: string,
  argv: string[],
  options: Options,
  schema: S,
  settings: ParseSettings = {},
): { options: z.infer<S>; positionals: string[] } | undefined => {
  const name = command.replace(/^devops-agent /, '');
  const names = settings.positionals ?? [];
  const allowed = [...names, ...(settings.optionalPositionals ?? [])];
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: allowed.length > 0,
    });
  } catch (error) {
    const message = (error as Error).message.split('. ')[0] ?? String(error);
    throw new UsageError(`${name}: ${message}; see ${command} --help`);
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  if (positionals.length > allowed.length) {
    const extra = positionals.slice(allowed.length);
    const takes = [
      ...names.map((n) => `<${n}>`),
      ...(settings.optionalPositionals ?? []).map((n) => `[${n}]`),
    ];
    throw new UsageError(
      `${name}: unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((p) => `"${p}"`).join(', ')}: it takes only ${takes.join(' ')}; see ${command} --help`,
    );
  }
  const missing = names[positionals.length];
  if (missing !== undefined) throw new UsageError(`${name}: missing <${missing}>; see ${command} --help`);
  const checked = schema.safeParse((settings.extra ?? ((v) => v))(values));
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const message = issue?.message.includes('--')
      ? issue.message
      : `--${issue?.path.join('.')}: ${issue?.message}`;
    throw new UsageError(`${name}: ${message}; see ${command} --help`);
  }
  return { options: checked.data, positionals };
};

/** `parseCommandLine` for a command without positional arguments: its options, or undefined for `--help`. */
export const parseOptions = <S extends z.ZodType>(
  command: string,
  argv: string[],
  options: Options,
  schema: S,
  extra?: (values: Record<string, unknown>) => Record<string, unknown>,
): z.infer<S> | undefined =>
  parseCommandLine(command, argv, options, schema, extra ? { extra } : {})?.options;

/**
 * The options of the commands that use the local runtime's parts (`local`, `plan`): the configuration,
 * the data folder, the source-control fixture and a kubeconfig.
 */
export const RUNTIME_OPTIONS = {
  config: { type: 'string', default: 'devops-agent.yaml' },
  'data-dir': { type: 'string', default: '.devops-agent/local' },
  'source-control-fixture': {
    type: 'string',
    default: resolve(import.meta.dirname, '..', 'examples/demo/fixtures/source-control.json'),
  },
  kubeconfig: { type: 'string' },
} as const satisfies Options;
