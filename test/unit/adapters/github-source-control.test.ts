import { GitHubSourceControl } from '../../../functions/shared/adapters/github-source-control.js';

/** A recorded-contract stand-in for the GitHub REST API: answers by method and path, records requests. */
const fakeGitHub = (routes: Record<string, () => Response>) => {
  const calls: { method: string; url: string; auth?: string }[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const method = init?.method ?? 'GET';
    const headers = new Headers(init?.headers);
    calls.push({ method, url: url.pathname, auth: headers.get('authorization') ?? undefined });
    const route = routes[`${method} ${url.pathname}`];
    const response = route ? route() : json({ message: 'Not Found' }, 404);
    // a constructed Response has no url; Octokit's paginator reads it
    Object.defineProperty(response, 'url', { value: url.href });
    return response;
  }) as typeof globalThis.fetch;
  return { fetch, calls };
};

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const PULL = {
  number: 42,
  html_url: 'https://github.com/acme/notifications/pull/42',
  title: 'User notifications',
  merged: true,
  merged_at: '2026-11-27T16:00:00Z',
  merge_commit_sha: '4f2a9c1d0e',
  base: { ref: 'main' },
  head: { ref: 'feature/CU-86abc-notifications' },
};
const SHA = '4f2a9c1d0e';
const runs =
  (...list: { name: string; status: string; conclusion: string | null }[]) =>
  () =>
    json({ total_count: list.length, check_runs: list });
const statuses =
  (...list: { context: string; state: string }[]) =>
  () =>
    json({ state: list.length ? 'success' : 'pending', statuses: list });

describe('GitHubSourceControl', () => {
  it('reads a merged pull request with its merge commit', async () => {
    // Prepare
    const gh = fakeGitHub({ 'GET /repos/acme/notifications/pulls/42': () => json(PULL) });
    const source = new GitHubSourceControl({ token: async () => 'ghp_test', fetch: gh.fetch, waitUnitMs: 1 });

    // Act
    const pr = await source.getPullRequest('acme/notifications', 42);

    // Assess
    expect(pr).toEqual({
      number: 42,
      url: PULL.html_url,
      title: 'User notifications',
      merged: true,
      baseBranch: 'main',
      headBranch: 'feature/CU-86abc-notifications',
      mergeCommitSha: SHA,
      mergedAt: '2026-11-27T16:00:00Z',
    });
    expect(gh.calls[0]?.auth).toBe('token ghp_test');
  });

  it('is green only when check runs and statuses all pass', async () => {
    // Prepare
    const gh = fakeGitHub({
      [`GET /repos/acme/notifications/commits/${SHA}/check-runs`]: runs(
        { name: 'test', status: 'completed', conclusion: 'success' },
        { name: 'lint', status: 'completed', conclusion: 'skipped' },
      ),
      [`GET /repos/acme/notifications/commits/${SHA}/status`]: statuses({
        context: 'ci/jenkins',
        state: 'success',
      }),
    });
    const source = new GitHubSourceControl({ token: 't', fetch: gh.fetch, waitUnitMs: 1 });

    // Act
    const status = await source.getCommitStatus('acme/notifications', SHA);

    // Assess
    expect(status.state).toBe('success');
    expect(status.checks.map((c) => c.name)).toEqual(['test', 'lint', 'ci/jenkins']);
  });

  it('is pending when nothing has reported, and failing when any check failed', async () => {
    // Prepare
    const empty = fakeGitHub({
      [`GET /repos/acme/notifications/commits/${SHA}/check-runs`]: runs(),
      [`GET /repos/acme/notifications/commits/${SHA}/status`]: statuses(),
    });
    const failing = fakeGitHub({
      [`GET /repos/acme/notifications/commits/${SHA}/check-runs`]: runs(
        { name: 'test', status: 'completed', conclusion: 'failure' },
        { name: 'e2e', status: 'in_progress', conclusion: null },
      ),
      [`GET /repos/acme/notifications/commits/${SHA}/status`]: statuses(),
    });

    // Act
    const none = await new GitHubSourceControl({
      token: 't',
      fetch: empty.fetch,
      waitUnitMs: 1,
    }).getCommitStatus('acme/notifications', SHA);
    const bad = await new GitHubSourceControl({
      token: 't',
      fetch: failing.fetch,
      waitUnitMs: 1,
    }).getCommitStatus('acme/notifications', SHA);

    // Assess
    expect(none).toEqual({ state: 'pending', checks: [] });
    expect(bad.state).toBe('failure');
    expect(bad.checks).toEqual([
      { name: 'test', state: 'failure' },
      { name: 'e2e', state: 'pending' },
    ]);
  });

  it('names 404 NotFound, rate limits and 5xx transient, and a refused token final', async () => {
    // Prepare
    const source = (response: () => Response) =>
      new GitHubSourceControl({
        token: 't',
        fetch: fakeGitHub({ 'GET /repos/acme/notifications/pulls/42': response }).fetch,
        waitUnitMs: 1,
      });

    // Act
    const [missing, limited, down, refused] = await Promise.allSettled(
      [
        () => json({ message: 'Not Found' }, 404),
        () => json({ message: 'API rate limit exceeded' }, 403, { 'x-ratelimit-remaining': '0' }),
        () => json({ message: 'oops' }, 502),
        () => json({ message: 'Bad credentials' }, 401),
      ].map((response) => source(response).getPullRequest('acme/notifications', 42)),
    );

    // Assess
    expect(missing).toMatchObject({ reason: { name: 'NotFoundError' } });
    expect(limited).toMatchObject({ reason: { name: 'TransientDependencyError' } });
    expect(down).toMatchObject({ reason: { name: 'TransientDependencyError' } });
    expect(refused).toMatchObject({ reason: { name: 'GitHubRequestError', status: 401 } });
  });

  it('counts check runs GitHub counted but did not list as pending, never green', async () => {
    // Prepare: GitHub lists the check runs of the newest 1000 check suites only
    const gh = fakeGitHub({
      [`GET /repos/acme/notifications/commits/${SHA}/check-runs`]: () =>
        json({ total_count: 3, check_runs: [{ name: 'test', status: 'completed', conclusion: 'success' }] }),
      [`GET /repos/acme/notifications/commits/${SHA}/status`]: statuses(),
    });
    const source = new GitHubSourceControl({ token: 't', fetch: gh.fetch, waitUnitMs: 1 });

    // Act
    const status = await source.getCommitStatus('acme/notifications', SHA);

    // Assess
    expect(status).toEqual({
      state: 'pending',
      checks: [
        { name: 'test', state: 'success' },
        { name: '2 more checks (not listed by GitHub)', state: 'pending' },
      ],
    });
  });

  it('names a 403 that is no rate limit a refusal pointing at the token access, and does not retry it', async () => {
    // Prepare
    const gh = fakeGitHub({
      'GET /repos/acme/notifications/branches/main': () =>
        json({ message: 'Resource not accessible by personal access token' }, 403),
    });
    const source = new GitHubSourceControl({ token: 't', fetch: gh.fetch, waitUnitMs: 1 });

    // Act
    const read = source.isBranchProtected('acme/notifications', 'main');

    // Assess
    await expect(read).rejects.toMatchObject({
      name: 'GitHubRequestError',
      status: 403,
      message: expect.stringMatching(/Resource not accessible.*lacks access/),
    });
    expect(gh.calls).toHaveLength(1);
  });

  it('refuses a malformed repository or sha without calling GitHub', async () => {
    // Prepare
    const gh = fakeGitHub({});
    const source = new GitHubSourceControl({ token: 't', fetch: gh.fetch, waitUnitMs: 1 });

    // Act
    const badRepo = source.getPullRequest('../etc/passwd', 1);
    const badSha = source.getCommitStatus('acme/notifications', 'main; rm -rf /');

    // Assess
    await expect(badRepo).rejects.toMatchObject({ name: 'BadRequestError' });
    await expect(badSha).rejects.toMatchObject({ name: 'BadRequestError' });
    expect(gh.calls).toEqual([]);
  });
});
