import { NotFoundError } from '../../../functions/shared/errors.js';
import { LocalTracker, type TrackerChange } from '../../../local/adapters/local-tracker.js';
import { type Database, openDatabase } from '../../../local/adapters/sqlite-database.js';
import { FakeClock } from '../../fixtures/fakes.js';

describe('LocalTracker', () => {
  let db: Database;
  let tracker: LocalTracker;

  beforeEach(() => {
    db = openDatabase(':memory:');
    tracker = new LocalTracker(db, {
      clock: new FakeClock(),
      taskUrl: (id) => `http://127.0.0.1:4000/#${id}`,
    });
  });

  afterEach(() => {
    db.close();
  });

  it('creates a task with a local id and reads it back', async () => {
    // Act
    const task = await tracker.createTask({
      name: 'User Notifications',
      listId: 'demo-list',
      status: 'Ready to Deploy',
      customFields: { PR: '42', QA: 'Approved' },
    });

    // Assess
    expect(task.id).toMatch(/^local-[0-9a-f]{6}$/);
    expect(await tracker.getTask(task.id)).toEqual({
      id: task.id,
      name: 'User Notifications',
      listId: 'demo-list',
      status: 'Ready to Deploy',
      url: `http://127.0.0.1:4000/#${task.id}`,
      customFields: { PR: '42', QA: 'Approved' },
    });
  });

  it('throws NotFoundError for an unknown task', async () => {
    // Act
    const results = await Promise.allSettled([
      tracker.getTask('local-000000'),
      tracker.comment('local-000000', 'hello'),
      tracker.setStatus('local-000000', 'Deployed'),
    ]);

    // Assess
    expect(results.map((r) => r.status === 'rejected' && r.reason instanceof NotFoundError)).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('lists the tasks of a list in a status, ignoring the status case as ClickUp does', async () => {
    // Prepare
    const a = await tracker.createTask({ name: 'A', listId: 'demo-list', status: 'Ready to Deploy' });
    await tracker.createTask({ name: 'B', listId: 'demo-list', status: 'In Review' });
    await tracker.createTask({ name: 'C', listId: 'other-list', status: 'Ready to Deploy' });

    // Act
    const ready = await tracker.listTasks('demo-list', 'ready to deploy');
    const all = await tracker.listAll();

    // Assess
    expect(ready.map((t) => t.id)).toEqual([a.id]);
    expect(all.map((t) => t.name)).toEqual(['A', 'B', 'C']);
  });

  it('keeps comments in order with their author', async () => {
    // Prepare
    const task = await tracker.createTask({ name: 'A', listId: 'demo-list', status: 'Ready to Deploy' });

    // Act
    await tracker.comment(task.id, '🚀 DevOps: Preparing deployment...');
    await tracker.addComment(task.id, '/deploy rollback', 'dana@example.com');

    // Assess
    const comments = await tracker.comments(task.id);
    expect(comments.map(({ text, author, taskId }) => ({ text, author, taskId }))).toEqual([
      { text: '🚀 DevOps: Preparing deployment...', author: 'devops-agent', taskId: task.id },
      { text: '/deploy rollback', author: 'dana@example.com', taskId: task.id },
    ]);
    expect(comments[0]?.createdAt).toBe('2026-11-28T10:00:00.000Z');
    expect(await tracker.getComments(task.id)).toEqual(comments);
  });

  it('tells listeners about creation, status changes, comments and fields, and not about a same-status write', async () => {
    // Prepare
    const changes: TrackerChange[] = [];
    const stop = tracker.onChange((change) => changes.push(change));
    const task = await tracker.createTask({ name: 'A', listId: 'demo-list', status: 'In Review' });

    // Act
    await tracker.setStatus(task.id, 'Ready to Deploy');
    await tracker.setStatus(task.id, 'Ready to Deploy');
    await tracker.comment(task.id, 'hello');
    await tracker.setCustomField(task.id, 'QA', 'Approved');
    stop();
    await tracker.setStatus(task.id, 'Deployed');

    // Assess
    expect(changes.map((c) => c.type)).toEqual(['created', 'status', 'comment', 'field']);
    expect(changes[1]).toEqual({
      type: 'status',
      taskId: task.id,
      status: 'Ready to Deploy',
      previous: 'In Review',
    });
    expect(changes[2]).toMatchObject({ type: 'comment', text: 'hello', author: 'devops-agent' });
    expect((await tracker.getTask(task.id)).customFields).toEqual({ QA: 'Approved' });
  });

  it('keeps working when a listener throws, and reports the error', async () => {
    // Prepare
    const errors: unknown[] = [];
    const guarded = new LocalTracker(db, { onListenerError: (error) => errors.push(error) });
    guarded.onChange(() => {
      throw new Error('listener broke');
    });
    const task = await guarded.createTask({ name: 'A', listId: 'demo-list', status: 'In Review' });

    // Act
    await guarded.setStatus(task.id, 'Ready to Deploy');

    // Assess
    expect((await guarded.getTask(task.id)).status).toBe('Ready to Deploy');
    expect(errors).toHaveLength(2);
  });

  it('shares tasks with another tracker on the same database', async () => {
    // Prepare
    const task = await tracker.createTask({ name: 'A', listId: 'demo-list', status: 'In Review' });

    // Act
    const other = new LocalTracker(db);
    await other.setStatus(task.id, 'Deployed');

    // Assess
    expect((await tracker.getTask(task.id)).status).toBe('Deployed');
  });
});
