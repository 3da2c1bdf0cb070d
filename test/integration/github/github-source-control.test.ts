import {
  GitHubSourceControl,
  type GitHubSourceControlOptions,
  PullRequestFilesIncompleteError,
} from '../../../functions/shared/adapters/github-source-control.js';
import { NotFoundError, TransientDependencyError } from '../../../functions/shared/errors.js';
import { type FakeGitHub, startFakeGitHub } from '../../fixtures/fake-github.js';

const REPO = 'acme/notifications';
const SHA = '4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39';
const PASSED = { status: 'completed', conclusion: 'success' } as const;

describe('GitHubSourceControl against the fake GitHub', () => {
  let github: FakeGitHub;
  /** `waitUnitMs: 1`: every backoff and rate-limit wait the plugins compute lasts milliseconds, not seconds */
  const source = (options: Partial<GitHubSourceControlOptions> = {}) =>
    new GitHubSourceControl({ token: github.token, baseUrl: github.url, waitUnitMs: 1, ...options });

  beforeEach(async () => {
    github = await startFakeGitHub();
    github.addRepository(REPO);
  });
  afterEach(async () => {
    await github.stop();
  });

  describe('CI on a commit', () => {
    it('is green when every check run on both pages and every status passed', async () => {
      // Prepare
      github.addCheckRuns(
        REPO,
        SHA,
        Array.from({ length: 130 }, (_, i) => ({ name: `job ${i}`, ...PASSED })),
      );
      github.addCheckRuns(REPO, SHA, [{ name: 'docs', status: 'completed', conclusion: 'skipped' }]);
      github.addStatuses(REPO, SHA, [
        { context: 'ci/jenkins', state: 'success', target_url: 'https://ci.example.com/1' },
        { context: 'security/snyk', state: 'success' },
      ]);

      // Act
      const status = await source().getCommitStatus(REPO, SHA);

      // Assess
      expect(status.state).toBe('success');
      expect(status.checks).toHaveLength(133);
      expect(status.checks.at(-2)).toEqual({
        name: 'ci/jenkins',
        state: 'success',
        url: 'https://ci.example.com/1',
      });
      const pages = github
        .requestsTo(`/repos/${REPO}/commits/${SHA}/check-runs`)
        .map((r) => r.query.get('page'));
      expect(pages).toEqual([null, '2']);
    });

    it('is pending while a check run on the second page is still running', async () => {
      // Prepare
      github.addCheckRuns(
        REPO,
        SHA,
        Array.from({ length: 100 }, (_, i) => ({ name: `job ${i}`, ...PASSED })),
      );
      github.addCheckRuns(REPO, SHA, [{ name: 'e2e', status: 'in_progress' }]);
      github.addStatuses(REPO, SHA, [{ context: 'ci/jenkins', state: 'success' }]);

      // Act
      const status = await source().getCommitStatus(REPO, SHA);

      // Assess
      expect(status.state).toBe('pending');
      expect(status.checks.filter((c) => c.state !== 'success')).toEqual([
        expect.objectContaining({ name: 'e2e', state: 'pending' }),
      ]);
    });

    it('fails when a commit status failed although every check run passed', async () => {
      // Prepare
      github.addCheckRuns(REPO, SHA, [{ name: 'test', ...PASSED }]);
      github.addStatuses(REPO, SHA, [
        { context: 'ci/jenkins', state: 'success' },
        { context: 'deploy/preview', state: 'error' },
      ]);

      // Act
      const status = await source().getCommitStatus(REPO, SHA);

      // Assess
      expect(status.state).toBe('failure');
      expect(status.checks).toContainEqual({ name: 'deploy/preview', state: 'failure' });
    });

    it('fails when a check run concluded with failure, timed_out or action_required', async () => {
      // Prepare
      github.addCheckRuns(REPO, SHA, [
        { name: 'test', ...PASSED },
        { name: 'lint', status: 'completed', conclusion: 'timed_out' },
        { name: 'deploy', status: 'completed', conclusion: 'action_required' },
      ]);

      // Act
      const status = await source().getCommitStatus(REPO, SHA);

      // Assess
      expect(status.state).toBe('failure');
      expect(status.checks.map((c) => c.state)).toEqual(['success', 'failure', 'failure']);
    });

    it('is pending, not green, when no check run and no status is reported at all', async () => {
      // Prepare: the combined status of a commit without statuses reads "pending" on GitHub too

      // Act
      const status = await source().getCommitStatus(REPO, SHA);

      // Assess
      expect(status).toEqual({ state: 'pending', checks: [] });
    });
  });

  describe('pull requests', () => {
    it('reads a merged pull request with its merge commit', async () => {
      // Prepare
      const number = github.addPullRequest(REPO, {
        title: 'User notifications',
        headBranch: 'feature/CU-86abc-notifications',
        merged: true,
        mergedAt: '2026-11-27T16:42:00Z',
        mergeCommitSha: SHA,
      });

      // Act
      const pr = await source().getPullRequest(REPO, number);

      // Assess
      expect(pr).toEqual({
        number,
        url: `https://github.com/${REPO}/pull/${number}`,
        title: 'User notifications',
        merged: true,
        baseBranch: 'main',
        headBranch: 'feature/CU-86abc-notifications',
        mergeCommitSha: SHA,
        mergedAt: '2026-11-27T16:42:00Z',
      });
      expect(github.requests[0]?.authorization).toBe(`token ${github.token}`);
    });

    it('gives an open pull request no merge commit (GitHub sends the test merge)', async () => {
      // Prepare
      const number = github.addPullRequest(REPO, { title: 'Sounds', headBranch: 'feature/sounds' });

      // Act
      const pr = await source().getPullRequest(REPO, number);

      // Assess
      expect(pr.merged).toBe(false);
      expect(pr).not.toHaveProperty('mergeCommitSha');
    });

    it('finds the pull request by CU-<task id> in its head branch without searching', async () => {
      // Prepare
      github.addPullRequest(REPO, {
        title: 'Other work',
        headBranch: 'feature/CU-86abcd-other',
        merged: true,
      });
      const wanted = github.addPullRequest(REPO, {
        title: 'Notifications',
        headBranch: 'feature/CU-86abc-notifications',
        merged: true,
      });
      github.addPullRequest(REPO, { title: 'Unrelated', headBranch: 'fix/typo' });

      // Act
      const pr = await source().findPullRequestForTask(REPO, '86ABC');

      // Assess
      expect(pr?.number).toBe(wanted);
      expect(pr?.headBranch).toBe('feature/CU-86abc-notifications');
      expect(github.requestsTo('/search/')).toEqual([]);
    });

    it('finds an older pull request by [CU-<task id>] in its title through the search', async () => {
      // Prepare: 320 newer pull requests push it past the 3 pages of newest ones that are read
      const wanted = github.addPullRequest(REPO, {
        title: '[CU-86xyz] Digest emails',
        headBranch: 'digest',
        merged: true,
      });
      for (let i = 0; i < 320; i++)
        github.addPullRequest(REPO, { title: `Change ${i}`, headBranch: `b${i}` });
      github.addPullRequest(REPO, { title: 'Mentions CU-86xyzz only', headBranch: 'other', merged: true });

      // Act
      const pr = await source().findPullRequestForTask(REPO, '86xyz');

      // Assess
      expect(pr).toMatchObject({ number: wanted, title: '[CU-86xyz] Digest emails', merged: true });
      expect(github.requestsTo(`/repos/${REPO}/pulls`).filter((r) => r.path.endsWith('/pulls'))).toHaveLength(
        3,
      );
      const [search] = github.requestsTo('/search/issues');
      expect(search?.query.get('q')).toBe(`repo:${REPO} is:pr "CU-86xyz" in:title`);
    });

    it('prefers the merged pull request over a newer open one', async () => {
      // Prepare
      const merged = github.addPullRequest(REPO, {
        title: 'Notifications',
        headBranch: 'feature/CU-86abc',
        merged: true,
      });
      github.addPullRequest(REPO, { title: '[CU-86abc] Follow-up', headBranch: 'follow-up' });

      // Act
      const pr = await source().findPullRequestForTask(REPO, '86abc');

      // Assess
      expect(pr?.number).toBe(merged);
    });

    it('answers undefined when no pull request names the task', async () => {
      // Prepare
      github.addPullRequest(REPO, { title: 'CU-86abcdef elsewhere', headBranch: 'feature/xCU-86abc' });

      // Act
      const pr = await source().findPullRequestForTask(REPO, '86abc');

      // Assess
      expect(pr).toBeUndefined();
      expect(github.requestsTo('/search/issues')).toHaveLength(1);
    });

    it('fails transiently when the search timed out and found nothing', async () => {
      // Prepare
      github.searchIncomplete = true;

      // Act
      const found = source().findPullRequestForTask(REPO, '86abc');

      // Assess
      await expect(found).rejects.toThrow(TransientDependencyError);
    });

    it('refuses a task id that would change the search query, without calling GitHub', async () => {
      // Prepare
      const adapter = source();

      // Act
      const found = adapter.findPullRequestForTask(REPO, '86abc" repo:other/secret');

      // Assess
      await expect(found).rejects.toMatchObject({ name: 'BadRequestError' });
      expect(github.requests).toEqual([]);
    });
  });

  describe('pull request files', () => {
    it('lists every file across pages, with renames and copies', async () => {
      // Prepare
      const number = github.addPullRequest(REPO, { title: 'Big change', headBranch: 'big', merged: true });
      github.setPullRequestFiles(REPO, number, [
        { filename: 'db/migrations/20261128_add.sql', status: 'added' },
        { filename: 'db/migrations/20261129_moved.sql', status: 'renamed', previous_filename: 'db/old.sql' },
        { filename: 'db/migrations/20261130_copy.sql', status: 'copied' },
        { filename: 'src/gone.ts', status: 'removed' },
        ...Array.from({ length: 246 }, (_, i) => ({ filename: `src/file${i}.ts` })),
      ]);

      // Act
      const files = await source().listPullRequestFiles(REPO, number);

      // Assess
      expect(files).toHaveLength(250);
      expect(files.slice(0, 5)).toEqual([
        { path: 'db/migrations/20261128_add.sql', status: 'added' },
        { path: 'db/migrations/20261129_moved.sql', status: 'renamed', previousPath: 'db/old.sql' },
        { path: 'db/migrations/20261130_copy.sql', status: 'added' },
        { path: 'src/gone.ts', status: 'removed' },
        { path: 'src/file0.ts', status: 'modified' },
      ]);
      expect(github.requestsTo(`/repos/${REPO}/pulls/${number}/files`)).toHaveLength(3);
    });

    it('refuses a pull request with more than 3000 files instead of returning part of them', async () => {
      // Prepare
      const number = github.addPullRequest(REPO, { title: 'Vendored', headBranch: 'vendor', merged: true });
      github.setPullRequestFiles(
        REPO,
        number,
        Array.from({ length: 3001 }, (_, i) => ({ filename: `vendor/f${i}.js`, status: 'added' as const })),
      );

      // Act
      const listed = source().listPullRequestFiles(REPO, number);

      // Assess
      await expect(listed).rejects.toThrow(PullRequestFilesIncompleteError);
      await expect(listed).rejects.toThrow(/changes 3001 files/);
      expect(github.requestsTo(`/repos/${REPO}/pulls/${number}/files`)).toEqual([]);
    });

    it('throws NotFoundError for the files of a pull request that does not exist', async () => {
      // Act
      const listed = source().listPullRequestFiles(REPO, 999);

      // Assess
      await expect(listed).rejects.toThrow(NotFoundError);
    });
  });

  describe('file text', () => {
    it('decodes a file from its base64 content', async () => {
      // Prepare
      const sql = 'ALTER TABLE users ADD COLUMN café text; -- ✓\n'.repeat(40);
      github.putFile(REPO, SHA, 'db/migrations/2026 11/add column.sql', sql);

      // Act
      const text = await source().getFileText(REPO, 'db/migrations/2026 11/add column.sql', SHA);

      // Assess
      expect(text).toBe(sql);
      expect(github.requests).toHaveLength(1);
      expect(github.requests[0]?.path).toBe(
        `/repos/${REPO}/contents/db/migrations/2026%2011/add%20column.sql`,
      );
      expect(github.requests[0]?.query.get('ref')).toBe(SHA);
    });

    it('reads a file over 1 MB through the raw media type', async () => {
      // Prepare
      const big = `-- seed\n${'INSERT INTO t VALUES (1);\n'.repeat(45_000)}`;
      github.putFile(REPO, 'main', 'db/seed.sql', big);

      // Act
      const text = await source().getFileText(REPO, 'db/seed.sql', 'main');

      // Assess
      expect(Buffer.byteLength(big)).toBeGreaterThan(1024 * 1024);
      expect(text).toBe(big);
      expect(github.requests.map((r) => r.accept)).toEqual([
        'application/vnd.github.v3+json',
        'application/vnd.github.raw+json',
      ]);
    });

    it('throws NotFoundError for a missing file and for a directory', async () => {
      // Prepare
      github.putFile(REPO, SHA, 'db/migrations/001.sql', 'SELECT 1;');
      const adapter = source();

      // Act
      const [missing, directory] = await Promise.allSettled([
        adapter.getFileText(REPO, 'db/migrations/002.sql', SHA),
        adapter.getFileText(REPO, 'db/migrations', SHA),
      ]);

      // Assess
      expect(missing).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) });
      expect(directory).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) });
      expect(String((directory as PromiseRejectedResult).reason)).toMatch(/is a directory/);
    });

    it('refuses a path that climbs out of the contents route, without calling GitHub', async () => {
      // Act
      const read = source().getFileText(REPO, '../../../user', SHA);

      // Assess
      await expect(read).rejects.toMatchObject({ name: 'BadRequestError' });
      expect(github.requests).toEqual([]);
    });
  });

  describe('folder listing', () => {
    it('lists the files directly in a folder, sorted, without its subfolders', async () => {
      // Prepare
      github.putFile(REPO, SHA, 'db/migrations/002_b.sql', 'SELECT 2;');
      github.putFile(REPO, SHA, 'db/migrations/001_a.sql', 'SELECT 1;');
      github.putFile(REPO, SHA, 'db/migrations/archive/000.sql', 'SELECT 0;');
      github.putFile(REPO, 'main', 'db/migrations/003_c.sql', 'SELECT 3;');

      // Act
      const listing = await source().listFolder(REPO, 'db/migrations/', SHA);

      // Assess
      expect(listing).toEqual({
        paths: ['db/migrations/001_a.sql', 'db/migrations/002_b.sql'],
        complete: true,
      });
      expect(github.requests[0]?.path).toBe(`/repos/${REPO}/contents/db/migrations`);
      expect(github.requests[0]?.query.get('ref')).toBe(SHA);
    });

    it('answers an empty listing for a folder that does not exist', async () => {
      // Act
      const listing = await source().listFolder(REPO, 'db/migrations', SHA);

      // Assess
      expect(listing).toEqual({ paths: [], complete: true });
    });

    it('says the listing is incomplete when GitHub cuts the folder at 1,000 entries', async () => {
      // Prepare
      for (let i = 0; i < 1001; i++)
        github.putFile(REPO, SHA, `db/migrations/${String(i).padStart(4, '0')}.sql`, 'SELECT 1;');

      // Act
      const listing = await source().listFolder(REPO, 'db/migrations', SHA);

      // Assess
      expect(listing.complete).toBe(false);
      expect(listing.paths).toHaveLength(1000);
    });
  });

  describe('branch protection', () => {
    it('tells a protected branch from an unprotected one, and a missing one from both', async () => {
      // Prepare
      github.addBranch(REPO, 'main', { protected: true });
      github.addBranch(REPO, 'release/2026.11', { protected: false });
      const adapter = source();

      // Act
      const [main, release, missing] = await Promise.allSettled([
        adapter.isBranchProtected(REPO, 'main'),
        adapter.isBranchProtected(REPO, 'release/2026.11'),
        adapter.isBranchProtected(REPO, 'gone'),
      ]);

      // Assess
      expect(main).toEqual({ status: 'fulfilled', value: true });
      expect(release).toEqual({ status: 'fulfilled', value: false });
      expect(missing).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) });
      expect(github.requestsTo(`/repos/${REPO}/branches/release`)[0]?.path).toBe(
        `/repos/${REPO}/branches/release/2026.11`,
      );
    });
  });

  describe('failures', () => {
    it('retries a 5xx answer and then succeeds', async () => {
      // Prepare
      const number = github.addPullRequest(REPO, { title: 'Flaky', headBranch: 'flaky', merged: true });
      github.fail({
        path: `/repos/${REPO}/pulls/${number}`,
        status: 502,
        times: 2,
        body: { message: 'Bad Gateway' },
      });

      // Act
      const pr = await source().getPullRequest(REPO, number);

      // Assess
      expect(pr.number).toBe(number);
      expect(github.requestsTo(`/repos/${REPO}/pulls/${number}`)).toHaveLength(3);
    });

    it('fails transiently once the 5xx retries are used up', async () => {
      // Prepare
      github.fail({
        path: `/repos/${REPO}/pulls/7`,
        status: 500,
        times: 10,
        body: { message: 'Server Error' },
      });

      // Act
      const read = source({ retries: 2 }).getPullRequest(REPO, 7);

      // Assess
      await expect(read).rejects.toThrow(TransientDependencyError);
      await expect(read).rejects.toThrow(/\(500 Server Error\)/);
      expect(github.requestsTo(`/repos/${REPO}/pulls/7`)).toHaveLength(3);
    });

    it('waits out a primary rate limit that resets soon and retries', async () => {
      // Prepare
      const number = github.addPullRequest(REPO, { title: 'Limited', headBranch: 'limited', merged: true });
      github.failRateLimit({ path: `/repos/${REPO}/pulls/${number}`, resetInSeconds: 5 });
      const started = Date.now();

      // Act
      const pr = await source().getPullRequest(REPO, number);

      // Assess
      expect(pr.number).toBe(number);
      expect(github.requestsTo(`/repos/${REPO}/pulls/${number}`)).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('fails transiently at once when the rate limit resets later than it is worth waiting', async () => {
      // Prepare
      github.failRateLimit({ path: `/repos/${REPO}/pulls/8`, resetInSeconds: 3_600 });

      // Act
      const read = source({ maxRateLimitWaitSeconds: 30 }).getPullRequest(REPO, 8);

      // Assess
      await expect(read).rejects.toThrow(TransientDependencyError);
      await expect(read).rejects.toThrow(/API rate limit exceeded/);
      expect(github.requestsTo(`/repos/${REPO}/pulls/8`)).toHaveLength(1);
    });

    it('waits out a secondary rate limit (429 with retry-after) and retries', async () => {
      // Prepare
      github.addBranch(REPO, 'main', { protected: true });
      github.failSecondaryRateLimit({ path: `/repos/${REPO}/branches/main`, retryAfterSeconds: 10 });

      // Act
      const isProtected = await source().isBranchProtected(REPO, 'main');

      // Assess
      expect(isProtected).toBe(true);
      expect(github.requestsTo(`/repos/${REPO}/branches/main`)).toHaveLength(2);
    });

    it('fails transiently when the secondary rate limit lasts past the one retry', async () => {
      // Prepare
      github.addBranch(REPO, 'main', { protected: true });
      github.failSecondaryRateLimit({
        path: `/repos/${REPO}/branches/main`,
        retryAfterSeconds: 1,
        status: 403,
        times: 5,
      });

      // Act
      const read = source().isBranchProtected(REPO, 'main');

      // Assess
      await expect(read).rejects.toThrow(TransientDependencyError);
      expect(github.requestsTo(`/repos/${REPO}/branches/main`)).toHaveLength(2);
    });

    it('names a refused token GitHubRequestError with a clear message that leaves the token out', async () => {
      // Prepare
      const wrongToken = 'ghp_WRONG0123456789abcdefWRONG0123456789';
      const adapter = source({ token: async () => wrongToken });

      // Act
      const read = adapter.getPullRequest(REPO, 1);

      // Assess
      const error = (await read.then(
        () => new Error('unexpectedly answered'),
        (e: unknown) => e,
      )) as Error & { status?: number };
      expect(error).toMatchObject({ name: 'GitHubRequestError', status: 401 });
      expect(error.message).toBe(
        `GitHub refused the request for pull request ${REPO}#1 (401 Bad credentials): the token is invalid, expired or revoked`,
      );
      expect(`${error.stack} ${JSON.stringify(error)}`).not.toContain(wrongToken);
      expect(github.requests).toHaveLength(1);
    });
  });
});
