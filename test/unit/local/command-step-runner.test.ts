import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandStep, Step } from '../../../functions/shared/config/schema.js';
import { BadRequestError, StepFailedError } from '../../../functions/shared/errors.js';
import type { StepContext } from '../../../functions/shared/ports/step-runner.js';
import { CommandStepRunner } from '../../../local/adapters/command-step-runner.js';

const step = (overrides: Partial<CommandStep>): CommandStep => ({
  name: 'Deploy backend',
  kind: 'command',
  run: ['node', '-e', 'process.stdout.write("ok\\n")'],
  env: {},
  timeout: 30,
  ...overrides,
});

const context = (vars: Record<string, string> = {}): StepContext => ({
  deploymentId: 'dep-1',
  service: 'user-notifications',
  environment: 'production',
  vars: { deploymentId: 'dep-1', ...vars },
});

/** A node one-liner that prints its arguments as JSON. */
const printArgs = ['node', '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))'];

describe('CommandStepRunner', () => {
  let dir: string;
  let runner: CommandStepRunner;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devops-agent-command-'));
    runner = new CommandStepRunner(dir, { killGraceMs: 200 });
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the command and sums it up with its last line of output', async () => {
    // Act
    const outcome = await runner.run(
      step({ run: ['node', '-e', 'console.log("migrating"); console.log("applied 0042")'] }),
      context(),
    );

    // Assess
    expect(outcome.summary).toMatch(/^applied 0042 \(exit 0, \d+/);
    expect(outcome.undo).toBeUndefined();
  });

  it('sums up with the last line printed on either stream', async () => {
    // Act
    const outcome = await runner.run(
      step({
        run: ['node', '-e', 'console.log("v1"); setTimeout(() => console.error("release v2 is live"), 20)'],
      }),
      context(),
    );

    // Assess
    expect(outcome.summary).toMatch(/^release v2 is live \(exit 0, \d+ ms\)$/);
  });

  it('replaces placeholders and passes shell metacharacters in a value literally', async () => {
    // Prepare
    const hostile = 'v2; rm -rf "$HOME" && $(touch pwned) `touch pwned2` | cat > pwned3 *';
    const marker = join(dir, 'pwned');

    // Act
    const outcome = await runner.run(
      step({ run: [...printArgs, '{{release}}', 'id={{ deploymentId }}', '{{release}}{{release}}'] }),
      context({ release: hostile }),
    );

    // Assess
    const printed = outcome.summary.replace(/ \(exit 0, .*\)$/, '');
    expect(JSON.parse(printed)).toEqual([hostile, 'id=dep-1', `${hostile}${hostile}`]);
    expect(() => readFileSync(marker)).toThrow();
    expect(() => readFileSync(join(dir, 'pwned3'))).toThrow();
  });

  it('refuses a placeholder that has no value before running anything', async () => {
    // Prepare
    const marker = join(dir, 'ran');

    // Act
    const run = runner.run(
      step({
        run: ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`, '{{nope}}'],
      }),
      context(),
    );

    // Assess
    await expect(run).rejects.toThrow(BadRequestError);
    expect(() => readFileSync(marker)).toThrow();
  });

  it('fails with the exit code and the stderr tail', async () => {
    // Act
    const run = runner.run(
      step({
        run: ['node', '-e', 'console.error("x".repeat(5000) + " connection refused"); process.exit(3)'],
      }),
      context(),
    );

    // Assess
    await expect(run).rejects.toThrow(StepFailedError);
    await expect(run).rejects.toThrow(/exited with code 3 after .*connection refused$/);
  });

  it('keeps only the last 4 KB of a chatty command', async () => {
    // Act
    const result = await runner.exec(
      ['node', '-e', 'for (let i = 0; i < 5000; i++) console.log("line " + i)'],
      dir,
      30,
    );

    // Assess
    expect(result.code).toBe(0);
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(4096);
    expect(result.stdout.trim().endsWith('line 4999')).toBe(true);
  });

  it('stops a command that runs past its timeout', async () => {
    // Act
    const run = runner.run(
      step({ run: ['node', '-e', 'setInterval(() => {}, 1000)'], timeout: 0.3 }),
      context(),
    );

    // Assess
    await expect(run).rejects.toThrow(/timed out after 0.3 s and was stopped/);
  });

  it('reports a program that does not exist as a failed step', async () => {
    // Act
    const run = runner.run(step({ run: ['devops-agent-no-such-program-xyz'] }), context());

    // Assess
    await expect(run).rejects.toThrow(StepFailedError);
    await expect(run).rejects.toThrow(/cannot start "devops-agent-no-such-program-xyz" \(ENOENT\)/);
  });

  it('runs in cwd under the base folder', async () => {
    // Prepare
    mkdirSync(join(dir, 'app'));

    // Act
    const outcome = await runner.run(
      step({ cwd: 'app', run: ['node', '-e', 'process.stdout.write(process.cwd())'] }),
      context(),
    );

    // Assess
    expect(outcome.summary).toContain(join(dir, 'app'));
  });

  it.each([['..'], ['../elsewhere'], ['/tmp'], ['app/../../x']])(
    'refuses the cwd %j outside the base folder',
    async (cwd) => {
      // Act
      const run = runner.run(step({ cwd }), context());

      // Assess
      await expect(run).rejects.toThrow(BadRequestError);
    },
  );

  it('refuses a cwd that is a link leading outside the base folder', async () => {
    // Prepare
    const outside = mkdtempSync(join(tmpdir(), 'devops-agent-outside-'));
    symlinkSync(outside, join(dir, 'escape'));

    try {
      // Act
      const run = runner.run(step({ cwd: 'escape' }), context());

      // Assess
      await expect(run).rejects.toThrow(BadRequestError);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('records the previous state before running and undoes with {{previous}}', async () => {
    // Prepare
    const state = join(dir, 'release.txt');
    const write = (value: string) => [
      'node',
      '-e',
      `const fs = require('fs'); const f = ${JSON.stringify(state)}; const prev = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : 'none'; fs.writeFileSync(f, process.argv[1]); console.log(prev)`,
      value,
    ];
    const read = [
      'node',
      '-e',
      `process.stdout.write('  ' + require('fs').readFileSync(${JSON.stringify(state)}, 'utf8') + '\\n\\n')`,
    ];
    await runner.exec(write('v1'), dir, 30);
    const deploy = step({ record: read, run: write('{{release}}'), undo: write('{{previous}}') });

    // Act
    const outcome = await runner.run(deploy, context({ release: 'v2' }));
    const afterRun = readFileSync(state, 'utf8');
    const undone = await runner.undo(deploy, outcome.undo, context({ release: 'v2' }));
    const afterUndo = readFileSync(state, 'utf8');

    // Assess
    expect(outcome.undo).toEqual({ previous: 'v1' });
    expect({ afterRun, afterUndo }).toEqual({ afterRun: 'v2', afterUndo: 'v1' });
    expect(undone.kept).toBeUndefined();
    expect(undone.summary).toMatch(/^v2 \(exit 0/);
  });

  it('hands what record captured to saveUndo before the run starts, so a process killed mid-run can still be undone', async () => {
    // Prepare: the run writes a marker; saveUndo notes whether the run had started when it was called
    const marker = join(dir, 'started.txt');
    const saved: { undo: Record<string, string>; runStarted: boolean }[] = [];
    const deploy = step({
      record: ['node', '-e', 'console.log("v1")'],
      run: ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`],
    });

    // Act
    const outcome = await runner.run(deploy, {
      ...context(),
      saveUndo: async (undo) => {
        saved.push({ undo, runStarted: existsSync(marker) });
      },
    });

    // Assess
    expect(saved).toEqual([{ undo: { previous: 'v1' }, runStarted: false }]);
    expect(outcome.undo).toEqual({ previous: 'v1' });
    expect(existsSync(marker)).toBe(true);
  });

  it('gives the command its environment, with {{vars}} filled in as plain values', async () => {
    // Prepare
    const deploy = step({
      run: ['node', '-e', 'process.stdout.write(process.env.RELEASE + "|" + process.env.NOTE)'],
      env: { RELEASE: '{{release}}', NOTE: '$(rm -rf /); `x`' },
    });

    // Act
    const outcome = await runner.run(deploy, context({ release: 'v2.4.0' }));

    // Assess
    expect(outcome.summary).toContain('v2.4.0|$(rm -rf /); `x`');
  });

  it('tells the plan what the step replaces from record, without running the step', async () => {
    // Prepare
    const marker = join(dir, 'ran');
    const deploy = step({
      record: ['node', '-e', 'console.log("v1.4.2")'],
      run: ['node', '-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "x")`],
    });

    // Act
    const [withRecord, without] = await Promise.all([
      runner.current(deploy, context()),
      runner.current(step({}), context()),
    ]);

    // Assess
    expect(withRecord).toBe('v1.4.2');
    expect(without).toBeUndefined();
    expect(() => readFileSync(marker)).toThrow();
  });

  it('hands what record captured to the error when the run fails, so rollback can restore it', async () => {
    // Prepare
    const deploy = step({
      record: ['node', '-e', 'console.log("v1")'],
      run: ['node', '-e', 'process.exit(1)'],
      undo: ['node', '-e', 'console.log(process.argv[1])', '{{previous}}'],
    });

    // Act
    const error = await runner.run(deploy, context()).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as { undo?: Record<string, string> }).undo).toEqual({ previous: 'v1' });
  });

  it('does not run the step when record fails or prints nothing', async () => {
    // Prepare
    const marker = join(dir, 'ran');
    const run = ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`];

    // Act
    const results = await Promise.allSettled([
      runner.run(step({ record: ['node', '-e', 'process.exit(4)'], run }), context()),
      runner.run(step({ record: ['node', '-e', ''], run }), context()),
    ]);

    // Assess
    expect(results.map((r) => r.status === 'rejected' && String(r.reason))).toEqual([
      expect.stringMatching(/record .* exited with code 4/),
      expect.stringMatching(/record .* printed nothing/),
    ]);
    expect(() => readFileSync(marker)).toThrow();
  });

  it('keeps a step without undo and says there was nothing to undo', async () => {
    // Act
    const undone = await runner.undo(step({}), undefined, context());

    // Assess
    expect(undone).toEqual({ summary: 'nothing to undo', kept: true });
  });

  it('refuses to undo with {{previous}} when nothing was recorded', async () => {
    // Act
    const undo = runner.undo(step({ undo: ['node', '-e', '', '{{previous}}'] }), undefined, context());

    // Assess
    await expect(undo).rejects.toThrow(/nothing was recorded for \{\{previous\}\}/);
  });

  it('fails the undo with its exit code when the undo command fails', async () => {
    // Act
    const undo = runner.undo(
      step({ undo: ['node', '-e', 'console.error("cannot restore"); process.exit(2)'] }),
      { previous: 'v1' },
      context(),
    );

    // Assess
    await expect(undo).rejects.toThrow(/undo .* exited with code 2 .*: cannot restore/);
  });

  it('rejects a step of another kind', async () => {
    // Prepare
    const other = {
      name: 'Sync',
      kind: 's3-sync',
      source: 'dist',
      bucket: 'b',
      prefix: '',
      timeout: 60,
    } as Step;

    // Act
    const run = runner.run(other, context());

    // Assess
    await expect(run).rejects.toThrow(/runs command steps, not s3-sync/);
  });
});
