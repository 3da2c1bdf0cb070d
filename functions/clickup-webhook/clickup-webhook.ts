import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { BadRequestError, SignatureInvalidError } from '../shared/errors.js';
import type { Ports } from '../shared/ports/index.js';
import { type StartResult, startDeployment } from '../shared/start-deployment.js';

export const ClickUpWebhookSchema = z
  .object({
    event: z.string().min(1),
    task_id: z.string().min(1).optional(),
    webhook_id: z.string().optional(),
    history_items: z
      .array(
        z
          .object({
            id: z.string().optional(),
            field: z.string().optional(),
            user: z
              .object({ id: z.union([z.string(), z.number()]).transform(String) })
              .loose()
              .optional(),
            after: z.unknown().optional(),
          })
          .loose(),
      )
      .default([]),
  })
  .loose();

export interface WebhookRequest {
  /** the body exactly as received (already base64-decoded) */
  rawBody: string;
  /** header names in lower case */
  headers: Record<string, string | undefined>;
}

export interface WebhookResponse {
  statusCode: 200 | 202 | 204;
  body: { result: 'started' | 'ignored'; deploymentId?: string; reason?: string };
}

const MAX_BODY_BYTES = 256 * 1024;

/** ClickUp signs the raw body with the webhook secret: hex HMAC-SHA256 in X-Signature. */
export const verifySignature = (rawBody: string, signature: string | undefined, secret: string): void => {
  if (!signature) throw new SignatureInvalidError('missing X-Signature header');
  const expected = createHmac('sha256', secret).update(rawBody, 'utf8').digest();
  const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SignatureInvalidError('X-Signature does not match the body; check the webhook secret');
  }
};

const statusAfter = (after: unknown): string | undefined => {
  if (typeof after === 'string') return after;
  if (after && typeof after === 'object' && 'status' in after && typeof after.status === 'string')
    return after.status;
  return undefined;
};

/**
 * Handles one ClickUp webhook delivery: verifies the signature, parses the body, and starts a deployment
 * when a task moved to the input status. Everything else is acknowledged and ignored (never 401/410,
 * which would make ClickUp suspend the webhook).
 */
export const handleClickUpWebhook = async (
  request: WebhookRequest,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'workflow' | 'clock' | 'logger'>,
  secret: string | undefined,
): Promise<WebhookResponse> => {
  if (Buffer.byteLength(request.rawBody, 'utf8') > MAX_BODY_BYTES)
    throw new BadRequestError('body larger than 256 KiB');
  if (secret) verifySignature(request.rawBody, request.headers['x-signature'], secret);
  let json: unknown;
  try {
    json = JSON.parse(request.rawBody);
  } catch {
    throw new BadRequestError('the body is not JSON; ClickUp webhooks send application/json');
  }
  const parsed = ClickUpWebhookSchema.safeParse(json);
  if (!parsed.success) {
    throw new BadRequestError(
      `not a ClickUp webhook event: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`,
    );
  }
  const event = parsed.data;
  const ignore = (reason: string): WebhookResponse => ({
    statusCode: 200,
    body: { result: 'ignored', reason },
  });
  if (event.event !== 'taskStatusUpdated') return ignore(`event ${event.event} is not handled`);
  if (!event.task_id) return ignore('no task_id');
  const item = event.history_items.find((h) => h.field === 'status') ?? event.history_items[0];
  const botUserId = ports.config.devops_agent.bot_user_id;
  if (botUserId && item?.user?.id === botUserId) return ignore('status changed by devops-agent itself');
  const newStatus = statusAfter(item?.after);
  const inputStatus = ports.config.devops_agent.input_status;
  if (newStatus !== undefined && newStatus.toLowerCase() !== inputStatus.toLowerCase()) {
    const configured = ports.config.services.some(
      (s) => s.tracker.input_status?.toLowerCase() === newStatus.toLowerCase(),
    );
    if (!configured) return ignore(`status "${newStatus}" is not an input status`);
  }
  const result: StartResult = await startDeployment(
    { taskId: event.task_id, trigger: 'status', requestedBy: item?.user?.id, requireInputStatus: true },
    ports,
  );
  return result.started
    ? { statusCode: 202, body: { result: 'started', deploymentId: result.deploymentId } }
    : {
        statusCode: 200,
        body: {
          result: 'ignored',
          reason: result.reason,
          ...(result.deploymentId ? { deploymentId: result.deploymentId } : {}),
        },
      };
};
