import * as z from 'zod';
import { type DeploymentView, deploymentView } from '../functions/shared/deployment-view.js';
import { doraFigures, formatDora } from '../functions/shared/dora.js';
import { BadRequestError } from '../functions/shared/errors.js';
import { requestRollback } from '../functions/shared/manual-rollback.js';
import { decideTask, requestDeployment } from '../functions/shared/operator-actions.js';
import type { Ports } from '../functions/shared/ports/index.js';

/**
 * The JSON API the `devops-agent` command line drives the local runtime with. Each route checks its body
 * with zod and calls one core; errors answer through the server's `toHttpError` table. The server binds
 * 127.0.0.1: the caller is this machine's user, but who they act as (`as`) is still checked by the rules.
 */

/** A deployment view with the links a person opens: the console entry and the record document. */
export type ApiDeployment = DeploymentView & { url: string; recordUrl?: string };

export interface DeploymentsAnswer {
  now: string;
  deployments: ApiDeployment[];
  /** the DORA figures of the listed window (without a task filter) */
  dora?: { since: string; figures: ReturnType<typeof doraFigures>; lines: string[] };
}

const identity = z
  .string()
  .trim()
  .min(1, { error: 'say who you act as: an approver email or ClickUp id' })
  .max(254);
const text = z.string().trim().max(2000);

const DeployBody = z.object({ as: identity.optional() }).strict();
const ApproveBody = z.object({ as: identity, comment: text.optional() }).strict();
const HoldBody = z.object({ as: identity, reason: text.min(1, { error: 'a hold needs a reason' }) }).strict();
const RollbackBody = z.object({ as: identity, reason: text.optional() }).strict();

const DeploymentsQuery = z.object({
  taskId: z.string().min(1).max(64).optional(),
  service: z.string().min(1).max(100).optional(),
  since: z.iso.datetime({ offset: true, error: 'since must be an ISO 8601 time' }).optional(),
});

const parseJson = (body: string): unknown => {
  try {
    return JSON.parse(body || '{}');
  } catch {
    throw new BadRequestError('the body is not JSON; send application/json');
  }
};

const newestFirst = <T extends { createdAt: string; deploymentId: string }>(list: T[]) =>
  [...list].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt) || b.deploymentId.localeCompare(a.deploymentId),
  );

/**
 * The deployments newest first as the operator sees them (`deploymentView`, the console and record links)
 * and, without a task, the DORA figures of the same window. The local route and the command line's stack
 * agent (cli/stack-agent.ts) both answer with it.
 */
export const listDeployments = async (
  ports: Pick<Ports, 'store' | 'config' | 'clock' | 'links' | 'artifacts'>,
  filter: z.infer<typeof DeploymentsQuery>,
): Promise<DeploymentsAnswer> => {
  const now = ports.clock.now();
  const records = await ports.store.listDeployments({
    ...(filter.taskId ? { taskId: filter.taskId } : {}),
    ...(filter.service ? { service: filter.service } : {}),
  });
  const since = filter.since ? new Date(filter.since) : undefined;
  const listed = newestFirst(records).filter((r) => !since || Date.parse(r.createdAt) >= since.getTime());
  const deployments = await Promise.all(
    listed.map(async (record) => {
      const view = deploymentView(
        record,
        await ports.store.findApprovalByDeployment(record.deploymentId),
        ports.config,
        now,
      );
      return {
        ...view,
        url: ports.links.deployment(record.deploymentId),
        ...(record.recordKey ? { recordUrl: ports.artifacts.link(record.recordKey) } : {}),
      };
    }),
  );
  if (filter.taskId) return { now: now.toISOString(), deployments };
  // the DORA window is the listed one: from `since` (default: the oldest listed start) to now
  const from = since ?? new Date(listed.at(-1)?.createdAt ?? now.toISOString());
  const figures = doraFigures(records, {
    since: from,
    until: now,
    ...(filter.service ? { service: filter.service } : {}),
  });
  return {
    now: now.toISOString(),
    deployments,
    dora: { since: from.toISOString(), figures, lines: formatDora(figures) },
  };
};

/**
 * Answers a `/api/…` route of the command line, or undefined when the path is none of them. `readBody`
 * is called only by the POST routes.
 */
export const handleApiRoute = async (
  method: string,
  url: URL,
  readBody: () => Promise<string>,
  ports: Ports,
): Promise<{ statusCode: number; body: unknown } | undefined> => {
  if (method === 'GET' && url.pathname === '/api/deployments') {
    const filter = DeploymentsQuery.parse(Object.fromEntries(url.searchParams));
    return { statusCode: 200, body: await listDeployments(ports, filter) };
  }
  const action = /^\/api\/tasks\/([A-Za-z0-9_-]{1,64})\/(deploy|approve|hold|rollback)$/.exec(url.pathname);
  const taskId = action?.[1];
  if (method !== 'POST' || !taskId) return undefined;
  const body = parseJson(await readBody());
  switch (action[2]) {
    case 'deploy': {
      const { as } = DeployBody.parse(body);
      const result = await requestDeployment({ taskId, ...(as ? { by: as } : {}) }, ports);
      return {
        statusCode: result.started ? 202 : 200,
        body: {
          ...result,
          ...(result.deploymentId ? { url: ports.links.deployment(result.deploymentId) } : {}),
        },
      };
    }
    case 'approve':
    case 'hold': {
      const decision = action[2];
      const parsed = decision === 'approve' ? ApproveBody.parse(body) : HoldBody.parse(body);
      const comment = 'reason' in parsed ? parsed.reason : parsed.comment;
      const result = await decideTask(
        { taskId, as: parsed.as, decision, ...(comment ? { comment } : {}) },
        ports,
      );
      return {
        statusCode: 200,
        body: {
          deploymentId: result.deploymentId,
          outcome: result.outcome,
          approvals: result.approvals,
          quorum: result.quorum,
          url: ports.links.deployment(result.deploymentId),
        },
      };
    }
    default: {
      const { as, reason } = RollbackBody.parse(body);
      const accepted = await requestRollback(
        { taskId, actor: { name: as, ids: [as] }, channel: 'cli', ...(reason ? { reason } : {}) },
        ports,
      );
      return { statusCode: 202, body: { ...accepted, url: ports.links.deployment(accepted.deploymentId) } };
    }
  }
};
