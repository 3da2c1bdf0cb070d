import { randomBytes } from 'node:crypto';
import { BadRequestError, NotFoundError } from '../../functions/shared/errors.js';
import { type Clock, systemClock } from '../../functions/shared/ports/clock.js';
import type { Tracker, TrackerComment, TrackerTask } from '../../functions/shared/ports/tracker.js';
import { type Database, transaction } from './sqlite-database.js';

/** What happened to a task; the local runtime starts a deployment on a status change, as ClickUp's webhook does. */
export type TrackerChange =
  | { type: 'created'; taskId: string; task: TrackerTask }
  | { type: 'status'; taskId: string; status: string; previous: string }
  | { type: 'comment'; taskId: string; commentId: string; text: string; author: string }
  | { type: 'field'; taskId: string; field: string; value: string | undefined };

export type TrackerListener = (change: TrackerChange) => void;

export interface NewTask {
  name: string;
  listId: string;
  status: string;
  customFields?: Record<string, string>;
}

export interface LocalTrackerOptions {
  clock?: Clock;
  /** who the agent's comments are from */
  author?: string;
  /** where the console shows a task, for `TrackerTask.url` */
  taskUrl?: (taskId: string) => string;
  /** a listener that throws is reported here and never breaks the tracker call */
  onListenerError?: (error: unknown, change: TrackerChange) => void;
}

type Row = Record<string, unknown>;

/**
 * The embedded tracker of the local runtime: tasks, statuses, custom fields and comments in the same SQLite
 * file as the store, shown in the local console. Statuses compare case-insensitively, as in ClickUp.
 */
export class LocalTracker implements Tracker {
  private readonly listeners = new Set<TrackerListener>();
  private readonly clock: Clock;
  private readonly author: string;

  constructor(
    private readonly db: Database,
    private readonly options: LocalTrackerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.author = options.author ?? 'devops-agent';
  }

  /** Calls `listener` after every change; returns a function that stops it. */
  onChange(listener: TrackerListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async createTask(task: NewTask): Promise<TrackerTask> {
    const name = task.name.trim();
    if (!name) throw new BadRequestError('a task needs a name');
    if (!task.listId.trim() || !task.status.trim())
      throw new BadRequestError('a task needs a list and a status');
    const now = this.clock.now().toISOString();
    const created = transaction(this.db, () => {
      let taskId = '';
      do {
        taskId = `local-${randomBytes(3).toString('hex')}`;
      } while (this.db.prepare('SELECT 1 FROM tasks WHERE task_id = ?').get(taskId));
      this.db
        .prepare(
          `INSERT INTO tasks (task_id, list_id, name, status, custom_fields, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(taskId, task.listId, name, task.status, JSON.stringify(task.customFields ?? {}), now, now);
      return this.require(taskId);
    });
    this.emit({ type: 'created', taskId: created.id, task: created });
    return created;
  }

  async getTask(taskId: string): Promise<TrackerTask> {
    return this.require(taskId);
  }

  async listTasks(listId: string, status: string): Promise<TrackerTask[]> {
    return this.db
      .prepare(
        'SELECT * FROM tasks WHERE list_id = ? AND status = ? COLLATE NOCASE ORDER BY created_at, rowid',
      )
      .all(listId, status)
      .map((row) => this.toTask(row));
  }

  /** Every task, oldest first (the console's board). */
  async listAll(): Promise<TrackerTask[]> {
    return this.db
      .prepare('SELECT * FROM tasks ORDER BY created_at, rowid')
      .all()
      .map((row) => this.toTask(row));
  }

  async comment(taskId: string, text: string): Promise<void> {
    await this.addComment(taskId, text, this.author);
  }

  /** A comment by anyone (a person in the console, the CLI); returns it. */
  async addComment(taskId: string, text: string, author: string): Promise<TrackerComment> {
    const comment: TrackerComment = {
      id: `c-${randomBytes(4).toString('hex')}`,
      taskId,
      text,
      author,
      createdAt: this.clock.now().toISOString(),
    };
    transaction(this.db, () => {
      this.require(taskId);
      this.db
        .prepare(
          'INSERT INTO comments (comment_id, task_id, text, author, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(comment.id, taskId, text, author, comment.createdAt);
    });
    this.emit({ type: 'comment', taskId, commentId: comment.id, text, author });
    return comment;
  }

  async setStatus(taskId: string, status: string): Promise<void> {
    if (!status.trim()) throw new BadRequestError('a status cannot be empty');
    const previous = transaction(this.db, () => {
      const before = this.require(taskId).status;
      if (before === status) return undefined;
      this.db
        .prepare('UPDATE tasks SET status = ?, updated_at = ? WHERE task_id = ?')
        .run(status, this.clock.now().toISOString(), taskId);
      return before;
    });
    if (previous !== undefined) this.emit({ type: 'status', taskId, status, previous });
  }

  /** Sets a custom field (`undefined` clears it). */
  async setCustomField(taskId: string, field: string, value: string | undefined): Promise<void> {
    transaction(this.db, () => {
      const fields = { ...this.require(taskId).customFields };
      if (value === undefined) delete fields[field];
      else fields[field] = value;
      this.db
        .prepare('UPDATE tasks SET custom_fields = ?, updated_at = ? WHERE task_id = ?')
        .run(JSON.stringify(fields), this.clock.now().toISOString(), taskId);
    });
    this.emit({ type: 'field', taskId, field, value });
  }

  async getComments(taskId: string): Promise<TrackerComment[]> {
    return this.db
      .prepare('SELECT * FROM comments WHERE task_id = ? ORDER BY seq')
      .all(taskId)
      .map((row) => ({
        id: String(row.comment_id),
        taskId: String(row.task_id),
        text: String(row.text),
        author: String(row.author),
        createdAt: String(row.created_at),
      }));
  }

  /** Same as `getComments`, under the name the console uses. */
  comments(taskId: string): Promise<TrackerComment[]> {
    return this.getComments(taskId);
  }

  private require(taskId: string): TrackerTask {
    const row = this.db.prepare('SELECT * FROM tasks WHERE task_id = ?').get(taskId);
    if (!row) throw new NotFoundError(`task ${taskId} not found in the local tracker`);
    return this.toTask(row);
  }

  private toTask(row: Row): TrackerTask {
    const id = String(row.task_id);
    return {
      id,
      name: String(row.name),
      status: String(row.status),
      listId: String(row.list_id),
      ...(this.options.taskUrl ? { url: this.options.taskUrl(id) } : {}),
      customFields: JSON.parse(String(row.custom_fields)) as Record<string, string>,
    };
  }

  private emit(change: TrackerChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.options.onListenerError?.(error, change);
      }
    }
  }
}
