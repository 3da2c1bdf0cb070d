import { ClickUpTracker } from '../../../functions/shared/adapters/clickup-tracker.js';
import { NotFoundError, TransientDependencyError } from '../../../functions/shared/errors.js';

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
};

describe('ClickUpTracker', () => {
  it('reads a task with its custom fields by name, drop-downs as option names', async () => {
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

  it('turns 429 and 5xx into TransientDependencyError, 404 into NotFoundError', async () => {
    // Prepare
    const clickup = fakeClickUp({
      'GET /v2/task/limited': () =>
        json({ err: 'Rate limit reached' }, 429, { 'x-ratelimit-reset': '1764321060' }),
      'GET /v2/task/broken': () => new Response('bad gateway', { status: 502 }),
    });
    const tracker = new ClickUpTracker({ token: 'pk_1_ABC', fetch: clickup.fetch });

    // Act
    const limited = tracker.getTask('limited');
    const broken = tracker.getTask('broken');
    const missing = tracker.getTask('missing');

    // Assess
    await expect(limited).rejects.toBeInstanceOf(TransientDependencyError);
    await expect(limited).rejects.toThrow(/429: Rate limit reached; rate limited until 1764321060/);
    await expect(broken).rejects.toBeInstanceOf(TransientDependencyError);
    await expect(missing).rejects.toBeInstanceOf(NotFoundError);
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
    const network = new ClickUpTracker({ token: 'pk_1_ABC', fetch: offline }).getTask('86abc');
    const denied = new ClickUpTracker({ token: 'pk_1_ABC', fetch: unauthorized.fetch }).getTask('86abc');

    // Assess
    await expect(network).rejects.toBeInstanceOf(TransientDependencyError);
    await expect(denied).rejects.toMatchObject({
      name: 'ClickUpRequestError',
      status: 401,
      code: 'OAUTH_025',
      message: 'ClickUp GET /v2/task/86abc answered 401: Token invalid (OAUTH_025)',
    });
  });
});
