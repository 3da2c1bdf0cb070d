import { checkGates } from '../../../functions/check-gates/check-gates.js';
import { GitHubSourceControl } from '../../../functions/shared/adapters/github-source-control.js';
import { CONFIG } from '../../fixtures/config.js';
import { type FakeGitHub, startFakeGitHub } from '../../fixtures/fake-github.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, T1_STATE } from '../../fixtures/records.js';

const REPO = 'acme/notifications';
const MERGE = '4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39';
const STATE = T1_STATE;
const WITH_MIGRATIONS = CONFIG.replace(
  /(\n\s+tracker: \{ list_id: L1 \})/,
  `$1\n    repository: ${REPO}\n    gates: { migrations: { path: db/migrations, dialect: postgresql } }`,
);

/**
 * The gates as the CheckGates function runs them, with the real GitHub adapter (Octokit) against the fake
 * GitHub built from GitHub's documented responses: the pull request found by `CU-<task id>`, branch
 * protection, check runs and statuses of the merge commit, the migration files and the earlier schema.
 */
describe('the GitHub gates against the fake GitHub', () => {
  let github: FakeGitHub;

  const setup = async (fields: Record<string, string> = {}) => {
    const f = fakePorts(WITH_MIGRATIONS);
    f.ports.sourceControl = new GitHubSourceControl({
      token: github.token,
      baseUrl: github.url,
      waitUnitMs: 1,
    });
    f.tracker.add({
      id: 't1',
      name: 'User Notifications',
      customFields: { 'Security Review': 'Approved', QA: 'Approved', ...fields },
    });
    await f.store.createDeployment(aDeployment({ status: 'checking', stage: 'AcquireLock' }));
    return f;
  };
  const gatesOf = async (f: Awaited<ReturnType<typeof setup>>) =>
    Object.fromEntries(((await f.store.getDeployment('t1-1'))?.gates ?? []).map((g) => [g.name, g]));

  beforeEach(async () => {
    github = await startFakeGitHub();
    github.addRepository(REPO);
    github.addBranch(REPO, 'main', { protected: true });
    const pr = github.addPullRequest(REPO, {
      title: 'User notifications',
      headBranch: 'feature/CU-t1-notifications',
      merged: true,
      mergeCommitSha: MERGE,
    });
    github.setPullRequestFiles(REPO, pr, [
      { filename: 'db/migrations/002_prefs.sql', status: 'added' },
      { filename: 'src/api.ts', status: 'modified' },
    ]);
    github.putFile(
      REPO,
      MERGE,
      'db/migrations/001_users.sql',
      'CREATE TABLE users (id smallint PRIMARY KEY);',
    );
    github.putFile(
      REPO,
      MERGE,
      'db/migrations/002_prefs.sql',
      'ALTER TABLE users ALTER COLUMN id TYPE integer;\nCREATE TABLE prefs (user_id integer, channel text);',
    );
  });
  afterEach(async () => {
    await github.stop();
  });

  it('passes with evidence when the PR found by CU-<task id> is merged, protected, green and additive', async () => {
    // Prepare
    const f = await setup();
    github.addCheckRuns(REPO, MERGE, [{ name: 'test', status: 'completed', conclusion: 'success' }]);
    github.addStatuses(REPO, MERGE, [{ context: 'ci/lint', state: 'success' }]);

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    const gates = await gatesOf(f);
    expect(result).toEqual({ passed: true, failed: [] });
    expect(gates['PR merged']?.evidence).toMatch(/\/pull\/1 merged into main \(protected\)$/);
    expect(gates['CI green']?.evidence).toBe('2 checks passed on 4f2a9c1');
    expect(gates['Migrations safe']?.evidence).toMatch(/^002_prefs\.sql additive/);
    expect(github.requestsTo(`/repos/${REPO}/contents/db/migrations`).map((r) => r.path)).toEqual([
      `/repos/${REPO}/contents/db/migrations`,
      `/repos/${REPO}/contents/db/migrations/001_users.sql`,
      `/repos/${REPO}/contents/db/migrations/002_prefs.sql`,
    ]);
  });

  it('fails CI when the merge commit has no check runs and no statuses ("pending" is not green)', async () => {
    // Prepare
    const f = await setup();

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['CI green']);
    expect((await gatesOf(f))['CI green']).toMatchObject({
      evidence: 'pending on 4f2a9c1 (no checks reported)',
      reason: 'wait for CI to pass on the release commit, or fix the failing checks',
    });
  });

  it('fails the PR gate when the base branch is not protected, naming how to fix it', async () => {
    // Prepare
    github.addBranch(REPO, 'main', { protected: false });
    const f = await setup();
    github.addCheckRuns(REPO, MERGE, [{ name: 'test', status: 'completed', conclusion: 'success' }]);

    // Act
    const result = await checkGates(STATE, f.ports);

    // Assess
    expect(result.failed).toEqual(['PR merged']);
    expect((await gatesOf(f))['PR merged']?.reason).toMatch(/^protect main in GitHub/);
  });

  it('records the gates as not evaluated, never passed, when GitHub keeps failing', async () => {
    // Prepare
    const f = await setup();
    github.fail({ path: /./, status: 502, times: 100 });

    // Act
    const run = checkGates(STATE, f.ports);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'TransientDependencyError' });
    const gates = await gatesOf(f);
    for (const name of ['PR merged', 'CI green', 'Migrations safe']) {
      expect(gates[name]).toMatchObject({ passed: false, evidence: 'could not be evaluated' });
      expect(gates[name]?.error).toMatch(/^TransientDependencyError/);
    }
  });
});
