import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCHMARKS } from './benchmarks.js';
import { type BenchMode, type BenchResult, fmt, machine, ROOT } from './framework.js';

const HELP = `npm run bench -- [--quick] [--only ID[,ID]] [--out DIR]

Runs the benchmarks, prints their table and writes docs/benchmarks.md and docs/benchmarks.json
(--out DIR writes those two files there instead). --quick runs each benchmark briefly, only to show it
still runs (CI); its figures are not published. Benchmarks: ${BENCHMARKS.map((b) => b.id).join(', ')}.`;

const table = (results: BenchResult[]): string[] => [
  '| benchmark | metric | value | baseline | ratio | target | met |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...results.flatMap((r) =>
    r.rows.map((row) => {
      const ratio =
        row.baseline !== undefined && row.value > 0 && row.baseline > 0
          ? `${fmt(Math.max(row.baseline / row.value, row.value / row.baseline))}×`
          : '';
      return `| ${r.title} | ${row.metric} | ${fmt(row.value)} ${row.unit} | ${
        row.baseline === undefined
          ? ''
          : `${fmt(row.baseline)} ${row.unit} (${row.baselineLabel ?? 'baseline'})`
      } | ${ratio} | ${row.target ?? ''} | ${row.met === undefined ? '' : row.met ? 'yes' : '**no**'} |`;
    }),
  ),
];

const main = async () => {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const mode: BenchMode = values.quick ? 'quick' : 'full';
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = (only ?? []).filter((id) => !BENCHMARKS.some((b) => b.id === id));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark ${unknown.join(', ')}; the benchmarks are ${BENCHMARKS.map((b) => b.id).join(', ')}`,
    );
    return 2;
  }
  const started = Date.now();
  const results: BenchResult[] = [];
  for (const bench of BENCHMARKS.filter((b) => !only || only.includes(b.id))) {
    const t0 = Date.now();
    process.stderr.write(`▶ ${bench.title} (${mode})…\n`);
    results.push(await bench.run(mode));
    process.stderr.write(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const m = machine();
  const lines = table(results);
  console.log(lines.join('\n'));
  const doc = [
    '# Benchmarks',
    '',
    `Measured ${m.date} on ${m.cpu}, ${m.memoryGiB} GiB, ${m.platform}, Node.js ${m.node}; the whole run took ${Math.round((Date.now() - started) / 1000)} s${mode === 'quick' ? ' (quick mode: not for publishing)' : ''}.`,
    'Reproduce with `npm ci && npm run bench` (about 10 minutes; `npm run bench -- --only ID` runs one).',
    '',
    ...lines,
    '',
    ...results.flatMap((r) => [`## ${r.title}`, '', ...r.notes.map((n) => `- ${n}`), '']),
  ].join('\n');
  const dir = values.out ? resolve(values.out) : join(ROOT, 'docs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'benchmarks.md'), doc);
  writeFileSync(join(dir, 'benchmarks.json'), `${JSON.stringify({ machine: m, mode, results }, null, 2)}\n`);
  process.stderr.write(`wrote ${join(dir, 'benchmarks.md')} and benchmarks.json\n`);
  return 0;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  },
);
