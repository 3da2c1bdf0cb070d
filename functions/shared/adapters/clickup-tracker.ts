import { z } from 'zod';
import { DomainError, NotFoundError, TransientDependencyError } from '../errors.js';
import type { Tracker, TrackerComment, TrackerTask } from '../ports/tracker.js';

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

const CustomFieldSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    type_config: z
      .object({
        options: z
          .array(
            z
              .object({
                id: z.string(),
                name: z.string().optional(),
                label: z.string().optional(),
                orderindex: z.union([z.number(), z.string()]).optional(),
              })
              .loose(),
          )
          .optional(),
      })
      .loose()
      .optional(),
    value: z.unknown().optional(),
  })
  .loose();

const TaskSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.object({ status: z.string() }).loose(),
    list: z.object({ id: z.string() }).loose(),
    url: z.string().optional(),
    custom_fields: z.array(CustomFieldSchema).default([]),
  })
  .loose();

const CommentSchema = z
  .object({
    id: z.union([z.string(), z.number()]).transform(String),
    comment_text: z.string().default(''),
    user: z
      .object({ id: z.union([z.string(), z.number()]).transform(String), username: z.string().nullish() })
      .loose()
      .nullish(),
    date: z.union([z.string(), z.number()]).transform(Number),
  })
  .loose();

type CustomField = z.infer<typeof CustomFieldSchema>;

/** A custom field's value as a person reads it: the option name of a drop-down, text as is. */
const fieldText = (field: CustomField): string | undefined => {
  const { value } = field;
  if (value === undefined || value === null || value === '') return undefined;
  const options = field.type_config?.options ?? [];
  const optionName = (v: unknown) => {
    const option = options.find((o) => o.id === v || String(o.orderindex) === String(v));
    return option?.name ?? option?.label ?? String(v);
  };
  if (field.type === 'drop_down') return optionName(value);
  if (field.type === 'labels' && Array.isArray(value)) return value.map(optionName).join(', ');
  if (Array.isArray(value))
    return value
      .map((v) =>
        v && typeof v === 'object'
          ? String((v as Record<string, unknown>).username ?? (v as Record<string, unknown>).id)
          : String(v),
      )
      .join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
};

const toTask = (raw: unknown): TrackerTask => {
  const task = TaskSchema.parse(raw);
  const customFields: Record<string, string> = {};
  for (const field of task.custom_fields) {
    const text = fieldText(field);
    if (text !== undefined) customFields[field.name] = text;
  }
  return {
    id: task.id,
    name: task.name,
    status: task.status.status,
    listId: task.list.id,
    ...(task.url ? { url: task.url } : {}),
    customFields,
  };
};

export interface ClickUpTrackerOptions {
  /** a personal token (`pk_…`, sent as is) or an OAuth access token (sent as `Bearer …`) */
  token: string | (() => Promise<string>);
  baseUrl?: string;
  fetch?: typeof fetch;
  /** per request, ms */
  timeoutMs?: number;
}

/**
 * The production `Tracker`: a thin typed client over ClickUp API v2. 429, 5xx, timeouts and network
 * errors become `TransientDependencyError` (the workflow retries them); 404 becomes `NotFoundError`.
 *
 * @example
 * const tracker = new ClickUpTracker({ token: 'pk_123_ABC' });
 * await tracker.comment('86abc', 'Deploying…');
 */
export class ClickUpTracker implements Tracker {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: ClickUpTrackerOptions) {
    this.baseUrl = (options.baseUrl ?? 'https://api.clickup.com/api').replace(/\/$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async getTask(taskId: string): Promise<TrackerTask> {
    return toTask(await this.request('GET', `/v2/task/${encodeURIComponent(taskId)}`));
  }

  async listTasks(listId: string, status: string): Promise<TrackerTask[]> {
    const tasks: TrackerTask[] = [];
    for (let page = 0; page < 100; page++) {
      const query = new URLSearchParams({ page: String(page) });
      query.append('statuses[]', status);
      const body = z
        .object({ tasks: z.array(z.unknown()), last_page: z.boolean().optional() })
        .loose()
        .parse(await this.request('GET', `/v2/list/${encodeURIComponent(listId)}/task?${query}`));
      tasks.push(...body.tasks.map(toTask));
      if (body.last_page !== false || body.tasks.length === 0) break;
    }
    return tasks;
  }

  async comment(taskId: string, text: string): Promise<void> {
    await this.request('POST', `/v2/task/${encodeURIComponent(taskId)}/comment`, {
      comment_text: text,
      notify_all: false,
    });
  }

  async setStatus(taskId: string, status: string): Promise<void> {
    await this.request('PUT', `/v2/task/${encodeURIComponent(taskId)}`, { status });
  }

  /** The newest 25 comments, oldest first (enough to find a recent `/deploy` command). */
  async getComments(taskId: string): Promise<TrackerComment[]> {
    const body = z
      .object({ comments: z.array(CommentSchema).default([]) })
      .loose()
      .parse(await this.request('GET', `/v2/task/${encodeURIComponent(taskId)}/comment`));
    return body.comments
      .map((c) => ({
        id: c.id,
        taskId,
        text: c.comment_text,
        author: c.user?.username ?? c.user?.id ?? 'unknown',
        createdAt: new Date(c.date).toISOString(),
      }))
      .reverse();
  }

  private async authorization(): Promise<string> {
    const token = typeof this.options.token === 'string' ? this.options.token : await this.options.token();
    return token.startsWith('pk_') ? token : `Bearer ${token}`;
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const where = `ClickUp ${method} ${path.split('?')[0]}`;
    let response: Response;
    try {
      response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: await this.authorization(),
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new TransientDependencyError(`${where} failed: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    if (response.ok) return text ? (JSON.parse(text) as unknown) : {};
    let detail: { err?: string; ECODE?: string } = {};
    try {
      detail = JSON.parse(text) as typeof detail;
    } catch {
      // not JSON: the status says enough
    }
    const message = `${where} answered ${response.status}${detail.err ? `: ${detail.err}` : ''}${detail.ECODE ? ` (${detail.ECODE})` : ''}`;
    if (response.status === 429) {
      const reset = response.headers.get('x-ratelimit-reset');
      throw new TransientDependencyError(`${message}; rate limited${reset ? ` until ${reset}` : ''}`);
    }
    if (response.status >= 500) throw new TransientDependencyError(message);
    if (response.status === 404) throw new NotFoundError(message);
    throw new ClickUpRequestError(message, response.status, detail.ECODE);
  }
}
