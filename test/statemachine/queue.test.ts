import { startDeployment } from '../../functions/shared/start-deployment.js';
import { CONFIG, RELEASE_FIELDS } from '../fixtures/config.js';
import { createHarness } from './harness.js';

/** The test config plus the same service in staging, on its own list: another lock. */
const TWO_ENVIRONMENTS = `${CONFIG}
  - name: notifications
    environment: staging
    tracker: { list_id: L2 }
    approvers: [{ email: lead@example.com }]
    steps:
      - { name: Deploy backend, kind: command, run: [deploy, backend] }
    monitoring: { report_interval: 15m }
`;

const until = async (condition: () => Promise<boolean> | boolean, what: string) => {
  for (let i = 0; i < 2000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`timed out waiting until ${what}`);
};

describe('one deployment per service and environment (the lock queue)', () => {
  it('runs three deployments of one environment one after another in arrival order, and another environment alongside', async () => {
    // Prepare: record every lock change in the order the store sees it
    const h = createHarness({ config: TWO_ENVIRONMENTS });
    // The drives leap the shared fake clock a whole bake interval at a time while the waiters ask every
    // 5 ms of real time: no waiter may look gone for that (the contract test covers the real TTL).
    h.store.waiterTtlMs = 24 * 3600_000;
    for (const id of ['t2', 't3']) h.tracker.add({ id, name: `Release ${id}`, customFields: RELEASE_FIELDS });
    h.tracker.add({ id: 't4', name: 'Staging release', listId: 'L2', customFields: RELEASE_FIELDS });
    const events: string[] = [];
    const holders = new Map<string, string>();
    let overlaps = 0;
    const acquire = h.store.acquireLock.bind(h.store);
    const release = h.store.releaseLock.bind(h.store);
    h.store.acquireLock = async (key, owner, expiresAt, now) => {
      const result = await acquire(key, owner, expiresAt, now);
      if (result.acquired && holders.get(key) !== owner) {
        if (holders.get(key)) overlaps++;
        holders.set(key, owner);
        events.push(`${key} → ${owner}`);
      }
      return result;
    };
    h.store.releaseLock = async (key, owner) => {
      if (holders.get(key) === owner) {
        holders.delete(key);
        events.push(`${key} ✕ ${owner}`);
      }
      return release(key, owner);
    };
    const start = async (taskId: string) => {
      const started = await startDeployment({ taskId, trigger: 'cli', requireInputStatus: true }, h.ports);
      if (!started.started) throw new Error(`${taskId} not started: ${started.reason}`);
      return started.deploymentId;
    };
    const stage = async (id: string) => (await h.store.getDeployment(id))?.stage;

    // Act: t1 takes the lock, then t2 and t3 queue behind it in that order; t4 is another environment
    const t1 = await start('t1');
    await until(async () => holders.get('notifications/production') === t1, 't1 holds the lock');
    const t2 = await start('t2');
    await until(async () => (await stage(t2)) === 'WaitForLock', 't2 queues');
    const t3 = await start('t3');
    await until(async () => (await stage(t3)) === 'WaitForLock', 't3 queues');
    const t4 = await start('t4');
    await until(async () => holders.get('notifications/staging') === t4, 't4 holds the staging lock');
    const t4WhileT1 = holders.get('notifications/production');
    const executions = await Promise.all([t1, t2, t3, t4].map((id) => h.drive(id)));

    // Assess: FIFO, never two holders of one lock, every run ends deployed and releases its lock
    expect(t4WhileT1).toBe(t1);
    expect(overlaps).toBe(0);
    expect(events.filter((e) => e.startsWith('notifications/production'))).toEqual([
      `notifications/production → ${t1}`,
      `notifications/production ✕ ${t1}`,
      `notifications/production → ${t2}`,
      `notifications/production ✕ ${t2}`,
      `notifications/production → ${t3}`,
      `notifications/production ✕ ${t3}`,
    ]);
    expect(executions.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    for (const id of [t1, t2, t3, t4]) expect((await h.store.getDeployment(id))?.outcome).toBe('deployed');
    expect(h.tracker.textsOf('t2')).toContainEqual(
      `⏳ Queued: ${t1} is deploying notifications to production. Position in queue: 1. This deployment starts when it finishes.`,
    );
    expect(h.tracker.textsOf('t3')).toContainEqual(
      `⏳ Queued: ${t1} is deploying notifications to production. Position in queue: 2. This deployment starts when it finishes.`,
    );
    expect(h.tracker.textsOf('t3')).toContainEqual(
      expect.stringMatching(/^⏳ Queue moved: next in line for notifications in production/),
    );
    expect(h.tracker.textsOf('t1').some((c) => c.startsWith('⏳'))).toBe(false);
    expect(h.tracker.textsOf('t4').some((c) => c.startsWith('⏳'))).toBe(false);
    expect(holders.size).toBe(0);
  }, 60_000);
});
