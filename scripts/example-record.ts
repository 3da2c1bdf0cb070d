/**
 * Writes the deployment records of the demo from real runs to docs/examples/: the good release
 * (deployment-record.md) and the bad release with its automatic rollback (deployment-record-rollback.md).
 * Each scenario runs `local/demo.ts` end to end (sample app, embedded tracker, approval through the
 * confirm page, bake, rollback) in a fresh data folder, then copies the record document the workflow wrote.
 *
 *   npm run docs:records [-- --bake 30s]
 *
 * Timestamps and ids differ on every run.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runDemoProcess } from '../test/fixtures/demo-process.js';

const ROOT = resolve(import.meta.dirname, '..');

/** Runs one demo scenario and returns its record document. */
const recordOf = async (scenario: 'good' | 'bad-release', bake: string, reportInterval: string) => {
  const run = await runDemoProcess(
    ['--scenario', scenario, '--bake', bake, '--report-interval', reportInterval],
    { onStdout: (chunk) => process.stdout.write(chunk) },
  );
  try {
    if (run.code !== 0 || !run.summary)
      throw new Error(`the ${scenario} demo ended with exit code ${run.code}:\n${run.stderr}`);
    return readFileSync(join(run.dataDir, 'artifacts', 'records', `${run.summary.deploymentId}.md`), 'utf8');
  } finally {
    rmSync(run.dir, { recursive: true, force: true });
  }
};

const { values } = parseArgs({
  options: {
    bake: { type: 'string', default: '40s' },
    'report-interval': { type: 'string', default: '10s' },
  },
});
const bake = values.bake ?? '40s';
const interval = values['report-interval'] ?? '10s';
const out = join(ROOT, 'docs/examples');
writeFileSync(join(out, 'deployment-record.md'), await recordOf('good', bake, interval));
writeFileSync(join(out, 'deployment-record-rollback.md'), await recordOf('bad-release', '60s', '20s'));
process.stdout.write(`\nWrote ${join(out, 'deployment-record.md')} and deployment-record-rollback.md\n`);
