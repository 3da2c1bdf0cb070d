import type { Tracker, TrackerComment, TrackerTask } from '../ports/tracker.js';
import {
  ClickUpClient,
  type ClickUpClientOptions,
  type ClickUpCustomField,
  type ClickUpTask,
  dropdownOption,
} from './clickup-client.js';

export { ClickUpRequestError } from './clickup-client.js';

/** A custom field's value as a person reads it: the option name of a drop-down, text as is. */
const fieldText = (field: ClickUpCustomField): string | undefined => {
  const { value } = field;
  if (value === undefined || value === null || value === '') return undefined;
  const optionName = (v: unknown) => {
    const option = dropdownOption(field, v);
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

const toTask = (task: ClickUpTask): TrackerTask => {
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
    tags: task.tags.map((t) => t.name),
    checklists: task.checklists.map((c) => ({
      name: c.name,
      items: c.items.map((i) => ({ name: i.name, resolved: i.resolved === true })),
    })),
  };
};

/** The client's options: token, base URL, fetch, timeout, clock (sleep) and the retry bounds. */
export type ClickUpTrackerOptions = ClickUpClientOptions;

/**
 * The production `Tracker` over `ClickUpClient` (ClickUp API v2). 429 and 5xx are retried in the client
 * (bounded) and then become `TransientDependencyError` (the workflow retries them); 404 is `NotFoundError`.
 *
 * @example
 * const tracker = new ClickUpTracker({ token: 'pk_123_ABC' });
 * await tracker.comment('86abc', 'Deploying…');
 */
export class ClickUpTracker implements Tracker {
  readonly client: ClickUpClient;

  constructor(options: ClickUpTrackerOptions) {
    this.client = new ClickUpClient(options);
  }

  async getTask(taskId: string): Promise<TrackerTask> {
    return toTask(await this.client.getTask(taskId));
  }

  async listTasks(listId: string, status: string): Promise<TrackerTask[]> {
    return (await this.client.listTasks(listId, [status])).map(toTask);
  }

  async comment(taskId: string, text: string): Promise<void> {
    await this.client.createComment(taskId, text);
  }

  async setStatus(taskId: string, status: string): Promise<void> {
    await this.client.updateStatus(taskId, status);
  }

  /**
   * Sets a custom field by name; a drop-down takes its option's name (or id, or position). Not part of
   * the `Tracker` port.
   */
  async setCustomField(taskId: string, fieldName: string, value: unknown): Promise<void> {
    await this.client.setField(taskId, fieldName, value);
  }

  /** The newest 25 comments, oldest first (enough to find a recent `/deploy` command). */
  async getComments(taskId: string): Promise<TrackerComment[]> {
    const comments = await this.client.getComments(taskId);
    return comments
      .map((c) => ({
        id: c.id,
        taskId,
        text: c.comment_text,
        author: c.user?.username ?? c.user?.id ?? 'unknown',
        createdAt: new Date(c.date).toISOString(),
      }))
      .reverse();
  }
}
