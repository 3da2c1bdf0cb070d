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
