import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import type { CommandStep, Step } from '../../functions/shared/config/schema.js';
import { BadRequestError, StepFailedError, StepKindUnsupportedError } from '../../functions/shared/errors.js';
import type { StepContext, StepOutcome, StepRunner } from '../../functions/shared/ports/step-runner.js';

const TAIL_BYTES = 4096;
const MESSAGE_TAIL_CHARS = 1000;
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** both streams in the order they were written */
  output: string;
  durationMs: number;
}

export interface CommandStepRunnerOptions {
  /** after a timeout's SIGTERM, how long before SIGKILL (ms) */
  killGraceMs?: number;
}

/** Keeps the last `TAIL_BYTES` of a stream. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > TAIL_BYTES * 2) this.compact();
  }
  text(): string {
    this.compact();
    return this.chunks.map((c) => c.toString('utf8')).join('');
  }
  private compact(): void {
    const all = Buffer.concat(this.chunks);
    const kept = all.length > TAIL_BYTES ? all.subarray(all.length - TAIL_BYTES) : all;
    this.chunks = [kept];
    this.size = kept.length;
  }
}

const lastLine = (text: string): string =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ?? '';

const seconds = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

const shorten = (text: string, max: number): string =>
  text.length > max ? `…${text.slice(text.length - max + 1)}` : text;

/** How a command invocation reads in a message: the program and its arguments, shell-quoted for reading only. */
const display = (argv: string[]): string =>
  shorten(argv.map((a) => (/^[\w./:=@%+-]+$/.test(a) ? a : JSON.stringify(a))).join(' '), 200);

/**
 * Runs `command` steps: each of `run`, `record` and `undo` is an argument vector started with
 * `child_process.spawn` and **never a shell**, so values substituted for `{{name}}` placeholders (the
 * task's custom fields among them) are single arguments, whatever characters they contain. `record` runs
 * before `run`; its trimmed stdout becomes `{{previous}}` for `undo`. `node` as the program means the Node
 * running the agent.
 */
export class CommandStepRunner implements StepRunner {
  private readonly baseDir: string;
  private readonly killGraceMs: number;

  /** @param baseDir where commands run; a step's `cwd` is resolved under it and may not leave it */
  constructor(baseDir: string, options: CommandStepRunnerOptions = {}) {
    this.baseDir = resolve(baseDir);
    this.killGraceMs = options.killGraceMs ?? 2000;
  }

  async run(step: Step, context: StepContext): Promise<StepOutcome> {
    const command = this.commandStep(step);
    const cwd = this.cwdOf(command);
    const run = this.expand(command, command.run, context.vars, 'run');
    let undo: Record<string, string> | undefined;
    if (command.record) {
      const record = this.expand(command, command.record, context.vars, 'record');
      const recorded = await this.exec(record, cwd, command.timeout, this.envOf(command, context.vars));
      if (recorded.code !== 0) throw this.failure(command, 'record', record, recorded);
      const previous = recorded.stdout.trim();
      if (!previous) {
        throw new StepFailedError(
          `${command.name}: record (${display(record)}) printed nothing, so the step could not be undone; it was not run`,
        );
      }
      undo = { previous };
      await context.saveUndo?.(undo);
    }
    const result = await this.exec(run, cwd, command.timeout, this.envOf(command, context.vars));
    if (result.code !== 0) {
      // What `record` captured goes with the error: the change may be half made, and rollback needs it.
      throw Object.assign(this.failure(command, 'run', run, result), undo ? { undo } : {});
    }
    return { summary: this.summary(result), ...(undo ? { undo } : {}) };
  }

  async undo(
    step: Step,
    undo: Record<string, string> | undefined,
    context: StepContext,
  ): Promise<{ summary: string; kept?: boolean }> {
    const command = this.commandStep(step);
    if (!command.undo) return { summary: 'nothing to undo', kept: true };
    const cwd = this.cwdOf(command);
    const needed = [...command.undo.join('\n').matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
    const missing = needed.filter((name) => !(name in (undo ?? {})) && !(name in context.vars));
    if (missing.includes('previous')) {
      throw new StepFailedError(
        `${command.name}: cannot undo, nothing was recorded for {{previous}} (the step has ${command.record ? 'a record command that did not run' : 'no record command'})`,
      );
    }
    const argv = this.expand(command, command.undo, { ...context.vars, ...undo }, 'undo');
    const result = await this.exec(argv, cwd, command.timeout, this.envOf(command, context.vars));
    if (result.code !== 0) throw this.failure(command, 'undo', argv, result);
    return { summary: this.summary(result) };
  }

  /** The output of `record` (which only reads), as `run` would capture it; undefined without one. */
  async current(step: Step, context: StepContext): Promise<string | undefined> {
    const command = this.commandStep(step);
    if (!command.record) return undefined;
    const record = this.expand(command, command.record, context.vars, 'record');
    const recorded = await this.exec(
      record,
      this.cwdOf(command),
      command.timeout,
      this.envOf(command, context.vars),
    );
    if (recorded.code !== 0) throw this.failure(command, 'record', record, recorded);
    return shorten(recorded.stdout.trim(), 200) || undefined;
  }

  /** Runs one argument vector without a shell; never throws for the command's own failure. */
  exec(
    argv: string[],
    cwd: string,
    timeoutSeconds: number,
    env: Record<string, string> = {},
  ): Promise<CommandResult> {
    const [program, ...args] = argv;
    if (!program) return Promise.reject(new BadRequestError('a command needs a program'));
    const started = performance.now();
    return new Promise((resolvePromise, reject) => {
      const child = spawn(program === 'node' ? process.execPath : program, args, {
        cwd,
        // the step's variables over the agent's environment; the values are never read by a shell
        // biome-ignore lint/style/noProcessEnv: a child inherits the agent's environment, as spawn does by default
        env: { ...process.env, ...env },
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
      const stdout = new Tail();
      const stderr = new Tail();
      const output = new Tail();
      let timedOut = false;
      let killTimer: NodeJS.Timeout | undefined;
      const timer = setTimeout(
        () => {
          timedOut = true;
          child.kill('SIGTERM');
          killTimer = setTimeout(() => child.kill('SIGKILL'), this.killGraceMs);
          killTimer.unref();
        },
        Math.max(1, timeoutSeconds * 1000),
      );
      child.stdout.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        output.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr.push(chunk);
        output.push(chunk);
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        reject(
          new StepFailedError(
            `cannot start ${JSON.stringify(program)} (${error.code ?? error.message}) in ${cwd}`,
            { cause: error },
          ),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        resolvePromise({
          code,
          signal,
          timedOut,
          stdout: stdout.text(),
          stderr: stderr.text(),
          output: output.text(),
          durationMs: performance.now() - started,
        });
      });
    });
  }

  private commandStep(step: Step): CommandStep {
    if (step.kind !== 'command') {
      throw new StepKindUnsupportedError(
        `CommandStepRunner runs command steps, not ${step.kind} ("${step.name}")`,
      );
    }
    return step;
  }

  private cwdOf(step: CommandStep): string {
    const cwd = resolve(this.baseDir, step.cwd ?? '.');
    const inside = (base: string, path: string) => {
      const rel = relative(base, path);
      return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
    };
    let real = cwd;
    let realBase = this.baseDir;
    try {
      real = realpathSync(cwd);
      realBase = realpathSync(this.baseDir);
    } catch {
      // A missing folder is reported by spawn; the lexical check below still applies.
    }
    if (!inside(this.baseDir, cwd) || !inside(realBase, real)) {
      throw new BadRequestError(
        `${step.name}: cwd "${step.cwd}" is outside ${this.baseDir}; use a folder inside it`,
      );
    }
    return cwd;
  }

  /** The step's `env`, its `{{vars}}` filled in. */
  private envOf(step: CommandStep, vars: Record<string, string>): Record<string, string> {
    const names = Object.keys(step.env);
    const values = this.expand(step, Object.values(step.env), vars, 'env');
    return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
  }

  private expand(step: CommandStep, argv: string[], vars: Record<string, string>, part: string): string[] {
    return argv.map((arg) =>
      arg.replace(PLACEHOLDER, (_match, name: string) => {
        const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
        if (value === undefined) {
          throw new BadRequestError(
            `${step.name}: ${part} uses {{${name}}}, which has no value; known: ${Object.keys(vars).sort().join(', ') || 'none'}`,
          );
        }
        return value;
      }),
    );
  }

  private failure(step: CommandStep, part: string, argv: string[], result: CommandResult): StepFailedError {
    const how = result.timedOut
      ? `timed out after ${step.timeout} s and was stopped`
      : result.code === null
        ? `was killed by ${result.signal}`
        : `exited with code ${result.code}`;
    const tail = result.stderr.trim() || result.stdout.trim();
    return new StepFailedError(
      `${step.name}: ${part} (${display([basename(argv[0] ?? ''), ...argv.slice(1)])}) ${how} after ${seconds(result.durationMs)}${tail ? `: ${shorten(tail, MESSAGE_TAIL_CHARS)}` : ''}`,
    );
  }

  /** The last line the command printed (on either stream), and how long it took. */
  private summary(result: CommandResult): string {
    const line = lastLine(result.output);
    return `${line ? `${shorten(line, 300)} ` : ''}(exit 0, ${seconds(result.durationMs)})`;
  }
}
