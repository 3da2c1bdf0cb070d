import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseConfig } from '../functions/shared/config/load.js';
import type { Logger } from '../functions/shared/ports/index.js';
import { embeddedTracker, startLocalRuntime } from '../local/runtime.js';
import { startLocalServer } from '../local/server.js';
import { statusEventBody } from '../test/fixtures/fake-clickup.js';
import { NO_CONSOLE } from '../test/fixtures/ports.js';
import {
  BENCH_RUNTIME,
  type BenchMode,
  type Benchmark,
  type BenchResult,
  fmt,
  quantile,
} from './framework.js';

const SECRET = 'whsec-bench';
const LIST = 'L1';
const INPUT_STATUS = 'Ready to Deploy';
const WEBHOOK_PATH = '/webhooks/clickup';
/** bench-only: answered before the local server's router sees the request */
const BARE_PATH = '/bench/bare';
const CONNECTIONS = 100;
const P99_TARGET_MS = 20;
/** the executions wait this long for the service lock: far beyond the run, so they sleep, then are stopped */
const LOCK_RETRY_MS = 10 * 60_000;
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * One service on one list, gates off and a human approval required: the first execution to take the
 * service's lock writes its plan and waits for an approval nobody gives; every other one waits for the lock.
 * So the load starts one execution per task and none of them ends (or does work) during the measurement.
 */
const CONFIG = `
devops_agent:
  poll_interval: 300
  require_human_approval: true
  input_status: "${INPUT_STATUS}"
services:
  - name: notifications
    tracker: { list_id: ${LIST} }
    gates: { ci: false, pr_merged: false, sign_off: [], alarms_clear: false }
    approvers: [{ email: lead@example.com, clickup_user_id: "5150" }]
    steps:
      - { name: Say hello, kind: command, run: [node, -e, "0"] }
`;

/**
 * The load generator, in its own `node` process so that it does not share the server's event loop:
 * autocannon with `connections` connections for `duration` seconds, each request taking the next delivery
 * of the list (one counter over all connections), printing one JSON line with the result.
 */
const LOAD_SCRIPT = `
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const load = JSON.parse(readFileSync(process.env.BENCH_LOAD, 'utf8'));
const { default: autocannon } = await import(pathToFileURL(load.autocannon).href);
let next = 0;
const result = await autocannon({
  url: load.url,
  connections: load.connections,
  duration: load.duration,
  requests: [
    {
      method: 'POST',
      path: load.path,
      setupRequest: (request) => {
        const delivery = load.deliveries[next++ % load.deliveries.length];
        return {
          ...request,
          body: delivery.body,
          headers: { 'content-type': 'application/json', 'x-signature': delivery.signature },
        };
      },
    },
  ],
});
process.stdout.write(JSON.stringify({
  requests: result.requests.total,
  perSecond: result.requests.average,
  duration: result.duration,
  p50: result.latency.p50,
  p99: result.latency.p99,
  max: result.latency.max,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  statusCodes: result.statusCodeStats,
}) + '\\n');
`;

interface Delivery {
  body: string;
  signature: string;
}

interface Load {
  requests: number;
  perSecond: number;
  duration: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, { count: number }>;
}

const fire = (dir: string, label: string, url: string, deliveries: Delivery[], duration: number) =>
  new Promise<Load>((done, fail) => {
    const file = join(dir, `${label}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        autocannon: createRequire(import.meta.url).resolve('autocannon'),
        url,
        path: label === 'bare' ? BARE_PATH : WEBHOOK_PATH,
        connections: CONNECTIONS,
        duration,
        deliveries,
      }),
    );
    execFile(
      process.execPath,
      ['--input-type=module', '-e', LOAD_SCRIPT],
      { env: { PATH: process.env.PATH, BENCH_LOAD: file }, timeout: (duration + 60) * 1000 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').at(-1) ?? '';
        if (error || !line.startsWith('{'))
          fail(new Error(`autocannon (${label}) failed: ${error?.message ?? ''} ${stderr.slice(0, 500)}`));
        else done(JSON.parse(line) as Load);
      },
    );
  });

const delivery = (taskId: string, index: number): Delivery => {
  const body = statusEventBody({
    webhookId: '3f0c2a9e-1111-4c2b-9d7e-5a6b7c8d9e0f',
    taskId,
    listId: LIST,
    itemId: String(4719000000000000000n + BigInt(index)),
    user: { id: 4242, username: 'Dana', email: 'dana@example.com' },
    before: 'in review',
    after: INPUT_STATUS,
  });
  return { body, signature: createHmac('sha256', SECRET).update(body).digest('hex') };
};

const waitFor = async (check: () => Promise<boolean>, ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until && !(await check())) await new Promise((r) => setTimeout(r, 20));
};

export const webhookBenchmark: Benchmark = {
  id: 'webhook',
  title: 'Webhook intake',
  async run(mode: BenchMode): Promise<BenchResult> {
    const duration = mode === 'full' ? 10 : 2;
    const taskCount = 200;
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-bench-webhook-'));
    const runtime = await startLocalRuntime({
      config: parseConfig(CONFIG, 'bench-webhook.yaml'),
      dataDir: join(dir, 'data'),
      ...BENCH_RUNTIME,
      webhookSecret: SECRET,
      logger: quiet,
      retryIntervalMs: 0,
      lockRetryMs: LOCK_RETRY_MS,
      timers: false,
    });
    // The local server again, on the runtime's ports (store, tracker, workflow) with the same secret: the
    // production router, plus a bench-only bare route answered in front of it on the same node:http server.
    const server = await startLocalServer({
      ports: runtime.ports,
      webhookSecret: SECRET,
      sources: NO_CONSOLE,
    });
    const router = server.server.listeners('request')[0] as (...args: unknown[]) => void;
    server.server.removeAllListeners('request');
    // server time of each request, from the request event to the answer handed to the socket (no queueing)
    const serverMs: Record<'bare' | 'webhook', number[]> = { bare: [], webhook: [] };
    server.server.on('request', (req, res) => {
      const t0 = performance.now();
      const times = req.url === BARE_PATH ? serverMs.bare : serverMs.webhook;
      res.on('finish', () => times.push(performance.now() - t0));
      if (req.url !== BARE_PATH) return router.call(server.server, req, res);
      // the same delivery is read to its end, then answered at once
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"result":"ok"}');
      });
    });
    try {
      const tracker = embeddedTracker(runtime);
      const taskIds: string[] = [];
      for (let i = 0; i < taskCount; i++) {
        taskIds.push(
          (await tracker.createTask({ name: `Release ${i + 1}`, listId: LIST, status: INPUT_STATUS })).id,
        );
      }
      const deliveries = taskIds.map((id, i) => delivery(id, i));

      // how long the server's event loop was held up (by request handling and by the executions' states)
      const loopDelay = async (load: () => Promise<Load>) => {
        const histogram = monitorEventLoopDelay({ resolution: 10 });
        histogram.enable();
        const result = await load();
        histogram.disable();
        return { result, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 };
      };
      const { result: bare, ...bareLoop } = await loopDelay(() =>
        fire(dir, 'bare', server.url, deliveries, duration),
      );
      const { result: hook, ...hookLoop } = await loopDelay(() =>
        fire(dir, 'webhook', server.url, deliveries, duration),
      );

      // every execution writes its record in its first state; give the last ones a moment
      await waitFor(async () => (await runtime.store.listDeployments()).length >= taskCount, 5_000);
      const executions = runtime.workflow.list();
      const perTask = new Map<string, number>();
      for (const e of executions) perTask.set(e.input.taskId, (perTask.get(e.input.taskId) ?? 0) + 1);
      const hit = Math.min(taskCount, hook.requests);
      const exactlyOnce =
        executions.length === hit &&
        taskIds.slice(0, hit).every((id) => perTask.get(id) === 1) &&
        executions.every((e) => e.name === `${e.input.taskId}-1`);
      const records = (await runtime.store.listDeployments()).length;
      const failedHook = hook.non2xx + hook.errors;
      const failedBare = bare.non2xx + bare.errors;
      const started = hook.statusCodes['202']?.count ?? 0;
      const ignored = hook.statusCodes['200']?.count ?? 0;
      const round = (n: number) => Math.round(n * 100) / 100;

      return {
        id: 'webhook',
        title: 'Webhook intake',
        rows: [
          {
            metric: `requests per second, ${CONNECTIONS} connections`,
            value: Math.round(hook.perSecond),
            unit: 'req/s',
            baseline: Math.round(bare.perSecond),
            baselineLabel: 'bare 200 route',
          },
          {
            metric: 'latency p50',
            value: round(hook.p50),
            unit: 'ms',
            baseline: round(bare.p50),
            baselineLabel: 'bare 200 route',
          },
          {
            metric: 'latency p99',
            value: round(hook.p99),
            unit: 'ms',
            baseline: round(bare.p99),
            baselineLabel: 'bare 200 route',
            target: `< ${P99_TARGET_MS} ms`,
            met: hook.p99 < P99_TARGET_MS,
          },
          {
            metric: 'server time per request p50 (request event → answer sent, no queueing)',
            value: round(quantile(serverMs.webhook, 0.5)),
            unit: 'ms',
            baseline: round(quantile(serverMs.bare, 0.5)),
            baselineLabel: 'bare 200 route',
          },
          {
            metric: 'server time per request p99 (request event → answer sent, no queueing)',
            value: round(quantile(serverMs.webhook, 0.99)),
            unit: 'ms',
            baseline: round(quantile(serverMs.bare, 0.99)),
            baselineLabel: 'bare 200 route',
          },
          {
            metric: `server event-loop delay p99 (max ${fmt(round(hookLoop.max))} ms; bare ${fmt(round(bareLoop.max))} ms)`,
            value: round(hookLoop.p99),
            unit: 'ms',
            baseline: round(bareLoop.p99),
            baselineLabel: 'bare 200 route',
          },
          {
            metric: `deliveries answered (${started} × 202 started, ${ignored} × 200 already running)`,
            value: hook.requests,
            unit: 'requests',
            baseline: bare.requests,
            baselineLabel: 'bare 200 route',
          },
          {
            metric: 'errors (non-2xx answers, connection errors, timeouts)',
            value: failedHook + hook.timeouts,
            unit: 'errors',
            baseline: failedBare + bare.timeouts,
            baselineLabel: 'bare 200 route',
            target: '0',
            met: failedHook + hook.timeouts === 0,
          },
          {
            metric: `executions started for ${hit} distinct tasks (${records} deployment records)`,
            value: executions.length,
            unit: 'executions',
            target: `${hit}, one per task`,
            met: exactlyOnce && records === hit,
          },
        ],
        notes: [
          `Load: autocannon ${CONNECTIONS} connections for ${duration} s from a separate node process (${process.version}), POSTing signed taskStatusUpdated deliveries (X-Signature = hex HMAC-SHA256 of the raw body) that rotate over ${taskCount} tasks created in "${INPUT_STATUS}" in the embedded tracker, so each task receives about ${fmt(hook.requests / taskCount)} deliveries; the first per task starts its deployment (202), the rest are answered "already running" (200).`,
          'The webhook route is the production path of the local server (local/server.ts → handleClickUpWebhook: signature check, zod parse, startDeployment reading the task and the SQLite store, LocalWorkflow.start), served by a startLocalServer on the ports of a startLocalRuntime (SQLite, embedded tracker, the synthesized workflow in-process, timers off).',
          `The baseline is a bench-only route (${BARE_PATH}) on the same node:http server, placed in front of the local server's router: it reads the same delivery body and answers 200 at once; it runs first, with the same load, so the difference is what signature check, parse and idempotent start cost.`,
          `So that the executions the load starts do not compete with the measurement, the configuration requires a human approval (gates off) and the lock wait is ${LOCK_RETRY_MS / 60_000} minutes: one execution writes its plan and waits for an approval nobody gives, the others acknowledge and wait for the service lock; every execution is stopped when the benchmark ends.`,
          `Exactly-once check: after the load, the runtime's executions are counted per task (each must be <task>-1, one per task) along with the deployment records; ${exactlyOnce ? 'it held' : 'it did NOT hold'} for ${hit} tasks under ${hook.requests} deliveries.`,
          hook.p99 < P99_TARGET_MS
            ? `The p99 target is met: 99% of deliveries are answered within ${fmt(round(hook.p99))} ms at ${CONNECTIONS} connections and ${Math.round(hook.perSecond)} deliveries per second.`
            : `The p99 target is not met (${fmt(round(hook.p99))} ms against < ${P99_TARGET_MS} ms): each of the ${CONNECTIONS} connections sends its next delivery only after the answer (a closed loop), so the latency is mostly queueing on the one event loop, by Little's law on average connections / throughput = ${CONNECTIONS} / ${Math.round(hook.perSecond)} req/s ≈ ${fmt(round((CONNECTIONS / Math.max(1, hook.perSecond)) * 1000))} ms, while the server's own time per delivery is ${fmt(round(quantile(serverMs.webhook, 0.5)))} ms p50 and ${fmt(round(quantile(serverMs.webhook, 0.99)))} ms p99 (signature, zod parse, synchronous SQLite reads of the task and its deployments); under 20 ms p99 at ${CONNECTIONS} connections needs well over ${Math.round((CONNECTIONS / P99_TARGET_MS) * 1000)} req/s from one process on this machine, which also runs the load generator${bare.p99 >= P99_TARGET_MS ? `; here even the bare route, which does nothing but answer 200, has a p99 of ${fmt(round(bare.p99))} ms at ${Math.round(bare.perSecond)} req/s, so on this machine the target is out of reach for any handler on this server` : ''}.`,
          `For a user: a delivery costs the server about ${fmt(round(quantile(serverMs.webhook, 0.5)))} ms, so the ${Math.round(hook.perSecond)} deliveries per second this machine sustains are far more than a team's ClickUp sends, each answered far inside ClickUp's webhook timeout, and a storm of redeliveries still starts each deployment once.`,
          'Server time is taken on the same server from its request event (headers parsed) to the answer handed to the socket, for every request of both routes, so it leaves out the wait in the queue.',
          'The event-loop delay (perf_hooks monitorEventLoopDelay, 10 ms resolution, over each load) is how late a timer fires, i.e. how long one turn of the server loop takes under the load (each turn serves every socket that is ready): it is high for the bare route too, and with the webhook the turns also run the first states (Acknowledge, AcquireLock; for one the plan and the approval request) of the executions started in the same process, as the local runtime runs them; on AWS those run in their own Lambdas and the webhook only calls StartExecution.',
          'Latency is measured by autocannon from send to the last response byte over keep-alive connections to 127.0.0.1 (2xx answers only; non-2xx are counted as errors); this machine also runs the load generator, so both figures share its CPUs.',
        ],
      };
    } finally {
      server.server.closeAllConnections();
      await server.close();
      await runtime.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
