/**
 * One run of the scale benchmark (bench/scale.ts), in its own process so that its peak memory is that of one
 * local runtime: `node --import tsx bench/scale-child.ts <deployments> <bake seconds>`. Starts the local
 * runtime (the committed definition in LocalWorkflow, SQLite, the embedded tracker, the sweep timer) with one
 * service per deployment and a tiny health server, starts every deployment at once through the polling
 * pickup, waits for all of them and prints one JSON line (`ScaleRun`) on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../functions/shared/config/load.js';
import type { Logger } from '../functions/shared/ports/index.js';
import { demoTaskFields } from '../local/demo.js';
import { embeddedTracker, type LocalRuntime, startLocalRuntime } from '../local/runtime.js';
import { BENCH_RUNTIME } from './framework.js';

export interface ScaleRun {
  deployments: number;
  /** the first deployment asked to start → the last one finished (ms) */
  wallMs: number;
  /** mean of each execution's own start → stop (ms) */
  meanDeploymentMs: number;
  /** the process's peak resident set (kernel maxRSS, MB) */
  peakRssMb: number;
  /** resident set with the runtime started, before any deployment (MB) */
  idleRssMb: number;
  /** the largest V8 heap used seen by sampling every 25 ms (MB) */
  peakHeapMb: number;
  /** StateEntered + StateRetried events over all executions */
  transitions: number;
  /** outcome → count */
  outcomes: Record<string, number>;
  /** errors the runtime logged */
  errors: string[];
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const serviceName = (i: number) => `scale-${String(i + 1).padStart(3, '0')}`;

/** One service per deployment (each its own list and lock): two cheap command steps, one check, a short bake. */
const configText = (deployments: number, bakeSeconds: number, healthUrl: string) => `
devops_agent:
  poll_interval: 3600
  require_human_approval: false
services:
${Array.from({ length: deployments }, (_, i) => serviceName(i))
  .map(
    (name) => `  - name: ${name}
    tracker: { list_id: ${name} }
    steps:
      - { name: Migrate, kind: command, run: [${JSON.stringify(process.execPath)}, -e, "0"], undo: ["true"] }
      - { name: Deploy, kind: command, run: [${JSON.stringify(process.execPath)}, -e, "0"], undo: ["true"] }
    verification:
      - { name: Health, kind: http, url: "${healthUrl}" }
    monitoring:
      period: ${bakeSeconds}s
      report_interval: 1s
      check_interval: 1
      health_url: "${healthUrl}"
`,
  )
  .join('')}`;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const main = async (deployments: number, bakeSeconds: number): Promise<ScaleRun> => {
  const health = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"status":"healthy"}');
  });
  await new Promise<void>((done) => health.listen(0, '127.0.0.1', done));
  const healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
  const dataDir = mkdtempSync(join(tmpdir(), 'devops-agent-bench-scale-'));
  const errors: string[] = [];
  const logger: Logger = {
    info: () => undefined,
    warn: () => undefined,
    error: (message, extra) => errors.push(`${message} ${extra ? JSON.stringify(extra) : ''}`),
  };
  let transitions = 0;
  let runtime: LocalRuntime | undefined;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 25);
  try {
    const rt = await startLocalRuntime({
      config: parseConfig(configText(deployments, bakeSeconds, healthUrl), 'bench/scale (generated)'),
      dataDir,
      ...BENCH_RUNTIME,
      logger,
      retryIntervalMs: 500,
      lockRetryMs: 2000,
      timers: true,
      onEvent: (_execution, event) => {
        if (event.type === 'StateEntered' || event.type === 'StateRetried') transitions++;
      },
    });
    runtime = rt;
    const tracker = embeddedTracker(rt);
    for (const service of rt.ports.config.services) {
      await tracker.createTask({
        name: `Release of ${service.name}`,
        listId: service.tracker.list_id,
        status: 'Ready to Deploy',
        customFields: demoTaskFields('v2'),
      });
    }
    await sleep(200);
    const idleRss = process.memoryUsage().rss;
    const t0 = performance.now();
    const { started, errors: notStarted } = await rt.poll();
    if (notStarted.length > 0 || started.length !== deployments)
      throw new Error(`started ${started.length} of ${deployments}: ${notStarted.join('; ')}`);
    await Promise.all(started.map((id) => rt.workflow.execution(id)?.done));
    const wallMs = performance.now() - t0;
    const outcomes: Record<string, number> = {};
    for (const id of started) {
      const record = await rt.store.getDeployment(id);
      const outcome = record?.outcome ?? record?.status ?? 'unknown';
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    const executions = started.flatMap((id) => rt.workflow.execution(id) ?? []);
    const meanDeploymentMs =
      executions.reduce(
        (sum, e) => sum + (new Date(e.stoppedAt ?? e.startedAt).getTime() - new Date(e.startedAt).getTime()),
        0,
      ) / executions.length;
    return {
      deployments,
      wallMs: Math.round(wallMs),
      meanDeploymentMs: Math.round(meanDeploymentMs),
      peakRssMb: mb(process.resourceUsage().maxRSS * 1024),
      idleRssMb: mb(idleRss),
      peakHeapMb: mb(peakHeap),
      transitions,
      outcomes,
      errors,
    };
  } finally {
    clearInterval(sampler);
    await runtime?.stop();
    await new Promise((done) => health.close(done));
    rmSync(dataDir, { recursive: true, force: true });
  }
};

const [deployments, bakeSeconds] = process.argv.slice(2).map(Number);
if (!deployments || !bakeSeconds) {
  console.error('usage: node --import tsx bench/scale-child.ts <deployments> <bake seconds>');
  process.exit(2);
}
main(deployments, bakeSeconds).then(
  (run) => {
    process.stdout.write(`${JSON.stringify(run)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
