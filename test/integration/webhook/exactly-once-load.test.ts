import { embeddedTracker, type LocalRuntime } from '../../../local/runtime.js';
import { APPROVER_ID, BOT_ID, sign, startRuntime, statusEvent } from './helpers.js';

const TASKS = 20;
const DELIVERIES_PER_TASK = 10;

/**
 * One service per list, so each of the 20 executions takes its own lock and reaches the approval wait
 * instead of queueing behind one service lock.
 */
const LOAD_CONFIG = `
devops_agent:
  bot_user_id: "${BOT_ID}"
  poll_interval: 300
services:
${Array.from(
  { length: TASKS },
  (_, i) => `  - name: service-${i}
    tracker: { list_id: L${i} }
    gates: { ci: false, pr_merged: false, sign_off: [], alarms_clear: false }
    approvers: [{ email: lead@example.com, clickup_user_id: "${APPROVER_ID}" }]
    steps:
      - { name: Say hello, kind: command, run: [node, -e, "0"] }
`,
).join('')}`;

describe('exactly one deployment per task move under load', () => {
  let runtime: LocalRuntime;

  beforeEach(async () => {
    runtime = await startRuntime(LOAD_CONFIG);
  });
  afterEach(async () => {
    await runtime.stop();
  });

  /** 20 tasks in Ready to Deploy, each on its own list. */
  const createTasks = async () => {
    const tracker = embeddedTracker(runtime);
    const tasks = [];
    for (let i = 0; i < TASKS; i++) {
      tasks.push(
        await tracker.createTask({ name: `Release ${i}`, listId: `L${i}`, status: 'Ready to Deploy' }),
      );
    }
    return tasks;
  };

  /**
   * Per task: five byte-identical retries of one delivery (ClickUp's retry) and five deliveries of the
   * same move under distinct history-item ids (a second webhook on the same list); interleaved, round k
   * holding the k-th delivery of every task, so no task's deliveries arrive together.
   */
  const deliveriesFor = (tasks: { id: string }[]) => {
    const bodiesPerTask = tasks.map((task, i) => {
      const duplicate = statusEvent(task.id, 'Ready to Deploy', {
        listId: `L${i}`,
        itemId: `47190000000${i}00`,
      });
      const distinct = Array.from({ length: DELIVERIES_PER_TASK / 2 }, (_, k) =>
        statusEvent(task.id, 'Ready to Deploy', { listId: `L${i}`, itemId: `47190000000${i}1${k}` }),
      );
      return [...Array.from({ length: DELIVERIES_PER_TASK / 2 }, () => duplicate), ...distinct];
    });
    return Array.from({ length: DELIVERIES_PER_TASK }, (_, k) =>
      bodiesPerTask.map((b) => b[k] as string),
    ).flat();
  };

  const deliver = (body: string) =>
    fetch(`${runtime.url}/webhooks/clickup`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'X-Signature': sign(body) },
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { result?: string } }));

  /** The deployment ids of the records, once every execution has written its own in its first state. */
  const recordsOnceWritten = async () => {
    for (;;) {
      const records = await runtime.store.listDeployments();
      if (records.length >= TASKS) return records.map((d) => d.deploymentId).sort();
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('starts 20 executions and 20 records for 200 concurrent interleaved deliveries of 20 task moves', async () => {
    // Prepare
    const tasks = await createTasks();
    const bodies = deliveriesFor(tasks);

    // Act
    const responses = await Promise.all(bodies.map(deliver));

    // Assess
    expect(responses).toHaveLength(TASKS * DELIVERIES_PER_TASK);
    expect(responses.filter((r) => r.status !== 200 && r.status !== 202)).toEqual([]);
    // exactly one delivery per task was the one that started it
    expect(responses.filter((r) => r.body.result === 'started')).toHaveLength(TASKS);
    const expected = tasks.map((t) => `${t.id}-1`).sort();
    expect(
      runtime.workflow
        .list()
        .map((e) => e.name)
        .sort(),
    ).toEqual(expected);
    expect(await recordsOnceWritten()).toEqual(expected);
    expect(runtime.workflow.list()).toHaveLength(TASKS);
  });

  it('starts each task once when two polling passes race the 200 deliveries', async () => {
    // Prepare
    const tasks = await createTasks();
    const bodies = deliveriesFor(tasks);

    // Act
    const [responses, ...passes] = await Promise.all([
      Promise.all(bodies.map(deliver)),
      runtime.poll(),
      runtime.poll(),
    ]);

    // Assess
    expect(responses.filter((r) => r.status !== 200 && r.status !== 202)).toEqual([]);
    const startedByWebhook = responses.filter((r) => r.body.result === 'started').length;
    const startedByPolling = passes.flatMap((p) => p.started).length;
    expect(startedByWebhook + startedByPolling).toBe(TASKS);
    expect(passes.flatMap((p) => p.errors)).toEqual([]);
    const expected = tasks.map((t) => `${t.id}-1`).sort();
    expect(await recordsOnceWritten()).toEqual(expected);
    expect(
      runtime.workflow
        .list()
        .map((e) => e.name)
        .sort(),
    ).toEqual(expected);
  });
});
