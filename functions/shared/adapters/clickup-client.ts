import * as z from 'zod';
import {
  DomainError,
  errorMessage,
  NotFoundError,
  redact,
  redactedCause,
  TransientDependencyError,
} from '../errors.js';
import { type Clock, systemClock } from '../ports/clock.js';

/** ClickUp answered with a client error (bad token, unknown status, …): retrying will not help. */
export class ClickUpRequestError extends DomainError {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

const id = z.union([z.string(), z.number()]).transform(String);

export const ClickUpDropdownOptionSchema = z
  .object({
    id: z.string(),
    name: z.string().optional(),
    label: z.string().optional(),
    orderindex: z.union([z.number(), z.string()]).optional(),
  })
  .loose();

export const ClickUpCustomFieldSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    type_config: z
      .object({ options: z.array(ClickUpDropdownOptionSchema).optional() })
      .loose()
      .optional(),
    value: z.unknown().optional(),
  })
  .loose();
export type ClickUpCustomField = z.infer<typeof ClickUpCustomFieldSchema>;

export const ClickUpTaskSchema = z
  .object({
    id: z.string(),
    custom_id: z.string().nullish(),
    name: z.string(),
    status: z.object({ status: z.string(), type: z.string().optional() }).loose(),
    list: z.object({ id, name: z.string().optional() }).loose(),
    url: z.string().optional(),
    date_updated: z.string().nullish(),
    custom_fields: z.array(ClickUpCustomFieldSchema).default([]),
    tags: z.array(z.object({ name: z.string() }).loose()).default([]),
    checklists: z
      .array(
        z
          .object({
            name: z.string(),
            items: z
              .array(z.object({ name: z.string(), resolved: z.boolean().nullish() }).loose())
              .default([]),
          })
          .loose(),
      )
      .default([]),
  })
  .loose();
export type ClickUpTask = z.infer<typeof ClickUpTaskSchema>;

const TaskPageSchema = z
  .object({ tasks: z.array(ClickUpTaskSchema), last_page: z.boolean().optional() })
  .loose();

export const ClickUpCommentSchema = z
  .object({
    id,
    comment_text: z.string().default(''),
    user: z.object({ id, username: z.string().nullish() }).loose().nullish(),
    date: z.union([z.string(), z.number()]).transform(Number),
  })
  .loose();
export type ClickUpComment = z.infer<typeof ClickUpCommentSchema>;

const CommentsSchema = z.object({ comments: z.array(ClickUpCommentSchema).default([]) }).loose();

const CreatedCommentSchema = z
  .object({ id, hist_id: z.string().optional(), date: z.union([z.string(), z.number()]).optional() })
  .loose();

export const ClickUpStatusSchema = z
  .object({
    id: z.string().optional(),
    status: z.string(),
    type: z.string().optional(),
    orderindex: z.union([z.number(), z.string()]).optional(),
    color: z.string().optional(),
  })
  .loose();
export type ClickUpStatus = z.infer<typeof ClickUpStatusSchema>;

export const ClickUpListSchema = z
  .object({ id, name: z.string(), statuses: z.array(ClickUpStatusSchema).default([]) })
  .loose();
export type ClickUpList = z.infer<typeof ClickUpListSchema>;

export const ClickUpWebhookSchema = z
  .object({
    id: z.string(),
    userid: id.optional(),
    team_id: id.optional(),
    endpoint: z.string(),
    events: z.array(z.string()).default([]),
    task_id: id.nullish(),
    list_id: id.nullish(),
    folder_id: id.nullish(),
    space_id: id.nullish(),
    health: z.object({ status: z.string(), fail_count: z.number() }).loose().optional(),
    /** returned at creation; whether listing or updating returns it is not documented [uncertain] */
    secret: z.string().optional(),
  })
  .loose();
export type ClickUpWebhook = z.infer<typeof ClickUpWebhookSchema>;

const WebhookEnvelopeSchema = z.object({ id: z.string(), webhook: ClickUpWebhookSchema }).loose();
const WebhooksSchema = z.object({ webhooks: z.array(ClickUpWebhookSchema).default([]) }).loose();

export interface CreateWebhookInput {
  endpoint: string;
  events: string[];
  space_id?: number;
  folder_id?: number;
  list_id?: number;
  task_id?: string;
}

export interface UpdateWebhookInput {
  endpoint: string;
  events: string[];
  /** `active` re-activates a suspended webhook */
  status?: 'active' | 'inactive';
}

export interface ClickUpClientOptions {
  /** a personal token (`pk_…`, sent as is) or an OAuth access token (sent as `Bearer …`) */
  token: string | (() => Promise<string>);
  /** default `https://api.clickup.com/api` */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** per request, ms (default 10 s) */
  timeoutMs?: number;
  /** `now` reads the rate-limit reset time, `sleep` waits between attempts (tests inject both) */
  clock?: Clock;
  /** attempts per request for 429, 5xx and network errors, the first included (default 4) */
  maxAttempts?: number;
  /** first backoff after a 5xx or network error, doubled each time (default 500 ms) */
  backoffMs?: number;
  /** the longest wait for `X-RateLimit-Reset`; a later reset fails at once as transient (default 60 s) */
  maxRateLimitWaitMs?: number;
}

/** Pages of `GET /v2/list/{id}/task` read at most (100 tasks each): a runaway loop stops here. */
export const MAX_TASK_PAGES = 50;

type Json = Record<string, unknown>;

/** Why an attempt failed and how long to wait before the next one (undefined: give up now). */
interface Failure {
  error: Error;
  /** `backoff`: exponential from `backoffMs`; a number: that many ms (a rate-limit reset) */
  retry?: 'backoff' | number;
}

/**
 * A thin typed client over ClickUp API v2: every response is parsed with zod. 429 waits until
 * `X-RateLimit-Reset` (bounded) and retries; 5xx and network errors retry with exponential backoff; what
 * outlasts the attempts is a `TransientDependencyError`. 404 is a `NotFoundError`; other 4xx are a
 * `ClickUpRequestError` carrying ClickUp's `ECODE`. The token goes in the `Authorization` header only,
 * never in a URL or a message.
 *
 * Non-idempotent calls (create comment, create webhook) are retried too: ClickUp sends no idempotency
 * key, so a 5xx after the write landed can duplicate a comment (the workflow's own retries could as well).
 */
export class ClickUpClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxRateLimitWaitMs: number;

  constructor(private readonly options: ClickUpClientOptions) {
    this.baseUrl = (options.baseUrl ?? 'https://api.clickup.com/api').replace(/\/$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.backoffMs = options.backoffMs ?? 500;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 60_000;
  }

  /** `GET /v2/task/{id}` with its custom fields (drop-down values read back as option positions). */
  async getTask(taskId: string): Promise<ClickUpTask> {
    return ClickUpTaskSchema.parse(await this.request('GET', `/v2/task/${enc(taskId)}`));
  }

  /** One page (0-based) of `GET /v2/list/{id}/task` filtered by statuses. */
  async listTasksPage(
    listId: string,
    statuses: string[],
    page: number,
  ): Promise<{ tasks: ClickUpTask[]; lastPage: boolean }> {
    const query = new URLSearchParams({ page: String(page) });
    for (const status of statuses) query.append('statuses[]', status);
    const body = TaskPageSchema.parse(await this.request('GET', `/v2/list/${enc(listId)}/task?${query}`));
    // `last_page` missing (older answers) or an empty page ends the listing
    return { tasks: body.tasks, lastPage: body.last_page !== false || body.tasks.length === 0 };
  }

  /** Every task of a list in one of `statuses`, page after page until `last_page` (at most `maxPages`). */
  async listTasks(listId: string, statuses: string[], maxPages = MAX_TASK_PAGES): Promise<ClickUpTask[]> {
    const tasks: ClickUpTask[] = [];
    for (let page = 0; page < maxPages; page++) {
      const result = await this.listTasksPage(listId, statuses, page);
      tasks.push(...result.tasks);
      if (result.lastPage) break;
    }
    return tasks;
  }

  /** `POST /v2/task/{id}/comment` as plain text, without notifying everyone. */
  async createComment(taskId: string, text: string): Promise<{ id: string }> {
    const body = await this.request('POST', `/v2/task/${enc(taskId)}/comment`, {
      comment_text: text,
      notify_all: false,
    });
    return { id: CreatedCommentSchema.parse(body).id };
  }

  /** `PUT /v2/task/{id}` with `{status}`; the status must exist on the task's list. */
  async updateStatus(taskId: string, status: string): Promise<ClickUpTask> {
    return ClickUpTaskSchema.parse(await this.request('PUT', `/v2/task/${enc(taskId)}`, { status }));
  }

  /** `POST /v2/task/{id}/field/{field_id}` with `{value}` exactly as given (see `setField` for drop-downs). */
  async setCustomField(taskId: string, fieldId: string, value: unknown): Promise<void> {
    await this.request('POST', `/v2/task/${enc(taskId)}/field/${enc(fieldId)}`, { value });
  }

  /**
   * Sets a custom field of a task by field name or id. A drop-down is read back as the option's position
   * (`orderindex`) but must be set by the option's id: `value` may be the option's name, id or position.
   */
  async setField(task: ClickUpTask | string, field: string, value: unknown): Promise<void> {
    const read = typeof task === 'string' ? await this.getTask(task) : task;
    const target = read.custom_fields.find((f) => f.id === field || f.name === field);
    if (!target) {
      const known = read.custom_fields.map((f) => f.name).join(', ') || 'none';
      throw new ClickUpRequestError(
        `task ${read.id} has no custom field "${field}" (fields: ${known}); add it to the list in ClickUp`,
        400,
      );
    }
    const resolved = target.type === 'drop_down' ? dropdownOptionId(target, value) : value;
    await this.setCustomField(read.id, target.id, resolved);
  }

  /** The newest comments (25, newest first), or older ones from `start` (ms) and `startId`. */
  async getComments(taskId: string, from?: { start: number; startId: string }): Promise<ClickUpComment[]> {
    const query = from
      ? `?${new URLSearchParams({ start: String(from.start), start_id: from.startId })}`
      : '';
    return CommentsSchema.parse(await this.request('GET', `/v2/task/${enc(taskId)}/comment${query}`))
      .comments;
  }

  /** `GET /v2/list/{id}`: the list with its statuses. */
  async getList(listId: string): Promise<ClickUpList> {
    return ClickUpListSchema.parse(await this.request('GET', `/v2/list/${enc(listId)}`));
  }

  /** Webhooks of the workspace created by the token's user. */
  async listWebhooks(teamId: string): Promise<ClickUpWebhook[]> {
    return WebhooksSchema.parse(await this.request('GET', `/v2/team/${enc(teamId)}/webhook`)).webhooks;
  }

  /** Creates a webhook; the answer carries `webhook.secret`, the signing key: store it. */
  async createWebhook(teamId: string, input: CreateWebhookInput): Promise<ClickUpWebhook> {
    const body = WebhookEnvelopeSchema.parse(
      await this.request('POST', `/v2/team/${enc(teamId)}/webhook`, { ...input }),
    );
    return { ...body.webhook, id: body.webhook.id || body.id };
  }

  /** Updates endpoint, events and status (`active` revives a suspended webhook). */
  async updateWebhook(webhookId: string, input: UpdateWebhookInput): Promise<ClickUpWebhook> {
    const body = WebhookEnvelopeSchema.parse(
      await this.request('PUT', `/v2/webhook/${enc(webhookId)}`, { ...input }),
    );
    return { ...body.webhook, id: body.webhook.id || body.id };
  }

  async deleteWebhook(webhookId: string): Promise<void> {
    await this.request('DELETE', `/v2/webhook/${enc(webhookId)}`);
  }

  private async readToken(): Promise<string> {
    return typeof this.options.token === 'string' ? this.options.token : await this.options.token();
  }

  private async request(method: string, path: string, body?: Json): Promise<unknown> {
    const where = `ClickUp ${method} ${path.split('?')[0]}`;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(method, path, where, body);
      if (!('error' in outcome)) return outcome.body;
      const { error, retry } = outcome;
      if (retry === undefined) throw error;
      if (attempt >= this.maxAttempts) {
        throw new TransientDependencyError(`${error.message}; gave up after ${attempt} attempts`, {
          cause: error,
        });
      }
      await this.sleep(retry === 'backoff' ? this.backoffMs * 2 ** (attempt - 1) : retry);
    }
  }

  private async attempt(
    method: string,
    path: string,
    where: string,
    body: Json | undefined,
  ): Promise<{ body: unknown } | Failure> {
    let response: Response;
    let text: string;
    const token = await this.readToken();
    // whatever ClickUp (or a proxy on the way) says may quote the credential it was sent
    const secrets = [token];
    try {
      response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: token.startsWith('pk_') ? token : `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      return {
        error: new TransientDependencyError(`${where} failed: ${redact(errorMessage(error), secrets)}`, {
          cause: redactedCause(error, secrets),
        }),
        retry: 'backoff',
      };
    }
    if (response.ok) {
      try {
        return { body: text ? (JSON.parse(text) as unknown) : {} };
      } catch (error) {
        return {
          error: new TransientDependencyError(
            `${where} answered ${response.status} with a body that is not JSON`,
            {
              cause: error,
            },
          ),
          retry: 'backoff',
        };
      }
    }
    let detail: { err?: unknown; ECODE?: unknown } = {};
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object') detail = parsed as typeof detail;
    } catch {
      // not JSON: the status says enough
    }
    const err = typeof detail.err === 'string' ? redact(detail.err, secrets) : undefined;
    const code = typeof detail.ECODE === 'string' ? redact(detail.ECODE, secrets) : undefined;
    const message = `${where} answered ${response.status}${err ? `: ${err}` : ''}${code ? ` (${code})` : ''}`;
    if (response.status === 429) return this.rateLimited(message, response.headers.get('x-ratelimit-reset'));
    if (response.status >= 500) {
      return { error: new TransientDependencyError(message), retry: 'backoff' };
    }
    if (response.status === 404) return { error: new NotFoundError(message) };
    return { error: new ClickUpRequestError(message, response.status, code) };
  }

  private rateLimited(message: string, reset: string | null): Failure {
    const resetSeconds = reset === null ? Number.NaN : Number(reset);
    if (!Number.isFinite(resetSeconds)) {
      return { error: new TransientDependencyError(`${message}; rate limited`), retry: 'backoff' };
    }
    const waitMs = Math.max(0, resetSeconds * 1000 - this.clock.now().getTime());
    const error = new TransientDependencyError(`${message}; rate limited until ${reset}`);
    if (waitMs > this.maxRateLimitWaitMs) return { error };
    return { error, retry: waitMs };
  }

  private sleep(ms: number): Promise<void> {
    const sleep = this.clock.sleep ?? systemClock.sleep;
    return sleep ? sleep(ms) : Promise.resolve();
  }
}

const enc = encodeURIComponent;

/**
 * The option id to SET a drop-down with, from what a caller may hold: the option's id, its name (any
 * case) or its position (`orderindex`, as ClickUp READS the value back).
 */
export const dropdownOptionId = (field: ClickUpCustomField, value: unknown): string => {
  const options = field.type_config?.options ?? [];
  const text = String(value);
  const option =
    options.find((o) => o.id === text) ??
    options.find((o) => (o.name ?? o.label)?.toLowerCase() === text.toLowerCase()) ??
    (typeof value === 'number' || /^\d+$/.test(text)
      ? options.find((o) => String(o.orderindex) === text)
      : undefined);
  if (!option) {
    const names = options.map((o) => o.name ?? o.label ?? o.id).join(', ') || 'none';
    throw new ClickUpRequestError(
      `"${text}" is not an option of the drop-down "${field.name}" (options: ${names})`,
      400,
    );
  }
  return option.id;
};

/** The option a drop-down value READ from ClickUp points at (its position, or an id in older answers). */
export const dropdownOption = (field: ClickUpCustomField, value: unknown) =>
  (field.type_config?.options ?? []).find((o) => o.id === value || String(o.orderindex) === String(value));
