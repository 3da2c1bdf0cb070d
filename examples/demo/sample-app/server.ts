import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * The demo's "User Notifications" service: a tiny HTTP app whose release can be switched at runtime (what a
 * rollout does) and which exposes health and Prometheus-style metrics for the local monitor.
 *
 *   GET  /health             {"status":"healthy","version":"v1"}   (503 "unhealthy" when the release is bad)
 *   GET  /version            {"version":"v1"}
 *   GET  /api/notifications  a small JSON list                     (40 % answer 500 when the release is bad)
 *   GET  /metrics            http_requests_total, http_request_errors_total, http_request_duration_p99_ms (30 s)
 *   POST /admin/release      {"version":"v2"} → {"previous":"v1","version":"v2"}
 *
 * A release whose name ends in `-bad` (the demo's `v2-bad`) is healthy for its first `BAD_RELEASE_DELAY_MS`
 * (5 s by default; a body or query field of that name changes it), then fails.
 */

const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;
const LATENCY_WINDOW_MS = 30_000;
const MAX_BODY_BYTES = 16 * 1024;
/** metric labels: the known routes, everything else as "other" (a scanner cannot grow the label set) */
const ROUTES = new Set(['/health', '/version', '/api/notifications', '/admin/release']);

export interface SampleAppOptions {
  /** 0 picks a free port */
  port?: number;
  host?: string;
  /** the release served at start */
  version?: string;
  /** how long a bad release looks healthy (ms) */
  badReleaseDelayMs?: number;
  /** a request to its own /api/notifications every `trafficIntervalMs` so metrics move (default on, 100 ms) */
  traffic?: boolean;
  trafficIntervalMs?: number;
}

export interface SampleApp {
  url: string;
  port: number;
  /** the release being served */
  version(): string;
  startTraffic(): void;
  stopTraffic(): void;
  close(): Promise<void>;
}

const NOTIFICATIONS = [
  { id: 'n-1001', type: 'mention', title: 'Dana mentioned you in "Q4 launch plan"', read: false },
  { id: 'n-1002', type: 'assignment', title: 'You were assigned "Fix digest email footer"', read: false },
  { id: 'n-1003', type: 'digest', title: 'Your weekly summary is ready', read: true },
];

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });

const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

/** Starts the sample app; resolves once it listens. */
export const startSampleApp = async (options: SampleAppOptions = {}): Promise<SampleApp> => {
  const host = options.host ?? '127.0.0.1';
  let release = { version: options.version ?? 'v1', since: Date.now(), badAfterMs: 0 };
  const defaultBadDelay = options.badReleaseDelayMs ?? 5000;
  const counts = new Map<string, { requests: number; errors: number }>();
  let latencies: { at: number; ms: number }[] = [];
  let apiRequests = 0;

  const failing = () => release.version.endsWith('-bad') && Date.now() - release.since >= release.badAfterMs;

  const observe = (path: string, status: number, ms: number) => {
    const count = counts.get(path) ?? { requests: 0, errors: 0 };
    count.requests++;
    if (status >= 500) count.errors++;
    counts.set(path, count);
    const now = Date.now();
    latencies.push({ at: now, ms });
    if (latencies.length > 10_000 || (latencies[0] && latencies[0].at < now - LATENCY_WINDOW_MS)) {
      latencies = latencies.filter((l) => l.at >= now - LATENCY_WINDOW_MS);
    }
  };

  const metrics = (): string => {
    const now = Date.now();
    const recent = latencies.filter((l) => l.at >= now - LATENCY_WINDOW_MS).map((l) => l.ms);
    const lines = [
      '# HELP http_requests_total Requests served, by path.',
      '# TYPE http_requests_total counter',
      ...[...counts].map(([path, c]) => `http_requests_total{path="${path}"} ${c.requests}`),
      '# HELP http_request_errors_total Requests answered with a 5xx status, by path.',
      '# TYPE http_request_errors_total counter',
      ...[...counts].map(([path, c]) => `http_request_errors_total{path="${path}"} ${c.errors}`),
      '# HELP http_request_duration_p99_ms 99th percentile of request durations over the last 30 s.',
      '# TYPE http_request_duration_p99_ms gauge',
      `http_request_duration_p99_ms ${percentile(recent, 99).toFixed(2)}`,
      '# HELP sample_app_release_info The release being served.',
      '# TYPE sample_app_release_info gauge',
      `sample_app_release_info{version="${release.version}"} 1`,
    ];
    return `${lines.join('\n')}\n`;
  };

  const changeRelease = async (req: IncomingMessage, url: URL, res: ServerResponse) => {
    let body: Record<string, unknown> = {};
    const text = await readBody(req);
    if (text.trim()) {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return send(res, 400, { error: 'expected a JSON body like {"version":"v2"}' });
      }
    }
    const version = body.version ?? url.searchParams.get('version');
    if (typeof version !== 'string' || !VERSION_PATTERN.test(version)) {
      return send(res, 400, { error: 'expected {"version":"<name>"}, e.g. v1, v2 or v2-bad' });
    }
    const delay = Number(
      body.BAD_RELEASE_DELAY_MS ?? url.searchParams.get('BAD_RELEASE_DELAY_MS') ?? defaultBadDelay,
    );
    if (!Number.isFinite(delay) || delay < 0) {
      return send(res, 400, { error: 'BAD_RELEASE_DELAY_MS must be a number of milliseconds' });
    }
    const previous = release.version;
    release = { version, since: Date.now(), badAfterMs: delay };
    return send(res, 200, { previous, version });
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://sample-app');
    const path = url.pathname;
    if (path !== '/metrics') {
      const route = ROUTES.has(path) ? path : 'other';
      res.on('finish', () => observe(route, res.statusCode, performance.now() - started));
    }
    const handle = async () => {
      if (req.method === 'GET' && path === '/health') {
        return failing()
          ? send(res, 503, { status: 'unhealthy', version: release.version })
          : send(res, 200, { status: 'healthy', version: release.version });
      }
      if (req.method === 'GET' && path === '/version') return send(res, 200, { version: release.version });
      if (req.method === 'GET' && path === '/metrics') {
        return send(res, 200, metrics(), 'text/plain; version=0.0.4; charset=utf-8');
      }
      if (req.method === 'GET' && path === '/api/notifications') {
        // Exactly 2 in 5 fail when the release is bad, so the demo is the same every run.
        if (failing() && apiRequests++ % 5 < 2) return send(res, 500, { error: 'internal error' });
        return send(res, 200, { version: release.version, notifications: NOTIFICATIONS });
      }
      if (req.method === 'POST' && path === '/admin/release') return changeRelease(req, url, res);
      return send(res, 404, { error: `no route ${req.method} ${path}` });
    };
    handle().catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;

  let traffic: NodeJS.Timeout | undefined;
  const startTraffic = () => {
    if (traffic) return;
    traffic = setInterval(() => {
      fetch(`${url}/api/notifications`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    }, options.trafficIntervalMs ?? 100);
    traffic.unref();
  };
  const stopTraffic = () => {
    if (traffic) clearInterval(traffic);
    traffic = undefined;
  };
  if (options.traffic ?? true) startTraffic();

  return {
    url,
    port,
    version: () => release.version,
    startTraffic,
    stopTraffic,
    close: () =>
      new Promise<void>((resolve, reject) => {
        stopTraffic();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4100' },
      version: { type: 'string', default: 'v1' },
      'no-traffic': { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write('--port must be a port number (0 picks a free one)\n');
    process.exit(2);
  }
  const app = await startSampleApp({ port, version: values.version, traffic: !values['no-traffic'] });
  process.stdout.write(`sample app ${app.version()} listening on ${app.url}\n`);
  const stop = () => {
    void app.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
};

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) void main();
