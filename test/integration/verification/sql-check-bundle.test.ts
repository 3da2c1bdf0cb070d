import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../../../infra/constructs/node-function.js';
import { FUNCTION_BUNDLE_OPTIONS } from '../../fixtures/function-bundle.js';
import { databaseOrWarn, MYSQL_URL, POSTGRES_URL } from '../../fixtures/test-databases.js';

const run = promisify(execFile);

/**
 * The sql check runner loads its drivers with dynamic imports; this proves they survive the functions' own
 * bundling (the stack's esbuild options, ESM with the createRequire banner) by running the bundle in a
 * fresh Node process against the real servers, as the Lambda would.
 */
const ENTRY = `
import { SqlCheckRunner } from './functions/shared/adapters/sql-check-runner.ts';
const runner = new SqlCheckRunner({ env: (name) => process.env[name] });
const check = (name, url_env) => ({ name, kind: 'sql', url_env, query: 'SELECT 1 + 1', expect: 2,
  expect_not_less_than_before: false, timeout: 10, retries: 0, retry_delay: 1 });
const results = [];
if (process.env.PG_URL) results.push(await runner.run(check('postgres', 'PG_URL'), { timeoutMs: 20000 }));
if (process.env.MY_URL) results.push(await runner.run(check('mysql', 'MY_URL'), { timeoutMs: 20000 }));
console.log(JSON.stringify(results));
`;

const wanted = [
  databaseOrWarn('postgresql', 'the bundled sql check') ? 'postgres' : undefined,
  databaseOrWarn('mysql', 'the bundled sql check') ? 'mysql' : undefined,
].filter((name) => name !== undefined);
const maybe = wanted.length > 0 ? it : it.skip;

describe('sql checks in a function bundle', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sql-bundle-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  maybe(
    'connects to PostgreSQL and MariaDB from the bundled runner, drivers included',
    async () => {
      // Prepare
      const result = await build({
        stdin: { contents: ENTRY, resolveDir: PROJECT_ROOT, loader: 'ts', sourcefile: 'entry.ts' },
        ...FUNCTION_BUNDLE_OPTIONS,
        outfile: join(dir, 'index.mjs'),
        metafile: true,
      });
      const inputs = Object.keys(result.metafile?.inputs ?? {});

      // Act: outside the project, so nothing can come from its node_modules
      const { stdout } = await run(process.execPath, [join(dir, 'index.mjs')], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', PG_URL: POSTGRES_URL ?? '', MY_URL: MYSQL_URL ?? '' },
        timeout: 60_000,
      });

      // Assess
      expect(inputs.some((i) => i.includes('node_modules/pg/'))).toBe(true);
      expect(inputs.some((i) => i.includes('node_modules/mysql2/'))).toBe(true);
      const results = JSON.parse(stdout) as { name: string; passed: boolean; detail: string }[];
      expect(results.map((r) => r.name)).toEqual(wanted);
      for (const r of results)
        expect(r).toMatchObject({ passed: true, detail: expect.stringMatching(/value=2$/) });
    },
    120_000,
  );
});
