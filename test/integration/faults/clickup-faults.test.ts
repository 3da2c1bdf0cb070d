import { ClickUpTracker } from '../../../functions/shared/adapters/clickup-tracker.js';
import { TransientDependencyError } from '../../../functions/shared/errors.js';
import { type FakeClickUp, startFakeClickUp } from '../../fixtures/fake-clickup.js';
import {
  answer,
  drop,
  type FaultProxy,
  hang,
  rejection,
  reset,
  startFaultProxy,
} from '../../fixtures/fault-proxy.js';

const TASK = '/api/v2/task/86rel';

describe('ClickUp behind a faulty network', () => {
  let clickup: FakeClickUp;
  let proxy: FaultProxy;
  /** real sleeps of a few milliseconds: the proxy's timestamps then show the backoff between attempts */
  const tracker = (options: { maxAttempts?: number; timeoutMs?: number; now?: () => Date } = {}) =>
    new ClickUpTracker({
      token: clickup.token,
      baseUrl: proxy.url,
      backoffMs: 5,
      maxAttempts: options.maxAttempts ?? 4,
      timeoutMs: options.timeoutMs ?? 5_000,
      clock: {
        now: options.now ?? (() => new Date()),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      },
    });

  beforeEach(async () => {
    clickup = await startFakeClickUp();
    clickup.addList('901', 'Releases', ['ready to deploy', 'deploying', 'deployed']);
    clickup.addTask({ id: '86rel', name: 'Release 2.4', listId: '901', status: 'ready to deploy' });
    proxy = await startFaultProxy(clickup.url);
  });
  afterEach(async () => {
    await proxy.stop();
    await clickup.stop();
  });

  it('reads the task after a 503 and a connection reset mid-answer, backing off between attempts', async () => {
    // Prepare
    proxy.script([answer(503), reset], { path: TASK });

    // Act
    const task = await tracker().getTask('86rel');

    // Assess
    expect(task.id).toBe('86rel');
    expect(proxy.seen({ path: TASK }).map((r) => r.kind)).toEqual(['status', 'reset', 'pass']);
    const gaps = proxy.gaps({ path: TASK });
    expect(gaps).toHaveLength(2);
    expect(gaps.every((gap) => gap > 0)).toBe(true);
  });

  it('waits for X-RateLimit-Reset after a 429 before asking again', async () => {
    // Prepare
    const resetAt = Math.ceil(Date.now() / 1000) + 60;
    // ClickUp's clock and ours 20 ms apart from the reset: a short, real wait
    const now = () => new Date(resetAt * 1000 - 20);
    proxy.script([answer(429, { 'X-RateLimit-Reset': String(resetAt) }, '{"err":"Rate limit reached"}')], {
      path: TASK,
    });

    // Act
    const task = await tracker({ now }).getTask('86rel');

    // Assess
    expect(task.id).toBe('86rel');
    expect(proxy.seen({ path: TASK }).map((r) => r.status)).toEqual([429, 200]);
    expect(proxy.gaps({ path: TASK })[0]).toBeGreaterThan(0);
  });

  it('retries 429s that carry no X-RateLimit-Reset with its own backoff and gets the answer', async () => {
    // Prepare
    proxy.script([answer(429, { 'Retry-After': '1' }, '{"err":"Rate limit reached"}'), answer(429)], {
      path: TASK,
    });

    // Act
    const task = await tracker().getTask('86rel');

    // Assess
    expect(task.id).toBe('86rel');
    expect(proxy.seen({ path: TASK }).map((r) => r.status)).toEqual([429, 429, 200]);
    expect(proxy.gaps({ path: TASK }).every((gap) => gap > 0)).toBe(true);
  });

  it('posts the comment after a request that hung past the timeout', async () => {
    // Prepare
    proxy.script([hang], { method: 'POST', path: `${TASK}/comment` });

    // Act
    await tracker({ timeoutMs: 200 }).comment('86rel', 'Deploying Release 2.4');

    // Assess
    expect(proxy.count('hang')).toBe(1);
    expect(proxy.count('pass', { method: 'POST', path: `${TASK}/comment` })).toBe(1);
    expect(clickup.commentTexts('86rel')).toEqual(['Deploying Release 2.4']);
  });

  it('moves the status after a dropped connection', async () => {
    // Prepare
    proxy.script([drop], { method: 'PUT', path: TASK });

    // Act
    await tracker().setStatus('86rel', 'Deploying');

    // Assess
    expect(proxy.seen({ method: 'PUT', path: TASK }).map((r) => r.kind)).toEqual(['drop', 'pass']);
    expect(clickup.statusOf('86rel')).toBe('deploying');
  });

  it('gives up on a ClickUp that keeps answering 502 after maxAttempts, with TransientDependencyError naming the call', async () => {
    // Prepare
    proxy.always(answer(502));

    // Act
    const error = await rejection(tracker({ maxAttempts: 3 }).getTask('86rel'));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toBe('ClickUp GET /v2/task/86rel answered 502; gave up after 3 attempts');
    expect(proxy.seen({ path: TASK })).toHaveLength(3);
    expect(proxy.gaps({ path: TASK }).every((gap) => gap > 0)).toBe(true);
  });

  it('fails at once with TransientDependencyError when the rate limit resets later than it is worth waiting', async () => {
    // Prepare
    const resetAt = Math.ceil(Date.now() / 1000) + 3_600;
    proxy.always(answer(429, { 'X-RateLimit-Reset': String(resetAt) }));

    // Act
    const error = await rejection(tracker().getTask('86rel'));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toMatch(/^ClickUp GET \/v2\/task\/86rel answered 429; rate limited until \d+$/);
    expect(proxy.seen({ path: TASK })).toHaveLength(1);
  });

  it('gives up on a ClickUp that never answers after maxAttempts timeouts, and posts nothing', async () => {
    // Prepare
    proxy.always(hang);

    // Act
    const error = await rejection(tracker({ maxAttempts: 2, timeoutMs: 100 }).comment('86rel', 'hello'));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toMatch(
      /^ClickUp POST \/v2\/task\/86rel\/comment failed: .+; gave up after 2 attempts$/,
    );
    expect(proxy.count('hang')).toBe(2);
    expect(clickup.commentTexts('86rel')).toEqual([]);
  });

  it('gives up on connections that keep being reset after maxAttempts', async () => {
    // Prepare
    proxy.always(drop);

    // Act
    const error = await rejection(tracker({ maxAttempts: 3 }).getTask('86rel'));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toMatch(/^ClickUp GET \/v2\/task\/86rel failed: .+; gave up after 3 attempts$/);
    expect(proxy.count('drop')).toBe(3);
  });
});
