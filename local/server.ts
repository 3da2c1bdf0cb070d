import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cookiesFrom, handleApprovalRequest } from '../functions/approval-page/approval-page.js';
import { handleClickUpWebhook } from '../functions/clickup-webhook/clickup-webhook.js';
import { BadRequestError, NotFoundError } from '../functions/shared/errors.js';
import { toHttpError } from '../functions/shared/http-errors.js';
import type { DeploymentRecord } from '../functions/shared/ports/deployment-store.js';
import type { Ports } from '../functions/shared/ports/index.js';
import type { Notification } from '../functions/shared/ports/notifier.js';
import type { TrackerComment, TrackerTask } from '../functions/shared/ports/tracker.js';
import { handleApiRoute } from './api-routes.js';
import type { BakeChart } from './bake-chart.js';
import { renderConsole } from './console-page.js';
import { recordsView } from './console-records.js';
import type { LocalExecution } from './runner.js';

const MAX_BODY_BYTES = 256 * 1024;

/** What the console shows besides the store: the embedded tracker, the outbox and the executions. */
export interface ConsoleSources {
  tasks(): Promise<TrackerTask[]>;
  comments(taskId: string): Promise<TrackerComment[]>;
  outbox(): Promise<(Notification & { id?: string; sentAt?: string })[]>;
  executions(): LocalExecution[];
  /** a deployment's bake as the console charts it (none: it never baked, or nothing is kept) */
  bake?(deployment: DeploymentRecord): BakeChart | undefined;
}

export interface LocalServerOptions {
  ports: Ports;
  sources: ConsoleSources;
  /** every secret a delivery may be signed with (one per webhook) */
  webhookSecret?: string | readonly string[];
  host?: string;
  port?: number;
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining (so the client reads our answer) but stop keeping what is over the limit.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () =>
      size > MAX_BODY_BYTES
        ? reject(new BadRequestError(`body larger than ${MAX_BODY_BYTES / 1024} KiB`))
        : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });

const send = (
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
) => {
  res.writeHead(status, {
    ...extra,
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(type.startsWith('text/html')
      ? {
          'content-security-policy':
            "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self'",
        }
      : {}),
  });
  res.end(body);
};
const json = (res: ServerResponse, status: number, body: unknown) =>
  send(res, status, 'application/json', JSON.stringify(body));

/**
 * The local runtime's HTTP face on 127.0.0.1: the ClickUp webhook route, the approval confirm page and its
 * POST, the console with deployments, the task's comments and the outbox, and the stored documents.
 */
export const startLocalServer = async (
  options: LocalServerOptions,
): Promise<{ url: string; server: Server; close(): Promise<void> }> => {
  const { ports, sources } = options;

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (method === 'POST' && path === '/webhooks/clickup') {
      const rawBody = await readBody(req);
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v[0] : v]),
      );
      const result = await handleClickUpWebhook({ rawBody, headers }, ports, options.webhookSecret);
      return json(res, result.statusCode, result.body);
    }

    const approval = /^\/approvals\/([A-Za-z0-9_-]{1,64})$/.exec(path);
    if (approval?.[1]) {
      const answer = await handleApprovalRequest(
        {
          method,
          approvalId: approval[1],
          query: Object.fromEntries(url.searchParams),
          ...(method === 'POST'
            ? { form: Object.fromEntries(new URLSearchParams(await readBody(req))) }
            : {}),
          cookies: cookiesFrom(req.headers.cookie),
          ...(req.socket.remoteAddress ? { sourceIp: req.socket.remoteAddress } : {}),
          ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
          formAction: path,
          secure: false,
        },
        ports,
      );
      return send(res, answer.statusCode, 'text/html; charset=utf-8', answer.html, answer.headers);
    }

    if (method === 'GET' && path.startsWith('/artifacts/')) {
      let key: string;
      try {
        key = decodeURIComponent(path.slice('/artifacts/'.length));
      } catch {
        throw new BadRequestError(
          'the artifact key in the path is not valid percent-encoding; link documents as the console does',
        );
      }
      const body = await ports.artifacts.get(key);
      if (body === undefined) throw new NotFoundError(`no document ${key}`);
      return send(res, 200, 'text/plain; charset=utf-8', body);
    }

    if (method === 'GET' && path === '/api/state') {
      const tasks = await sources.tasks();
      const deployments = await ports.store.listDeployments();
      return json(res, 200, {
        tasks: await Promise.all(tasks.map(async (t) => ({ ...t, comments: await sources.comments(t.id) }))),
        // the record documents and the DORA figures of the last 30 days
        ...recordsView(deployments, ports.clock.now()),
        deployments: deployments.map(({ plan, ...d }) => ({
          ...d,
          planKey: plan?.key,
          risk: plan?.risk,
          bake: sources.bake?.({ plan, ...d }),
        })),
        executions: sources.executions().map(({ done: _done, ...e }) => e),
        outbox: await sources.outbox(),
      });
    }

    // the command line's routes (devops-agent deploy, status, approve, hold, rollback, history)
    const api = await handleApiRoute(method, url, () => readBody(req), ports);
    if (api) return json(res, api.statusCode, api.body);

    const move = /^\/api\/tasks\/([A-Za-z0-9_-]{1,64})\/status$/.exec(path);
    if (method === 'POST' && move?.[1]) {
      let body: { status?: unknown };
      try {
        body = JSON.parse((await readBody(req)) || '{}') as { status?: unknown };
      } catch (error) {
        // Too large is said as such; anything else the client sent was not JSON.
        if (error instanceof BadRequestError) throw error;
        throw new BadRequestError('the body is not JSON; send {"status": "<new status>"}');
      }
      if (typeof body.status !== 'string' || body.status.length === 0)
        throw new BadRequestError('send {"status": "<new status>"}');
      await ports.tracker.setStatus(move[1], body.status);
      return json(res, 200, { taskId: move[1], status: body.status });
    }

    if (method === 'GET' && (path === '/' || path === '/console')) {
      return send(res, 200, 'text/html; charset=utf-8', renderConsole());
    }
    throw new NotFoundError(`no route ${method} ${path}`);
  };

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const { statusCode, message } = toHttpError(error);
      if (statusCode >= 500) ports.logger.error('request failed', { error: String(error), path: req.url });
      if (!res.headersSent) json(res, statusCode, { error: message });
      else res.end();
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
