import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { parseCommand } from '../shared/commands.js';
import { servicesForList, settingsFor } from '../shared/config/resolve.js';
import { BadRequestError, SignatureInvalidError } from '../shared/errors.js';
import type { Ports } from '../shared/ports/index.js';
import { type StartResult, startDeployment } from '../shared/start-deployment.js';
import { type CommandOutcome, isKnownList, runCommentCommand } from './comment-commands.js';

/** ClickUp ids are short; a bound keeps what is built from them (the delivery's source event) bounded too. */
const id = z.union([z.string().max(64), z.number()]).transform(String);

const UserSchema = z
  .object({
    id: id.optional(),
    email: z.string().nullish(),
    username: z.string().nullish(),
  })
  .loose();

/** A comment inside a history item: `text_content` (plain) and `comment` (rich runs), see §1.5. */
const CommentSchema = z
  .object({
    id: id.optional(),
    text_content: z.string().nullish(),
    comment_text: z.string().nullish(),
    comment: z.union([z.array(z.unknown()), z.string()]).nullish(),
    user: UserSchema.nullish(),
  })
  .loose();

export const ClickUpWebhookSchema = z
  .object({
    event: z.string().min(1),
    task_id: z.string().min(1).optional(),
    webhook_id: z.string().max(64).optional(),
    history_items: z
      .array(
        z
          .object({
            id: id.optional(),
            field: z.string().nullish(),
            /** for task events: the List ID */
            parent_id: id.nullish(),
            user: UserSchema.nullish(),
            after: z.unknown().optional(),
            comment: CommentSchema.nullish(),
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
  body: {
    result: 'started' | 'accepted' | 'refused' | 'ignored';
    deploymentId?: string;
    action?: string;
    reason?: string;
  };
}

const MAX_BODY_BYTES = 256 * 1024;

/**
 * ClickUp signs the raw body with the webhook's secret: hex HMAC-SHA256 in X-Signature. Each configured
 * list has its own webhook and secret, so a delivery is genuine when it matches any of them; every secret
 * is compared in constant time.
 */
export const verifySignature = (
  rawBody: string,
  signature: string | undefined,
  secrets: string | readonly string[],
): void => {
  if (!signature) throw new SignatureInvalidError('missing X-Signature header');
  const trimmed = signature.trim();
  const given = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.alloc(0);
  let matched = false;
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets) {
    const expected = createHmac('sha256', secret).update(rawBody, 'utf8').digest();
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) {
    throw new SignatureInvalidError('X-Signature does not match the body; check the webhook secret');
  }
};

const statusAfter = (after: unknown): string | undefined => {
  if (typeof after === 'string') return after;
  if (after && typeof after === 'object' && 'status' in after && typeof after.status === 'string')
    return after.status;
  return undefined;
};

type WebhookPorts = Pick<Ports, 'config' | 'tracker' | 'store' | 'workflow' | 'clock' | 'logger'>;
type WebhookEvent = z.infer<typeof ClickUpWebhookSchema>;

const ignore = (reason: string, deploymentId?: string): WebhookResponse => ({
  statusCode: 200,
  body: { result: 'ignored', reason, ...(deploymentId ? { deploymentId } : {}) },
});

const isBot = (ports: WebhookPorts, userId: string | undefined) => {
  const bot = ports.config.devops_agent.bot_user_id;
  return bot !== undefined && userId !== undefined && userId === bot;
};

/** A task moved: start a deployment when it moved to its list's input status. */
const onStatusUpdated = async (event: WebhookEvent, taskId: string, ports: WebhookPorts) => {
  const item = event.history_items.find((h) => h.field === 'status') ?? event.history_items[0];
  if (isBot(ports, item?.user?.id)) return ignore('status changed by devops-agent itself');
  const listId = item?.parent_id ?? undefined;
  const services = listId ? servicesForList(ports.config, listId) : ports.config.services;
  if (services.length === 0) return ignore(`list ${listId} is not configured for any service`);
  const newStatus = statusAfter(item?.after);
  if (
    newStatus !== undefined &&
    !services.some(
      (s) => settingsFor(ports.config, s).inputStatus.toLowerCase() === newStatus.trim().toLowerCase(),
    )
  )
    return ignore(`status "${newStatus}" is not an input status`);
  // The task is read again before starting: the status it is in now is what counts.
  const result: StartResult = await startDeployment(
    {
      taskId,
      trigger: 'status',
      requestedBy: item?.user?.email ?? item?.user?.username ?? item?.user?.id,
      requesterIds: [item?.user?.id, item?.user?.email].filter((v): v is string => !!v),
      requireInputStatus: true,
      ...(item?.id ? { sourceEvent: `clickup:${event.webhook_id ?? 'unknown'}:${item.id}` } : {}),
    },
    ports,
  );
  return result.started
    ? ({ statusCode: 202, body: { result: 'started', deploymentId: result.deploymentId } } as const)
    : ignore(result.reason, result.deploymentId);
};

const toResponse = (outcome: CommandOutcome): WebhookResponse => {
  switch (outcome.result) {
    case 'started':
      return { statusCode: 202, body: outcome };
    case 'accepted':
      return { statusCode: 202, body: outcome };
    default:
      return { statusCode: 200, body: outcome };
  }
};

/** A comment was posted: act on a `/deploy` command, ignore everything else. */
const onCommentPosted = async (event: WebhookEvent, taskId: string, ports: WebhookPorts) => {
  const item =
    event.history_items.find((h) => h.field === 'comment' && h.comment) ??
    event.history_items.find((h) => h.comment);
  const comment = item?.comment;
  if (!item || !comment) return ignore('no comment in the event');
  // The comment's own user usually has no email; the history item's user has it.
  const user = {
    id: comment.user?.id ?? item.user?.id,
    email: comment.user?.email ?? item.user?.email,
    username: comment.user?.username ?? item.user?.username,
  };
  if (isBot(ports, user.id) || isBot(ports, item.user?.id ?? undefined))
    return ignore('comment by devops-agent itself');
  const parsed = parseCommand({
    text_content: comment.text_content ?? undefined,
    comment_text: comment.comment_text ?? undefined,
    comment: comment.comment ?? undefined,
  });
  if (!parsed) return ignore('not a /deploy command');
  const listId = item.parent_id ?? undefined;
  if (listId && !isKnownList(ports, listId))
    return ignore(`list ${listId} is not configured for any service`);
  const outcome = await runCommentCommand(
    parsed,
    {
      taskId,
      ...((comment.id ?? item.id) ? { commentId: String(comment.id ?? item.id) } : {}),
      commenter: {
        ...(user.id ? { id: user.id } : {}),
        ...(user.email ? { email: user.email.toLowerCase() } : {}),
        ...(user.username ? { username: user.username } : {}),
      },
    },
    ports,
  );
  return toResponse(outcome);
};

/**
 * Handles one ClickUp webhook delivery: verifies the signature over the raw body, parses it, and
 * - `taskStatusUpdated` to a configured list's input status → starts a deployment (202);
 * - `taskCommentPosted` with a `/deploy` command → acts on it (202), or answers a refusal on the task (200);
 * - anything else → acknowledged and ignored (200).
 * Bad or missing signature 403, malformed 400; never 401/410, which make ClickUp suspend the webhook.
 * Nothing waits for the workflow: an execution is started and the answer goes back at once.
 */
export const handleClickUpWebhook = async (
  request: WebhookRequest,
  ports: WebhookPorts,
  secret: string | readonly string[] | undefined,
): Promise<WebhookResponse> => {
  if (Buffer.byteLength(request.rawBody, 'utf8') > MAX_BODY_BYTES)
    throw new BadRequestError('body larger than 256 KiB');
  if (!secret || secret.length === 0)
    throw new SignatureInvalidError(
      'no webhook secret is configured, so no delivery can be verified; run `devops-agent clickup setup` or set the secret',
    );
  verifySignature(request.rawBody, request.headers['x-signature'], secret);
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
  if (event.event !== 'taskStatusUpdated' && event.event !== 'taskCommentPosted')
    return ignore(`event ${event.event} is not handled`);
  if (!event.task_id) return ignore('no task_id');
  return event.event === 'taskStatusUpdated'
    ? onStatusUpdated(event, event.task_id, ports)
    : onCommentPosted(event, event.task_id, ports);
};
