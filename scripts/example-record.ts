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
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { demoConfigText } from '../local/demo.js';
import { freePort } from '../test/fixtures/free-port.js';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

/** Runs one demo scenario and returns its record document. */
const recordOf = async (scenario: 'good' | 'bad-release', bake: string, reportInterval: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'devops-agent-example-'));
  const appPort = await freePort();
  const config = join(dir, 'devops-agent.yaml');
  writeFileSync(config, demoConfigText(appPort));
  const dataDir = join(dir, 'data');
  const args = [
    'local/demo.ts',
    ...['--scenario', scenario, '--auto-approve', '--bake', bake, '--report-interval', reportInterval],
    ...['--port', '0', '--app-port', String(appPort), '--config', config, '--data-dir', dataDir],
  ];
  const child = spawn(TSX, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    process.stdout.write(d);
  });
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  const line = stdout.split('\n').find((l) => l.startsWith('{"summary"'));
  if (code !== 0 || !line) throw new Error(`the ${scenario} demo ended with exit code ${code}`);
  const { deploymentId } = (JSON.parse(line) as { summary: { deploymentId: string } }).summary;
  return readFileSync(join(dataDir, 'artifacts', 'records', `${deploymentId}.md`), 'utf8');
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
