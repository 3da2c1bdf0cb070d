import {
  GitHubSourceControl,
  type GitHubSourceControlOptions,
} from '../../../functions/shared/adapters/github-source-control.js';
import { TransientDependencyError } from '../../../functions/shared/errors.js';
import { type FakeGitHub, startFakeGitHub } from '../../fixtures/fake-github.js';
import {
  answer,
  drop,
  type FaultProxy,
  hang,
  rejection,
  reset,
  startFaultProxy,
} from '../../fixtures/fault-proxy.js';

const REPO = 'acme/notifications';
const SHA = '4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39';

describe('GitHub behind a faulty network', () => {
  let github: FakeGitHub;
  let proxy: FaultProxy;
  /** `waitUnitMs: 2`: the plugins' backoff (1², 2², 3² units) lasts milliseconds, yet is a real wait */
  const source = (options: Partial<GitHubSourceControlOptions> = {}) =>
    new GitHubSourceControl({ token: github.token, baseUrl: proxy.url, waitUnitMs: 2, ...options });

  beforeEach(async () => {
    github = await startFakeGitHub();
    github.addRepository(REPO);
    github.addBranch(REPO, 'main', { protected: true });
    github.addCheckRuns(REPO, SHA, [{ name: 'test', status: 'completed', conclusion: 'success' }]);
    github.addStatuses(REPO, SHA, [{ context: 'ci/jenkins', state: 'success' }]);
    proxy = await startFaultProxy(github.url);
  });
  afterEach(async () => {
    await proxy.stop();
    await github.stop();
  });

  it('reads the CI state after a 502 and a connection reset mid-answer, backing off between attempts', async () => {
    // Prepare
    const path = `/repos/${REPO}/commits/${SHA}/check-runs`;
    proxy.script([answer(502), reset], { path });

    // Act
    const status = await source().getCommitStatus(REPO, SHA);

    // Assess
    expect(status.state).toBe('success');
    expect(proxy.seen({ path }).map((r) => r.kind)).toEqual(['status', 'reset', 'pass']);
    expect(proxy.gaps({ path }).every((gap) => gap > 0)).toBe(true);
  });

  it('never reads a page of check runs cut by a connection reset as an empty, green page', async () => {
    // Prepare
    const path = `/repos/${REPO}/commits/${SHA}/check-runs`;
    github.addCheckRuns(REPO, SHA, [{ name: 'e2e', status: 'completed', conclusion: 'failure' }]);
    proxy.script([reset], { path });

    // Act
    const status = await source().getCommitStatus(REPO, SHA);

    // Assess
    expect(status.state).toBe('failure');
    expect(status.checks.map((c) => `${c.name}: ${c.state}`)).toContain('e2e: failure');
    expect(proxy.seen({ path }).map((r) => r.kind)).toEqual(['reset', 'pass']);
  });

  it('reads branch protection after a request that hung past the timeout', async () => {
    // Prepare
    const path = `/repos/${REPO}/branches/main`;
    proxy.script([hang], { path });

    // Act
    const isProtected = await source({ timeoutMs: 200 }).isBranchProtected(REPO, 'main');

    // Assess
    expect(isProtected).toBe(true);
    expect(proxy.seen({ path }).map((r) => r.kind)).toEqual(['hang', 'pass']);
  });

  it('waits out a 429 with Retry-After from the proxy and asks again', async () => {
    // Prepare
    const path = `/repos/${REPO}/branches/main`;
    proxy.script([answer(429, { 'retry-after': '3' }, '{"message":"secondary rate limit"}')], { path });

    // Act
    const isProtected = await source().isBranchProtected(REPO, 'main');

    // Assess
    expect(isProtected).toBe(true);
    expect(proxy.seen({ path }).map((r) => r.status)).toEqual([429, 200]);
    expect(proxy.gaps({ path })[0]).toBeGreaterThan(0);
  });

  it('gives up on a GitHub that keeps answering 503 after the retries, with TransientDependencyError', async () => {
    // Prepare
    const path = `/repos/${REPO}/branches/main`;
    proxy.always(answer(503, {}, '{"message":"Service Unavailable"}'), { path });

    // Act
    const error = await rejection(source({ retries: 2 }).isBranchProtected(REPO, 'main'));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toBe(
      `GitHub could not answer for branch main of ${REPO} (503 Service Unavailable)`,
    );
    expect(proxy.seen({ path })).toHaveLength(3);
  });

  it('gives up on connections that keep being reset after the retries', async () => {
    // Prepare
    const path = `/repos/${REPO}/commits/${SHA}/check-runs`;
    proxy.always(drop, { path });

    // Act
    const error = await rejection(source({ retries: 2 }).getCommitStatus(REPO, SHA));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toMatch(/^GitHub could not answer for /);
    expect(proxy.count('drop')).toBe(3);
  });

  it('gives up on a GitHub that never answers after the retries, each attempt bounded by the timeout', async () => {
    // Prepare
    const path = `/repos/${REPO}/branches/main`;
    proxy.always(hang, { path });

    // Act
    const error = await rejection(source({ retries: 1, timeoutMs: 100 }).isBranchProtected(REPO, 'main'));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toMatch(/^GitHub could not answer for branch main of acme\/notifications /);
    expect(proxy.count('hang')).toBe(2);
  });
});
