import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BadRequestError, NotFoundError } from '../../../functions/shared/errors.js';
import { FixtureSourceControl } from '../../../local/adapters/fixture-source-control.js';

const DEMO_FIXTURE = resolve(import.meta.dirname, '../../../examples/demo/fixtures/source-control.json');

describe('FixtureSourceControl', () => {
  it('reads the demo pull request and its green commit', async () => {
    // Prepare
    const source = new FixtureSourceControl(DEMO_FIXTURE);

    // Act
    const pr = await source.getPullRequest('acme/notifications', 42);
    const status = await source.getCommitStatus('acme/notifications', pr.mergeCommitSha ?? '');

    // Assess
    expect(pr).toMatchObject({ number: 42, merged: true, baseBranch: 'main' });
    expect(status.state).toBe('success');
    expect(status.checks.length).toBeGreaterThan(0);
  });

  it('throws NotFoundError for an unknown pull request or repository', async () => {
    // Prepare
    const source = new FixtureSourceControl(DEMO_FIXTURE);

    // Act
    const [unknownNumber, unknownRepo] = await Promise.allSettled([
      source.getPullRequest('acme/notifications', 999),
      source.getPullRequest('acme/other', 42),
    ]);

    // Assess
    expect(unknownNumber).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) });
    expect(unknownRepo).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) });
  });

  it('answers pending with no checks for a commit the fixture does not know', async () => {
    // Prepare
    const source = new FixtureSourceControl(DEMO_FIXTURE);

    // Act
    const status = await source.getCommitStatus('acme/notifications', 'deadbeef');

    // Assess
    expect(status).toEqual({ state: 'pending', checks: [] });
  });

  it('lists the demo pull request files and reads its migration at the merge commit', async () => {
    // Prepare
    const source = new FixtureSourceControl(DEMO_FIXTURE);
    const pr = await source.getPullRequest('acme/notifications', 42);

    // Act
    const files = await source.listPullRequestFiles('acme/notifications', 42);
    const migration = files.find((f) => f.path.endsWith('.sql'));
    const text = await source.getFileText(
      'acme/notifications',
      migration?.path ?? '',
      pr.mergeCommitSha ?? '',
    );

    // Assess
    expect(migration).toEqual({
      path: 'db/migrations/20261127_notification_preferences.sql',
      status: 'added',
    });
    expect(text).toMatch(/^CREATE TABLE notification_preferences/);
  });

  it('answers no files for a pull request without any, and NotFoundError for an unknown one or file', async () => {
    // Prepare
    const source = new FixtureSourceControl(DEMO_FIXTURE);

    // Act
    const [none, unknownPr, unknownFile, otherRef] = await Promise.allSettled([
      source.listPullRequestFiles('acme/notifications', 43),
      source.listPullRequestFiles('acme/notifications', 999),
      source.getFileText('acme/notifications', 'db/migrations/missing.sql', 'main'),
      source.getFileText(
        'acme/notifications',
        'db/migrations/20261127_notification_preferences.sql',
        'feature/user-notifications',
      ),
    ]);

    // Assess
    expect(none).toEqual({ status: 'fulfilled', value: [] });
    expect(unknownPr).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) });
    expect(unknownFile).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) });
    expect(otherRef).toMatchObject({ status: 'rejected', reason: expect.any(NotFoundError) });
  });

  it('lists the files a folder holds at a commit, and none at a commit it does not know', async () => {
    // Prepare
    const source = new FixtureSourceControl(DEMO_FIXTURE);
    const pr = await source.getPullRequest('acme/notifications', 42);

    // Act
    const atMerge = await source.listFolder('acme/notifications', 'db/migrations', pr.mergeCommitSha ?? '');
    const elsewhere = await source.listFolder('acme/notifications', 'db/migrations', 'main');

    // Assess
    expect(atMerge).toEqual({
      paths: ['db/migrations/20261001_users.sql', 'db/migrations/20261127_notification_preferences.sql'],
      complete: true,
    });
    expect(elsewhere).toEqual({ paths: [], complete: true });
  });

  it('tells protected branches from the rest, unknown repositories included', async () => {
    // Prepare
    const source = new FixtureSourceControl(DEMO_FIXTURE);

    // Act
    const answers = await Promise.all([
      source.isBranchProtected('acme/notifications', 'main'),
      source.isBranchProtected('acme/notifications', 'develop'),
      source.isBranchProtected('acme/other', 'main'),
    ]);

    // Assess
    expect(answers).toEqual([true, false, false]);
  });

  it('finds the pull request by CU-<task id> in its branch or title, merged first, then the newest', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-fixture-'));
    const file = join(dir, 'source-control.json');
    const pr = (number: number, title: string, headBranch: string, merged: boolean) => ({
      number,
      url: `https://github.com/acme/x/pull/${number}`,
      title,
      merged,
      headBranch,
    });
    writeFileSync(
      file,
      JSON.stringify({
        repositories: {
          'acme/x': {
            pullRequests: [
              pr(1, 'Old try', 'feature/CU-86abc-first', true),
              pr(2, '[CU-86abc] Second part', 'second', true),
              pr(3, 'Follow-up', 'feature/cu-86abc-follow-up', false),
              pr(4, 'Other task CU-86abcd', 'feature/CU-86abcd', true),
              pr(5, 'Branch only', 'feature/CU-86xyz_notifications', false),
            ],
          },
        },
      }),
    );
    const source = new FixtureSourceControl(file);

    try {
      // Act
      const [abc, xyz, none, unknownRepo] = await Promise.all([
        source.findPullRequestForTask('acme/x', '86ABC'),
        source.findPullRequestForTask('acme/x', '86xyz'),
        source.findPullRequestForTask('acme/x', '86ab'),
        source.findPullRequestForTask('acme/other', '86abc'),
      ]);

      // Assess
      expect(abc?.number).toBe(2);
      expect(xyz?.number).toBe(5);
      expect(none).toBeUndefined();
      expect(unknownRepo).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a fixture whose files or file texts are malformed as BadRequestError', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-fixture-'));
    const file = join(dir, 'bad-files.json');
    writeFileSync(
      file,
      JSON.stringify({
        repositories: {
          'acme/x': { files: { main: [{ path: 'a.sql', status: 'added' }] }, fileTexts: { 'no-ref': 'x' } },
        },
      }),
    );

    try {
      // Act
      const read = new FixtureSourceControl(file).isBranchProtected('acme/x', 'main');

      // Assess
      await expect(read).rejects.toThrow(BadRequestError);
      await expect(read).rejects.toThrow(/files\.main: expected a pull request number/);
      await expect(read).rejects.toThrow(/fileTexts\.no-ref: expected "<ref>:<path>"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing or malformed fixture as BadRequestError naming the file', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-fixture-'));
    const broken = join(dir, 'broken.json');
    writeFileSync(
      broken,
      JSON.stringify({ repositories: { 'acme/x': { pullRequests: [{ number: 'one' }] } } }),
    );

    try {
      // Act
      const [missing, invalid] = await Promise.allSettled([
        new FixtureSourceControl(join(dir, 'missing.json')).getPullRequest('acme/x', 1),
        new FixtureSourceControl(broken).getPullRequest('acme/x', 1),
      ]);

      // Assess
      expect(missing).toMatchObject({ status: 'rejected', reason: expect.any(BadRequestError) });
      expect(String((missing as PromiseRejectedResult).reason)).toMatch(/missing\.json/);
      expect(invalid).toMatchObject({ status: 'rejected', reason: expect.any(BadRequestError) });
      expect(String((invalid as PromiseRejectedResult).reason)).toMatch(/broken\.json is invalid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
