import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../../../functions/shared/config/load.js';
import { ConfigError } from '../../../functions/shared/errors.js';
import { CONFIG } from '../../fixtures/config.js';

const RUNS = { numRuns: 200 };
const FILE = 'devops-agent.yaml';

/** Parses, returning the ConfigError instead of throwing it; any other error fails the test. */
const load = (text: string) => {
  try {
    return { config: parseConfig(text, FILE) };
  } catch (error) {
    if (error instanceof ConfigError) return { error };
    throw error;
  }
};

/** Every issue names the file and points somewhere: a line, or the field's path. */
const expectLocated = (error: ConfigError) => {
  expect(error.issues.length).toBeGreaterThan(0);
  for (const issue of error.issues) {
    expect(issue.file).toBe(FILE);
    expect(issue.line !== undefined || issue.path !== '').toBe(true);
    expect(issue.message.length).toBeGreaterThan(0);
  }
  expect(error.message).toContain(FILE);
};

/** Edits a person (or an attacker) could make to a valid file: cut, duplicate, insert or retype text. */
const mutated = fc
  .array(
    fc.tuple(
      fc.constantFrom('cut', 'insert', 'duplicate-line', 'drop-line'),
      fc.nat(),
      fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom(
          ': ',
          '- ',
          '\t',
          '{',
          '[',
          '&a ',
          '*a',
          '*b',
          '!!binary ',
          '<<: *a',
          '"',
          '\n  ',
          '\u0000',
          '..',
          '---\n',
        ),
      ),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((edits) => {
    let text = CONFIG;
    for (const [edit, at, insert] of edits) {
      const i = at % (text.length + 1);
      const lines = text.split('\n');
      const l = at % lines.length;
      if (edit === 'cut') text = `${text.slice(0, i)}${text.slice(i + 1 + (at % 7))}`;
      if (edit === 'insert') text = `${text.slice(0, i)}${insert}${text.slice(i)}`;
      if (edit === 'duplicate-line') text = [...lines.slice(0, l + 1), ...lines.slice(l)].join('\n');
      if (edit === 'drop-line') text = [...lines.slice(0, l), ...lines.slice(l + 1)].join('\n');
    }
    return text;
  });

const serviceName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,19}$/);
/** Emails as people have them (zod's email check is stricter than RFC 5322, on purpose). */
const email = fc
  .stringMatching(/^[a-z0-9][a-z0-9_.+-]{0,15}[a-z0-9]@[a-z0-9]{1,10}\.[a-z]{2,6}$/)
  .filter((e) => !e.includes('..'));
const stepName = fc.string({ minLength: 1, maxLength: 40 });
const argv = fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 4 });
const cwd = fc
  .array(fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 3 })
  .map((p) => p.join('/'));
/** A valid service block: unique step names, at least one approver, a quorum it can meet. */
const service = fc
  .record({
    name: serviceName,
    listId: fc.string({ minLength: 1, maxLength: 12 }),
    steps: fc.uniqueArray(
      fc.record({
        name: stepName,
        run: argv,
        undo: fc.option(argv, { nil: undefined }),
        cwd: fc.option(cwd, { nil: undefined }),
      }),
      {
        minLength: 1,
        maxLength: 4,
        selector: (s) => s.name,
      },
    ),
    approvers: fc.uniqueArray(email, { minLength: 1, maxLength: 3 }),
  })
  .chain((s) => fc.record({ s: fc.constant(s), quorum: fc.integer({ min: 1, max: s.approvers.length }) }));
const validConfig = fc
  .uniqueArray(service, { minLength: 1, maxLength: 3, selector: ({ s }) => s.name })
  .map((services) => ({
    services: services.map(({ s, quorum }) => ({
      name: s.name,
      tracker: { list_id: s.listId },
      approvers: s.approvers.map((email) => ({ email })),
      approval: { quorum },
      steps: s.steps.map((step) => ({
        name: step.name,
        kind: 'command',
        run: step.run,
        ...(step.undo ? { undo: step.undo } : {}),
        ...(step.cwd ? { cwd: step.cwd } : {}),
      })),
    })),
  }));

describe('parseConfig (properties)', () => {
  it('answers any text with a Config or a ConfigError naming the file and a line or field, never another error', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), mutated),
        (text) => {
          // Act
          const { error } = load(text);

          // Assess
          if (error) expectLocated(error);
        },
      ),
      RUNS,
    );
  });

  it('answers any YAML document with a Config or a located ConfigError', () => {
    fc.assert(
      fc.property(
        fc.anything({ maxDepth: 4, withNullPrototype: true, withMap: true, withSet: true }),
        (value) => {
          // Prepare
          // `stringify(undefined)` is undefined, not text
          const text = stringify(value) ?? '';

          // Act
          const { error } = load(text);

          // Assess
          if (error) expectLocated(error);
        },
      ),
      RUNS,
    );
  });

  it('loads every valid generated configuration with its services, steps and approvers as written', () => {
    fc.assert(
      fc.property(validConfig, (config) => {
        // Act
        const loaded = parseConfig(stringify(config), FILE);

        // Assess
        expect(loaded.services.map((s) => s.name)).toEqual(config.services.map((s) => s.name));
        expect(
          loaded.services.map((s) => s.steps.map((st) => [st.name, 'run' in st ? st.run : undefined])),
        ).toEqual(config.services.map((s) => s.steps.map((st) => [st.name, st.run])));
        expect(loaded.services.map((s) => s.approvers.map((a) => a.email))).toEqual(
          config.services.map((s) => s.approvers.map((a) => a.email)),
        );
      }),
      RUNS,
    );
  });

  it('refuses a valid configuration with one required field removed, naming that field', () => {
    fc.assert(
      fc.property(validConfig, fc.constantFrom('name', 'tracker', 'steps'), fc.nat(), (config, field, at) => {
        // Prepare
        const index = at % config.services.length;
        const broken = structuredClone(config) as { services: Record<string, unknown>[] };
        delete broken.services[index]?.[field];

        // Act
        const { error } = load(stringify(broken));

        // Assess
        expect(error).toBeInstanceOf(ConfigError);
        expect(error?.issues.map((i) => i.path)).toContain(`services[${index}].${field}`);
      }),
      RUNS,
    );
  });
  it('names a field of the wrong type as such, never as a missing one', () => {
    fc.assert(
      fc.property(
        validConfig,
        fc.constantFrom('tracker', 'steps', 'approvers'),
        fc.oneof(fc.integer(), fc.boolean(), fc.string({ minLength: 1, maxLength: 8 })),
        fc.nat(),
        (config, field, value, at) => {
          // Prepare
          const index = at % config.services.length;
          const broken = structuredClone(config) as { services: Record<string, unknown>[] };
          (broken.services[index] as Record<string, unknown>)[field] = value;

          // Act
          const { error } = load(stringify(broken));

          // Assess
          const issue = error?.issues.find((i) => i.path === `services[${index}].${field}`);
          expect(issue?.message).toMatch(/expected (object|array), received/);
          expect(issue?.message).not.toContain('missing');
        },
      ),
      RUNS,
    );
  });
});

describe('parseConfig (hostile YAML)', () => {
  it('refuses an alias bomb ("billion laughs") with a ConfigError instead of expanding it', () => {
    // Prepare
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${prev}`).join(', ')}]`,
      );
    }

    // Act
    const { error } = load(levels.join('\n'));

    // Assess
    expect(error?.issues[0]).toMatchObject({
      file: FILE,
      line: 1,
      message: expect.stringContaining('alias'),
    });
  });

  it('refuses an alias to an anchor that is not defined with a ConfigError saying how to fix it', () => {
    // Act
    const { error } = load(`${CONFIG}\nextra: *nowhere\n`);

    // Assess
    expect(error?.issues[0]).toMatchObject({
      file: FILE,
      message: expect.stringContaining('define each anchor (&name) before its alias (*name)'),
    });
  });

  it.each([['../..'], ['/etc'], ['app/../../outside'], ['C:\\Windows'], ['\\\\server\\share'], ['app/..']])(
    'refuses the command step cwd %j outside the base directory, naming the file, line and field',
    (dir) => {
      // Prepare
      const text = CONFIG.replace(
        'run: [deploy, backend],',
        `run: [deploy, backend], cwd: ${JSON.stringify(dir)},`,
      );

      // Act
      const { error } = load(text);

      // Assess
      expect(error?.issues).toEqual([
        expect.objectContaining({
          file: FILE,
          line: expect.any(Number),
          path: 'services[0].steps[1].cwd',
          message: expect.stringContaining('cannot be absolute or use ..'),
        }),
      ]);
    },
  );

  it('accepts a command step cwd inside the base directory, even one whose name starts with dots', () => {
    // Prepare
    const text = CONFIG.replace('run: [deploy, backend],', 'run: [deploy, backend], cwd: "apps/..backend",');

    // Act
    const config = parseConfig(text, FILE);

    // Assess
    expect(config.services[0]?.steps[1]).toMatchObject({ cwd: 'apps/..backend' });
  });
});
