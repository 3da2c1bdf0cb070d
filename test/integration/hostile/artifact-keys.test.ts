import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { BadRequestError } from '../../../functions/shared/errors.js';
import { LocalArtifactStore } from '../../../local/adapters/local-artifact-store.js';

/** Every file under a folder, as paths relative to it. */
const filesUnder = (root: string): string[] =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)));

const TRAVERSALS = [
  '../escape.md',
  '../../etc/passwd',
  'plans/../../escape.md',
  '/etc/passwd',
  '\\windows\\win.ini',
  'C:\\escape.md',
  'plans\\..\\..\\escape.md',
  'plans/./x.md',
  'plans//x.md',
  'plans/x.md\0.png',
  '..',
  '.',
  '',
  'a'.repeat(513),
];

describe('LocalArtifactStore with hostile keys', () => {
  let sandbox: string;
  let root: string;
  let store: LocalArtifactStore;

  beforeEach(() => {
    sandbox = mkdtempSync(join(tmpdir(), 'devops-agent-keys-'));
    root = join(sandbox, 'artifacts');
    mkdirSync(root);
    store = new LocalArtifactStore(root, 'http://127.0.0.1:1');
  });

  afterEach(() => {
    rmSync(sandbox, { recursive: true, force: true });
  });

  it.each(TRAVERSALS.map((k) => [k]))(
    'refuses to write, read or link the key %j with BadRequestError and writes nothing',
    async (key) => {
      // Act
      const put = store.put(key, 'owned', 'text/plain');
      const get = store.get(key);

      // Assess
      await expect(put).rejects.toThrow(BadRequestError);
      await expect(get).rejects.toThrow(BadRequestError);
      expect(() => store.link(key)).toThrow(BadRequestError);
      expect(filesUnder(sandbox)).toEqual([]);
    },
  );

  it.each([
    ['plans', 'plans/x.md'],
    ['plans/x.md', 'plans'],
  ])(
    'refuses the key %j after %j with BadRequestError, since a document cannot be a folder too, and leaves no temporary file',
    async (second, first) => {
      // Prepare
      await store.put(first, 'first', 'text/plain');

      // Act
      const put = store.put(second, 'second', 'text/plain');

      // Assess
      await expect(put).rejects.toThrow(BadRequestError);
      await expect(put).rejects.toThrow(/names a folder of other documents, or lies under a document/);
      expect(filesUnder(root)).toEqual([join(...first.split('/'))]);
      expect(await store.get(first)).toBe('first');
    },
  );

  it('keeps every key it accepts inside its folder, and refuses every other with BadRequestError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.constantFrom('..', '.', '', 'plans', '%2e%2e', '\u2024\u2024', '..\u2215', 'x'),
            fc.string({ maxLength: 6 }),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        fc.constantFrom('/', '\\'),
        async (segments, separator) => {
          // Prepare
          const key = segments.join(separator);

          // Act
          let refused: unknown;
          try {
            await store.put(key, 'body', 'text/plain');
          } catch (error) {
            refused = error;
          }

          // Assess
          if (refused !== undefined) {
            expect(refused).toBeInstanceOf(BadRequestError);
          } else {
            expect(await store.get(key)).toBe('body');
          }
          for (const file of filesUnder(sandbox)) {
            expect(resolve(sandbox, file).startsWith(`${root}${sep}`)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
