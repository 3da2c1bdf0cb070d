import { ClickUpTracker } from '../../../functions/shared/adapters/clickup-tracker.js';
import { NotFoundError, TransientDependencyError } from '../../../functions/shared/errors.js';

/** A clock that never waits: it records each wait and moves its time on. */
const instant = (start = new Date(0)) => {
  let now = start.getTime();
  const waits: number[] = [];
  return {
    waits,
    now: () => new Date(now),
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
  };
};

type Call = { url: string; method: string; headers: Record<string, string>; body?: unknown };

/** A recorded-contract stand-in for ClickUp: answers by method and path, records every request. */
const fakeClickUp = (routes: Record<string, () => Response>) => {
  const calls: Call[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    calls.push({
      url,
      method,
      headers: init?.headers as Record<string, string>,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    });
    const path = new URL(url).pathname.replace('/api', '');
    const route = routes[`${method} ${path}`];
    return route ? route() : new Response('{"err":"Route not found","ECODE":"APP_001"}', { status: 404 });
  }) as typeof globalThis.fetch;
  return { fetch, calls };
};

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const TASK = {
  id: '86abc',
  name: 'User Notifications',
  status: { status: 'ready to deploy', type: 'custom' },
  list: { id: '901', name: 'Releases' },
  url: 'https://app.clickup.com/t/86abc',
  custom_fields: [
    { id: 'f1', name: 'PR', type: 'short_text', value: '482' },
    {
      id: 'f2',
      name: 'Security Review',
      type: 'drop_down',
      type_config: {
        options: [
          { id: 'o1', name: 'Pending', orderindex: 0 },
          { id: 'o2', name: 'Approved', orderindex: 1 },
        ],
      },
      value: 1,
    },
    { id: 'f3', name: 'QA', type: 'short_text' },
    { id: 'f4', name: 'Risk points', type: 'number', value: '8' },
  ],
  tags: [{ name: 'qa-approved', tag_fg: '#fff', tag_bg: '#000' }],
  checklists: [
    {
      id: 'c1',
      name: 'Release',
      items: [
        { id: 'i1', name: 'QA sign-off', resolved: true },
        { id: 'i2', name: 'Docs', resolved: false },
      ],
    },
  ],
};

describe('ClickUpTracker', () => {
  it('reads a task with its custom fields by name (drop-downs as option names), tags and checklists', async () => {
    // Prepare
    const clickup = fakeClickUp({ 'GET /v2/task/86abc': () => json(TASK) });
    const tracker = new ClickUpTracker({ token: 'pk_1_ABC', fetch: clickup.fetch });

    // Act
    const task = await tracker.getTask('86abc');

    // Assess
    expect(task).toEqual({
      id: '86abc',
      name: 'User Notifications',
      status: 'ready to deploy',
      listId: '901',
      url: 'https://app.clickup.com/t/86abc',
      customFields: { PR: '482', 'Security Review': 'Approved', 'Risk points': '8' },
      tags: ['qa-approved'],
      checklists: [
        {
          name: 'Release',
          items: [
            { name: 'QA sign-off', resolved: true },
            { name: 'Docs', resolved: false },
          ],
        },
      ],
    });
    expect(clickup.calls[0]?.headers.authorization).toBe('pk_1_ABC');
  });

  it('sends an OAuth token as a bearer token, read when needed', async () => {
    // Prepare
    const clickup = fakeClickUp({ 'GET /v2/task/86abc': () => json(TASK) });
    const tracker = new ClickUpTracker({ token: async () => 'oauth-token', fetch: clickup.fetch });

    // Act
    await tracker.getTask('86abc');

    // Assess
    expect(clickup.calls[0]?.headers.authorization).toBe('Bearer oauth-token');
  });

  it('lists the tasks of a list in a status across pages', async () => {
    // Prepare
    let page = 0;
    const clickup = fakeClickUp({
      'GET /v2/list/901/task': () => json({ tasks: [{ ...TASK, id: `t${page}` }], last_page: page++ === 1 }),
    });
    const tracker = new ClickUpTracker({ token: 'pk_1_ABC', fetch: clickup.fetch });

    // Act
    const tasks = await tracker.listTasks('901', 'Ready to Deploy');

    // Assess
    expect(tasks.map((t) => t.id)).toEqual(['t0', 't1']);
    const first = new URL(clickup.calls[0]?.url ?? '');
    expect(first.searchParams.getAll('statuses[]')).toEqual(['Ready to Deploy']);
    expect(first.searchParams.get('page')).toBe('0');
  });

  it('comments, sets the status and reads comments oldest first', async () => {
    // Prepare
    const clickup = fakeClickUp({
      'POST /v2/task/86abc/comment': () => json({ id: '458', date: 1764321000000 }),
      'PUT /v2/task/86abc': () => json(TASK),
      'GET /v2/task/86abc/comment': () =>
        json({
          comments: [
            {
              id: '2',
              comment_text: '/deploy approve',
              user: { id: 7, username: 'sarah' },
              date: '1764321060000',
            },
            { id: '1', comment_text: 'Deploying…', user: { id: 1, username: 'bot' }, date: '1764321000000' },
          ],
        }),
    });
    const tracker = new ClickUpTracker({ token: 'pk_1_ABC', fetch: clickup.fetch });

    // Act
    await tracker.comment('86abc', '🚀 Deploying');
    await tracker.setStatus('86abc', 'Deployed');
    const comments = await tracker.getComments('86abc');

    // Assess
    expect(clickup.calls.map((c) => [c.method, c.body])).toEqual([
      ['POST', { comment_text: '🚀 Deploying', notify_all: false }],
      ['PUT', { status: 'Deployed' }],
      ['GET', undefined],
    ]);
    expect(comments).toEqual([
      { id: '1', taskId: '86abc', text: 'Deploying…', author: 'bot', createdAt: '2025-11-28T09:10:00.000Z' },
      {
        id: '2',
        taskId: '86abc',
        text: '/deploy approve',
        author: 'sarah',
        createdAt: '2025-11-28T09:11:00.000Z',
      },
    ]);
  });

  it('turns 429 and 5xx that outlast the attempts into TransientDependencyError, 404 into NotFoundError', async () => {
    // Prepare
    const clickup = fakeClickUp({
      'GET /v2/task/limited': () =>
        json({ err: 'Rate limit reached' }, 429, { 'x-ratelimit-reset': '1764321060' }),
      'GET /v2/task/broken': () => new Response('bad gateway', { status: 502 }),
    });
    // the reset time has passed: each 429 is retried at once until the attempts run out
    const clock = instant(new Date(1764321060_000));
    const tracker = new ClickUpTracker({ token: 'pk_1_ABC', fetch: clickup.fetch, clock });

    // Act
    const limited = await tracker.getTask('limited').catch((e: unknown) => e);
    const broken = await tracker.getTask('broken').catch((e: unknown) => e);
    const missing = await tracker.getTask('missing').catch((e: unknown) => e);

    // Assess
    expect(limited).toBeInstanceOf(TransientDependencyError);
    expect(String(limited)).toMatch(
      /429: Rate limit reached; rate limited until 1764321060; gave up after 4 attempts/,
    );
    expect(broken).toBeInstanceOf(TransientDependencyError);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(clickup.calls.filter((c) => c.url.endsWith('/broken'))).toHaveLength(4);
    expect(clickup.calls.filter((c) => c.url.endsWith('/missing'))).toHaveLength(1);
  });

  it('waits until X-RateLimit-Reset after a 429 and then succeeds', async () => {
    // Prepare
    let calls = 0;
    const clickup = fakeClickUp({
      'GET /v2/task/86abc': () =>
        calls++ === 0
          ? json({ err: 'Rate limit reached' }, 429, { 'x-ratelimit-reset': '1764321060' })
          : json(TASK),
    });
    const clock = instant(new Date(1764321057_500));
    const tracker = new ClickUpTracker({ token: 'pk_1_ABC', fetch: clickup.fetch, clock });

    // Act
    const task = await tracker.getTask('86abc');

    // Assess
    expect(task.id).toBe('86abc');
    expect(clock.waits).toEqual([2500]);
  });

  it('backs off exponentially on 5xx and fails at once when the reset is too far away', async () => {
    // Prepare
    let calls = 0;
    const clickup = fakeClickUp({
      'GET /v2/task/86abc': () => (calls++ < 2 ? new Response('', { status: 503 }) : json(TASK)),
      'GET /v2/task/later': () =>
        json({ err: 'Rate limit reached' }, 429, { 'x-ratelimit-reset': '1764400000' }),
    });
    const clock = instant(new Date(1764321000_000));
    const tracker = new ClickUpTracker({ token: 'pk_1_ABC', fetch: clickup.fetch, clock, backoffMs: 100 });

    // Act
    await tracker.getTask('86abc');
    const later = await tracker.getTask('later').catch((e: unknown) => e);

    // Assess
    expect(clock.waits).toEqual([100, 200]);
    expect(later).toBeInstanceOf(TransientDependencyError);
    expect(clickup.calls.filter((c) => c.url.endsWith('/later'))).toHaveLength(1);
  });

  it('turns a network failure into TransientDependencyError and a 401 into a named client error', async () => {
    // Prepare
    const offline = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const unauthorized = fakeClickUp({
      'GET /v2/task/86abc': () => json({ err: 'Token invalid', ECODE: 'OAUTH_025' }, 401),
    });

    // Act
    const network = await new ClickUpTracker({ token: 'pk_1_ABC', fetch: offline, clock: instant() })
      .getTask('86abc')
      .catch((e: unknown) => e);
    const denied = await new ClickUpTracker({ token: 'pk_1_ABC', fetch: unauthorized.fetch })
      .getTask('86abc')
      .catch((e: unknown) => e);

    // Assess
    expect(network).toBeInstanceOf(TransientDependencyError);
    expect(denied).toMatchObject({
      name: 'ClickUpRequestError',
      status: 401,
      code: 'OAUTH_025',
      message: 'ClickUp GET /v2/task/86abc answered 401: Token invalid (OAUTH_025)',
    });
    expect(unauthorized.calls).toHaveLength(1);
  });

  it('sets a drop-down custom field by option name, sending the option id', async () => {
    // Prepare
    const clickup = fakeClickUp({
      'GET /v2/task/86abc': () => json(TASK),
      'POST /v2/task/86abc/field/f2': () => json({}),
    });
    const tracker = new ClickUpTracker({ token: 'pk_1_ABC', fetch: clickup.fetch });

    // Act
    await tracker.setCustomField('86abc', 'Security Review', 'approved');
    const unknown = await tracker
      .setCustomField('86abc', 'Security Review', 'Maybe')
      .catch((e: unknown) => e);

    // Assess
    expect(clickup.calls.find((c) => c.method === 'POST')?.body).toEqual({ value: 'o2' });
    expect(String(unknown)).toMatch(
      /"Maybe" is not an option of the drop-down "Security Review" \(options: Pending, Approved\)/,
    );
  });
});
