import { jest } from '@jest/globals';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ClickUpClient } from '../../../functions/shared/adapters/clickup-client.js';
import { GitHubSourceControl } from '../../../functions/shared/adapters/github-source-control.js';
import { BadRequestError, redact, redactedCause } from '../../../functions/shared/errors.js';
import { LAMBDA_CONTEXT } from '../../fixtures/lambda-context.js';

const CLICKUP_TOKEN = 'pk_81234567_SECRETCLICKUPTOKEN0123456789ABCDEF';
const OAUTH_TOKEN = '81234567_SECRETOAUTHACCESSTOKEN0123456789';
const GITHUB_TOKEN = 'ghp_SECRETGITHUBTOKEN0123456789abcdefABCD';
const SECRETS = [CLICKUP_TOKEN, OAUTH_TOKEN, GITHUB_TOKEN];

/** What `act` wrote to stdout and stderr (Powertools writes there, not through jest's console). */
const outputOf = async <T>(act: () => Promise<T>) => {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    const result = await act().catch((error: unknown) => error);
    return { result, output: chunks.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
};

const leaked = (text: string) => SECRETS.filter((s) => text.includes(s));

/** An error a handler would hand to the log: the Powertools logger's own serialization of it, cause chain included. */
const loggedError = async (error: unknown) => {
  const { output } = await outputOf(async () => powertools.logger.error('dependency failed', { error }));
  expect(output).toContain('dependency failed');
  return output;
};

/** A ClickUp stand-in answering every request with `answer`, recording the URLs it was sent. */
const clickUpAnswering = (answer: () => Response | Promise<Response>) => {
  const urls: string[] = [];
  const fetch = (async (input: string | URL | Request) => {
    urls.push(String(input));
    return answer();
  }) as typeof globalThis.fetch;
  return { fetch, urls };
};

/** A GitHub stand-in answering every request with `answer` (Octokit's paginator reads the url). */
const gitHubAnswering = (answer: () => Response) =>
  (async (input: string | URL | Request) => {
    const response = answer();
    Object.defineProperty(response, 'url', { value: String(input instanceof Request ? input.url : input) });
    return response;
  }) as typeof globalThis.fetch;

const json = (body: unknown, status: number) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const noSleep = { now: () => new Date('2026-11-29T06:00:00Z'), sleep: async () => undefined };

const saved = { ...process.env };
let middleware: typeof import('../../../functions/shared/middleware.js');
let powertools: typeof import('../../../functions/shared/powertools.js');

beforeAll(async () => {
  // Module scope reads the environment: every level is written, so a leak at any level shows.
  Object.assign(process.env, { POWERTOOLS_LOG_LEVEL: 'DEBUG', AWS_REGION: 'eu-west-1' });
  middleware = await import('../../../functions/shared/middleware.js');
  powertools = await import('../../../functions/shared/powertools.js');
});

afterAll(() => {
  process.env = saved;
});

const httpEvent = {
  body: '{}',
  headers: { authorization: `Bearer ${OAUTH_TOKEN}` },
  httpMethod: 'POST',
  isBase64Encoded: false,
  path: '/webhooks/clickup',
  pathParameters: null,
  requestContext: { path: '/v1/webhooks/clickup', identity: { sourceIp: '203.0.113.7' } },
} as unknown as APIGatewayProxyEvent;

describe('secrets in the AWS handlers’ logs and answers', () => {
  it('logs a 500 without the token its error’s cause carries, and answers a generic message', async () => {
    // Prepare
    const cause = Object.assign(new Error(`ClickUp refused token ${CLICKUP_TOKEN}`), {
      request: { headers: { authorization: CLICKUP_TOKEN } },
    });
    const handler = middleware.httpHandler(async () => {
      throw new Error('reading the task failed', { cause });
    });

    // Act
    const { result, output } = await outputOf(() => handler(httpEvent, LAMBDA_CONTEXT));

    // Assess
    expect(output).toContain('request failed');
    expect(leaked(output)).toEqual([]);
    expect((result as { statusCode: number }).statusCode).toBe(500);
    expect(leaked(JSON.stringify(result))).toEqual([]);
  });

  it('refuses a bad request without echoing a token its cause carries', async () => {
    // Prepare
    const handler = middleware.httpHandler(async () => {
      throw new BadRequestError('the body is not a ClickUp event', { cause: new Error(GITHUB_TOKEN) });
    });

    // Act
    const { result, output } = await outputOf(() => handler(httpEvent, LAMBDA_CONTEXT));

    // Assess
    expect((result as { statusCode: number; body: string }).statusCode).toBe(400);
    expect(JSON.parse((result as { body: string }).body)).toEqual({
      error: 'the body is not a ClickUp event',
    });
    expect(output).toContain('request refused');
    expect(leaked(output)).toEqual([]);
  });

  it('writes no token to the log when a Task function fails with an error whose cause carries one', async () => {
    // Prepare
    const handler = middleware.taskHandler(
      async () => {
        throw new Error('the step failed', {
          cause: { headers: { authorization: `Bearer ${OAUTH_TOKEN}` } },
        });
      },
      () => ({}),
    );

    // Act
    const { result, output } = await outputOf(() => handler({ deploymentId: 'd-1' }, LAMBDA_CONTEXT));

    // Assess
    expect((result as Error).message).toBe('the step failed');
    expect(leaked(output)).toEqual([]);
  });
});

describe('secrets in the ClickUp client’s errors', () => {
  it('sends the token in the Authorization header only, never in a URL', async () => {
    // Prepare
    const seen: { url: string; authorization: string | null }[] = [];
    const client = new ClickUpClient({
      token: CLICKUP_TOKEN,
      baseUrl: 'http://clickup.test/api',
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        seen.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
        return json({ id: 'c-1' }, 200);
      }) as typeof globalThis.fetch,
    });

    // Act
    await client.createComment('86abc', 'Deploying');

    // Assess
    expect(seen).toEqual([
      { url: 'http://clickup.test/api/v2/task/86abc/comment', authorization: CLICKUP_TOKEN },
    ]);
  });

  it.each([
    ['a personal token', CLICKUP_TOKEN],
    ['an OAuth access token', OAUTH_TOKEN],
  ])('keeps %s ClickUp echoes in a 401 answer out of the error and its log line', async (_kind, token) => {
    // Prepare: a proxy or a verbose error page quoting the credential it was sent
    const clickUp = clickUpAnswering(() => json({ err: `Token invalid: ${token}`, ECODE: 'OAUTH_025' }, 401));
    const client = new ClickUpClient({ token, baseUrl: 'http://clickup.test/api', fetch: clickUp.fetch });

    // Act
    const error = (await client.getTask('86abc').catch((e: unknown) => e)) as Error;

    // Assess
    expect(error.name).toBe('ClickUpRequestError');
    expect(error.message).toContain('answered 401');
    expect(error.message).toContain('OAUTH_025');
    expect(leaked(error.message)).toEqual([]);
    expect(leaked(await loggedError(error))).toEqual([]);
    expect(leaked(clickUp.urls.join(' '))).toEqual([]);
  });

  it('keeps a token echoed in 5xx answers out of the transient error it gives up with, cause included', async () => {
    // Prepare
    const clickUp = clickUpAnswering(() =>
      json({ err: `upstream rejected ${CLICKUP_TOKEN}`, ECODE: 'GW_1' }, 502),
    );
    const client = new ClickUpClient({
      token: async () => CLICKUP_TOKEN,
      baseUrl: 'http://clickup.test/api',
      fetch: clickUp.fetch,
      clock: noSleep,
      maxAttempts: 2,
    });

    // Act
    const error = (await client.getTask('86abc').catch((e: unknown) => e)) as Error;

    // Assess
    expect(error.name).toBe('TransientDependencyError');
    expect(error.message).toContain('gave up after 2 attempts');
    expect(leaked(error.message)).toEqual([]);
    expect(leaked(await loggedError(error))).toEqual([]);
  });

  it('keeps a token out of a network failure that quotes it', async () => {
    // Prepare: a failing fetch whose message names what it sent (an HTTP proxy's error does)
    const clickUp = clickUpAnswering(() => {
      throw new TypeError(`fetch failed: proxy refused Authorization: ${CLICKUP_TOKEN}`);
    });
    const client = new ClickUpClient({
      token: CLICKUP_TOKEN,
      baseUrl: 'http://clickup.test/api',
      fetch: clickUp.fetch,
      clock: noSleep,
      maxAttempts: 1,
    });

    // Act
    const error = (await client.getTask('86abc').catch((e: unknown) => e)) as Error;

    // Assess
    expect(error.name).toBe('TransientDependencyError');
    expect(error.message).toContain('fetch failed');
    expect(leaked(error.message)).toEqual([]);
    expect(leaked(await loggedError(error))).toEqual([]);
  });
});

describe('secrets in the GitHub adapter’s errors', () => {
  it.each([
    [401, 'GitHubRequestError'],
    [403, 'GitHubRequestError'],
    [404, 'NotFoundError'],
    [500, 'TransientDependencyError'],
  ])(
    'keeps a token GitHub echoes in a %i answer out of the error and its logged cause',
    async (status, name) => {
      // Prepare
      const source = new GitHubSourceControl({
        token: async () => GITHUB_TOKEN,
        fetch: gitHubAnswering(() => json({ message: `Bad credentials for ${GITHUB_TOKEN}` }, status)),
        retries: 0,
        waitUnitMs: 1,
      });

      // Act
      const error = (await source.getPullRequest('acme/notifications', 42).catch((e: unknown) => e)) as Error;

      // Assess
      expect(error.name).toBe(name);
      expect(leaked(error.message)).toEqual([]);
      expect(leaked(await loggedError(error))).toEqual([]);
    },
  );
});

describe('redact and redactedCause', () => {
  it('replaces every occurrence of a secret and leaves strings shorter than 8 characters alone', () => {
    // Act
    const text = redact(`a ${GITHUB_TOKEN} b ${GITHUB_TOKEN} c`, [GITHUB_TOKEN, 'b']);

    // Assess
    expect(text).toBe('a [redacted] b [redacted] c');
  });

  it('keeps a cause that quotes no secret as it is, and replaces one that does by its redacted message', () => {
    // Prepare
    const clean = new Error('socket hang up');
    const dirty = Object.assign(new Error('refused'), {
      response: { data: { message: `bad ${CLICKUP_TOKEN}` } },
    });

    // Act
    const kept = redactedCause(clean, [CLICKUP_TOKEN]);
    const replaced = redactedCause(dirty, [CLICKUP_TOKEN]) as Error;

    // Assess
    expect(kept).toBe(clean);
    expect(replaced).not.toBe(dirty);
    expect(replaced).toMatchObject({ name: 'Error', message: 'refused' });
    expect(leaked(JSON.stringify(replaced, Object.getOwnPropertyNames(replaced)))).toEqual([]);
  });
});
