import fc from 'fast-check';
import { COMMAND_USAGE, type Command, parseCommand } from '../../../functions/shared/commands.js';

const RUNS = { numRuns: 200 };

/** Whitespace JavaScript's trim and \s both know, ASCII and not. */
const space = fc.constantFrom(' ', '\t', '\n', '\r\n', '\u00a0', '\u2003');
const gap = fc.array(space, { minLength: 1, maxLength: 3 }).map((s) => s.join(''));
const edge = fc.array(space, { maxLength: 2 }).map((s) => s.join(''));
const anyCase = (word: string) =>
  fc
    .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
    .map((upper) => [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
/** Free text as a person types it: any characters, trimmed and non-empty, at most 2000 long. */
const freeText = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 120 })
  .map((s) => s.trim())
  .filter((s) => s.length > 0);
const taskId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ kind: 'deploy' as const }),
  fc.record({ kind: fc.constant('approve' as const), comment: freeText }, { requiredKeys: ['kind'] }),
  fc.record({ kind: fc.constant('hold' as const), reason: freeText }),
  fc.record({ kind: fc.constant('break-glass' as const), reason: freeText }),
  fc.record(
    { kind: fc.constant('rollback' as const), taskId, reason: freeText },
    { requiredKeys: ['kind', 'taskId'] },
  ),
);

/** How a person may write a command: any case, any whitespace, a `#` before a task id. */
const written = (c: Command): fc.Arbitrary<string> =>
  fc
    .tuple(anyCase('/deploy'), anyCase(c.kind), edge, edge, gap, gap, fc.boolean())
    .map(([prefix, word, before, after, sep1, sep2, hash]) => {
      const parts: string[] = [prefix];
      if (c.kind !== 'deploy') parts.push(sep1, word);
      if (c.kind === 'approve' && c.comment) parts.push(sep2, c.comment);
      if (c.kind === 'hold' || c.kind === 'break-glass') parts.push(sep2, c.reason);
      if (c.kind === 'rollback') {
        parts.push(sep2, `${hash ? '#' : ''}${c.taskId}`);
        if (c.reason) parts.push(sep1, c.reason);
      }
      return `${before}${parts.join('')}${after}`;
    });

describe('parseCommand (properties)', () => {
  it('never throws, whatever the comment holds', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ maxLength: 300 }).map((s) => `/deploy ${s}`),
          fc.anything(),
          fc.record(
            {
              text_content: fc.anything(),
              comment_text: fc.anything(),
              comment: fc.anything(),
              text: fc.anything(),
            },
            { requiredKeys: [] },
          ),
        ),
        (input) => {
          // Act
          const parsed = parseCommand(input as Parameters<typeof parseCommand>[0]);

          // Assess
          expect(parsed === undefined || typeof parsed.ok === 'boolean').toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('reads back every documented command however it is cased and spaced', () => {
    fc.assert(
      fc.property(
        command.chain((c) => fc.tuple(fc.constant(c), written(c))),
        ([c, text]) => {
          // Act
          const parsed = parseCommand(text);

          // Assess
          expect(parsed).toEqual({ ok: true, command: c });
        },
      ),
      RUNS,
    );
  });

  it('reads a command the same from plain text and from rich text runs', () => {
    fc.assert(
      fc.property(
        command.chain((c) => written(c)),
        fc.nat(),
        (text, cut) => {
          // Prepare
          const at = cut % (text.length + 1);
          const runs = [{ text: text.slice(0, at) }, { text: text.slice(at), attributes: {} }];

          // Act
          const fromRuns = parseCommand({ comment: runs });

          // Assess
          expect(fromRuns).toEqual(parseCommand(text));
        },
      ),
      RUNS,
    );
  });

  it('ignores any comment that does not start with the plain ASCII /deploy as a word', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 200 }),
          fc.string({ maxLength: 40 }).map((s) => `please run /deploy ${s}`),
          fc
            .constantFrom(
              '\uff0fdeploy',
              '/d\u0435ploy',
              '/de\u200bploy',
              '\u200b/deploy',
              '/deployx',
              '/deploy-now',
              '//deploy',
              '\u202e/deploy',
            )
            .chain((lookalike) => fc.string({ maxLength: 20 }).map((s) => `${lookalike}${s}`)),
        ),
        (text) => {
          fc.pre(!/^\/deploy(?=\s|$)/i.test(text.trim()));

          // Act
          const parsed = parseCommand(text);

          // Assess
          expect(parsed).toBeUndefined();
        },
      ),
      RUNS,
    );
  });

  it('answers a malformed /deploy command with what is wrong and the usage, never a command', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc
            .stringMatching(/^[a-z]{1,12}$/)
            .filter((w) => !['approve', 'hold', 'break', 'rollback'].includes(w)),
          fc.constantFrom('hold', 'break-glass', 'rollback'),
          fc
            .string({ minLength: 1, maxLength: 300 })
            .filter((w) => /^\S+$/.test(w) && !/^(approve|hold|break-glass|rollback)$/i.test(w)),
          fc.string({ minLength: 1, maxLength: 30 }).map((w) => `rollback ${w.replace(/\s/g, '')}!`),
        ),
        (rest) => {
          // Act
          const parsed = parseCommand(`/deploy ${rest}`);

          // Assess
          expect(parsed).toMatchObject({ ok: false, usage: COMMAND_USAGE });
          const error = (parsed as { error: string }).error;
          expect(error.length).toBeGreaterThan(0);
          expect(error.length).toBeLessThanOrEqual(200);
        },
      ),
      RUNS,
    );
  });

  it('refuses a reason or comment longer than 2000 characters', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('approve', 'hold', 'break-glass', 'rollback t1'),
        fc.string({ minLength: 2001, maxLength: 2100 }).filter((s) => s.trim().length > 2000),
        (word, long) => {
          // Act
          const parsed = parseCommand(`/deploy ${word} ${long}`);

          // Assess
          expect(parsed).toMatchObject({ ok: false });
        },
      ),
      { numRuns: 50 },
    );
  });
});
