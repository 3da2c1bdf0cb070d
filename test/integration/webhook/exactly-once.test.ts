import { embeddedTracker, type LocalRuntime } from '../../../local/runtime.js';
import { sign, startRuntime, statusEvent } from './helpers.js';

describe('exactly one deployment per task move', () => {
  let runtime: LocalRuntime;

  beforeEach(async () => {
    runtime = await startRuntime();
  });
  afterEach(async () => {
    await runtime.stop();
  });

  it('starts one execution and one record for 50 concurrent identical deliveries and a polling pass', async () => {
    // Prepare
    const task = await embeddedTracker(runtime).createTask({
      name: 'Release 2.4',
      listId: 'L1',
      status: 'Ready to Deploy',
    });
    const body = statusEvent(task.id, 'Ready to Deploy');
    const deliver = () =>
      fetch(`${runtime.url}/webhooks/clickup`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'X-Signature': sign(body) },
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { result: string } }));

    // Act
    const [responses] = await Promise.all([Promise.all(Array.from({ length: 50 }, deliver)), runtime.poll()]);

    // Assess
    const executions = runtime.workflow.list();
    expect(executions.map((e) => e.name)).toEqual([`${task.id}-1`]);
    expect(responses.every((r) => r.status === 202 || r.status === 200)).toBe(true);
    expect(responses.filter((r) => r.body.result === 'started').length).toBeLessThanOrEqual(1);
    // the execution reaches its first state, which writes the record; then it waits for approval
    const waiting = async () => {
      for (;;) {
        const [record] = await runtime.store.listDeployments({ taskId: task.id });
        if (record?.status === 'awaiting-approval') return;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await waiting();
    expect((await runtime.store.listDeployments()).map((d) => d.deploymentId)).toEqual([`${task.id}-1`]);
    expect(runtime.workflow.list()).toHaveLength(1);
  });
});
