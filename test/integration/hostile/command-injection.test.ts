import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandStep } from '../../../functions/shared/config/schema.js';
import { BadRequestError } from '../../../functions/shared/errors.js';
import { CommandStepRunner } from '../../../local/adapters/command-step-runner.js';

/** A node one-liner that prints its arguments and one environment variable as JSON. */
const PRINT = [
  'node',
  '-e',
  'process.stdout.write(JSON.stringify({ argv: process.argv.slice(1), env: process.env.TAG }))',
];

const step = (overrides: Partial<CommandStep> = {}): CommandStep => ({
  name: 'Deploy backend',
  kind: 'command',
  run: [...PRINT, '{{image_tag}}', 'release-{{Summary}}'],
  env: { TAG: '{{image_tag}}' },
  timeout: 30,
  ...overrides,
});

/** Payloads that would create `marker` if any shell ever read them. */
const payloads = (marker: string) => [
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `; touch ${marker}`,
  `| touch ${marker}`,
  `&& touch ${marker}`,
  `'; touch ${marker}; echo '`,
  `"; touch ${marker}; echo "`,
  `\ntouch ${marker}\n`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell's ${IFS}, not a template placeholder
  `$(touch${'${IFS}'}${marker})`,
  `> ${marker}`,
];

describe('command steps with hostile values', () => {
  let dir: string;
  let runner: CommandStepRunner;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devops-agent-hostile-'));
    runner = new CommandStepRunner(dir, { killGraceMs: 200 });
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(payloads('MARKER').map((p, i) => [i, p]))(
    'passes shell metacharacters in an image tag and a task field as single arguments, never to a shell (payload %i)',
    async (index) => {
      // Prepare
      const marker = join(dir, `pwned-${index}`);
      const payload = payloads(marker)[index as number] ?? '';

      // Act
      const outcome = await runner.run(step(), {
        deploymentId: 'dep-1',
        service: 'notifications',
        environment: 'production',
        vars: { image_tag: payload, Summary: payload },
      });

      // Assess
      expect(existsSync(marker)).toBe(false);
      expect(JSON.parse(outcome.summary.replace(/ \(exit 0, .*\)$/, ''))).toEqual({
        argv: [payload, `release-${payload}`],
        env: payload,
      });
      expect(readdirSync(dir)).toEqual([]);
    },
  );

  it('runs the undo of a step with a hostile recorded value as one argument, never through a shell', async () => {
    // Prepare
    const marker = join(dir, 'pwned-undo');
    const command = step({
      record: [
        'node',
        '-e',
        `process.stdout.write(${JSON.stringify(`$(touch ${marker}); touch ${marker}`)})`,
      ],
      undo: [...PRINT, '{{previous}}'],
    });
    const context = {
      deploymentId: 'dep-1',
      service: 'notifications',
      environment: 'production',
      vars: { image_tag: 'v1', Summary: 's' },
    };
    const { undo } = await runner.run(command, context);

    // Act
    const undone = await runner.undo(command, undo, context);

    // Assess
    expect(existsSync(marker)).toBe(false);
    expect(undone.summary).toContain(JSON.stringify(`$(touch ${marker}); touch ${marker}`));
  });

  it.each([['../outside'], ['/tmp'], ['app/../..']])(
    'refuses the cwd %j that leaves the base folder, with a clear error, before running anything',
    async (cwd) => {
      // Prepare
      const marker = join(dir, 'ran');

      // Act
      const run = runner.run(
        step({ cwd, run: ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`] }),
        {
          deploymentId: 'dep-1',
          service: 'notifications',
          environment: 'production',
          vars: {},
        },
      );

      // Assess
      await expect(run).rejects.toThrow(BadRequestError);
      await expect(run).rejects.toThrow(/is outside .*; use a folder inside it/);
      expect(existsSync(marker)).toBe(false);
    },
  );
});
