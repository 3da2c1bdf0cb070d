import { Octokit } from '@octokit/core';
import { z } from 'zod';
import { BadRequestError, DomainError, NotFoundError, TransientDependencyError } from '../errors.js';
import type { CommitStatus, PullRequestInfo, SourceControl } from '../ports/source-control.js';

/** GitHub refused the request (bad token, no access): retrying will not help. */
export class GitHubRequestError extends DomainError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const PullSchema = z
  .object({
    number: z.number(),
    html_url: z.string(),
    title: z.string(),
    merged: z.boolean().nullish(),
    merged_at: z.string().nullish(),
    merge_commit_sha: z.string().nullish(),
    base: z.object({ ref: z.string() }).loose(),
    head: z.object({ ref: z.string() }).loose(),
  })
  .loose();

const CheckRunsSchema = z
  .object({
    total_count: z.number(),
    check_runs: z.array(
      z
        .object({
          name: z.string(),
          status: z.string(),
          conclusion: z.string().nullish(),
          html_url: z.string().nullish(),
        })
        .loose(),
    ),
  })
  .loose();

const CombinedStatusSchema = z
  .object({
    state: z.string(),
    statuses: z.array(
      z.object({ context: z.string(), state: z.string(), target_url: z.string().nullish() }).loose(),
    ),
  })
  .loose();

type State = CommitStatus['checks'][number]['state'];
const PASSING_CONCLUSIONS = new Set(['success', 'neutral', 'skipped']);
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export interface GitHubSourceControlOptions {
  /** a token, or a function reading it (from Secrets Manager) when first needed */
  token: string | (() => Promise<string>);
  baseUrl?: string;
  fetch?: typeof fetch;
}

/**
 * `SourceControl` over the GitHub REST API through `@octokit/core`: the pull request, and CI on a commit as
 * both check runs and the combined commit status. Green means at least one result and every one passing;
 * "pending" with nothing reported is not green.
 */
export class GitHubSourceControl implements SourceControl {
  private octokit?: Octokit;

  constructor(private readonly options: GitHubSourceControlOptions) {}

  async getPullRequest(repository: string, number: number): Promise<PullRequestInfo> {
    const [owner, repo] = this.split(repository);
    const data = PullSchema.parse(
      await this.call(`pull request ${repository}#${number}`, (o) =>
        o.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner, repo, pull_number: number }),
      ),
    );
    return {
      number: data.number,
      url: data.html_url,
      title: data.title,
      merged: data.merged === true,
      baseBranch: data.base.ref,
      headBranch: data.head.ref,
      ...(data.merged && data.merge_commit_sha ? { mergeCommitSha: data.merge_commit_sha } : {}),
      ...(data.merged_at ? { mergedAt: data.merged_at } : {}),
    };
  }

  async getCommitStatus(repository: string, sha: string): Promise<CommitStatus> {
    const [owner, repo] = this.split(repository);
    if (!/^[0-9a-f]{7,40}$/i.test(sha)) throw new BadRequestError(`"${sha}" is not a commit sha`);
    const [runs, combined] = await Promise.all([
      this.call(`check runs of ${sha}`, (o) =>
        o.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
          owner,
          repo,
          ref: sha,
          per_page: 100,
        }),
      ).then((d) => CheckRunsSchema.parse(d)),
      this.call(`status of ${sha}`, (o) =>
        o.request('GET /repos/{owner}/{repo}/commits/{ref}/status', { owner, repo, ref: sha, per_page: 100 }),
      ).then((d) => CombinedStatusSchema.parse(d)),
    ]);
    const checks: CommitStatus['checks'] = [
      ...runs.check_runs.map((r) => ({
        name: r.name,
        state: (r.status !== 'completed'
          ? 'pending'
          : PASSING_CONCLUSIONS.has(r.conclusion ?? '')
            ? 'success'
            : 'failure') as State,
        ...(r.html_url ? { url: r.html_url } : {}),
      })),
      ...combined.statuses.map((s) => ({
        name: s.context,
        state: (s.state === 'success' ? 'success' : s.state === 'pending' ? 'pending' : 'failure') as State,
        ...(s.target_url ? { url: s.target_url } : {}),
      })),
    ];
    if (runs.total_count > runs.check_runs.length) {
      checks.push({
        name: `${runs.total_count - runs.check_runs.length} more check runs (not read)`,
        state: 'pending',
      });
    }
    const state: State =
      checks.length === 0
        ? 'pending'
        : checks.some((c) => c.state === 'failure')
          ? 'failure'
          : checks.some((c) => c.state === 'pending')
            ? 'pending'
            : 'success';
    return { state, checks };
  }

  private split(repository: string): [string, string] {
    if (!REPOSITORY.test(repository))
      throw new BadRequestError(`"${repository}" is not an owner/name repository`);
    const [owner = '', repo = ''] = repository.split('/');
    return [owner, repo];
  }

  private async client(): Promise<Octokit> {
    if (!this.octokit) {
      const token = typeof this.options.token === 'string' ? this.options.token : await this.options.token();
      this.octokit = new Octokit({
        auth: token,
        ...(this.options.baseUrl ? { baseUrl: this.options.baseUrl } : {}),
        ...(this.options.fetch ? { request: { fetch: this.options.fetch } } : {}),
      });
    }
    return this.octokit;
  }

  /** Runs one request; 404 → NotFoundError, 429/5xx/rate limit/network → TransientDependencyError. */
  private async call(what: string, send: (octokit: Octokit) => Promise<{ data: unknown }>): Promise<unknown> {
    const octokit = await this.client();
    try {
      return (await send(octokit)).data;
    } catch (error) {
      const status = (error as { status?: number }).status;
      const headers =
        (error as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {};
      if (status === 404) throw new NotFoundError(`GitHub has no ${what}`, { cause: error });
      const rateLimited = status === 429 || (status === 403 && headers['x-ratelimit-remaining'] === '0');
      if (status === undefined || status >= 500 || rateLimited) {
        throw new TransientDependencyError(
          `GitHub could not answer for ${what} (${status ?? 'network error'})`,
          { cause: error },
        );
      }
      throw new GitHubRequestError(
        `GitHub refused the request for ${what} (${status}); check the token's access`,
        status,
      );
    }
  }
}
