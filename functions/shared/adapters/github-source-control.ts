import { randomUUID } from 'node:crypto';
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import * as z from 'zod';
import {
  BadRequestError,
  DomainError,
  NotFoundError,
  redact,
  redactedCause,
  TransientDependencyError,
} from '../errors.js';
import type { ChangedFile, CommitStatus, PullRequestInfo, SourceControl } from '../ports/source-control.js';

/** GitHub refused the request (bad token, no access): retrying will not help. */
export class GitHubRequestError extends DomainError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * GitHub lists at most 3000 files of a pull request; a bigger one cannot be read whole through the REST
 * API, and a gate that reads the files (migrations) must not decide on part of them.
 */
export class PullRequestFilesIncompleteError extends DomainError {}

const PullSchema = z
  .object({
    number: z.number(),
    html_url: z.string(),
    title: z.string(),
    merged: z.boolean().nullish(),
    merged_at: z.string().nullish(),
    merge_commit_sha: z.string().nullish(),
    changed_files: z.number().nullish(),
    base: z.object({ ref: z.string() }).loose(),
    head: z.object({ ref: z.string() }).loose(),
  })
  .loose();

const PullListItemSchema = z
  .object({
    number: z.number(),
    title: z.string(),
    merged_at: z.string().nullish(),
    head: z.object({ ref: z.string() }).loose(),
  })
  .loose();

const SearchSchema = z
  .object({
    incomplete_results: z.boolean(),
    items: z.array(
      z
        .object({
          number: z.number(),
          title: z.string(),
          pull_request: z.object({ merged_at: z.string().nullish() }).loose().optional(),
        })
        .loose(),
    ),
  })
  .loose();

const CheckRunSchema = z
  .object({
    name: z.string(),
    status: z.string(),
    conclusion: z.string().nullish(),
    html_url: z.string().nullish(),
  })
  .loose();

const CombinedStatusSchema = z
  .object({
    total_count: z.number().optional(),
    statuses: z.array(
      z.object({ context: z.string(), state: z.string(), target_url: z.string().nullish() }).loose(),
    ),
  })
  .loose();

const PullFileSchema = z
  .object({ filename: z.string(), status: z.string(), previous_filename: z.string().nullish() })
  .loose();

const FolderEntrySchema = z.object({ type: z.string(), path: z.string() });

const ContentSchema = z
  .object({
    type: z.string(),
    size: z.number().optional(),
    encoding: z.string().nullish(),
    content: z.string().nullish(),
  })
  .loose();

const BranchSchema = z.object({ name: z.string(), protected: z.boolean() }).loose();

type State = CommitStatus['checks'][number]['state'];
const PASSING_CONCLUSIONS = new Set(['success', 'neutral', 'skipped']);
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
/** ClickUp task ids (and custom ids such as DEV-42); nothing that could add a search qualifier */
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** GitHub's cap on `GET /pulls/{n}/files` (documented: "Responses include a maximum of 3000 files") */
const MAX_PULL_FILES = 3000;
/** the contents API's cap on a directory listing (documented: "an upper limit of 1,000 files for a directory") */
const MAX_FOLDER_ENTRIES = 1000;
/** how many pages of the newest pull requests `findPullRequestForTask` reads before it searches */
const PULL_SCAN_PAGES = 3;
/** a request that hit a rate limit is retried once, if the wait is short enough */
const RATE_LIMIT_RETRIES = 1;
/** GitHub answers 403/429 for rate limits; the throttling plugin handles those, not the retry plugin */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

export interface GitHubSourceControlOptions {
  /** a token, or a function reading it (from Secrets Manager) when first needed */
  token: string | (() => Promise<string>);
  baseUrl?: string;
  fetch?: typeof fetch;
  /** retries of a 5xx answer or a network failure before giving up (default 3; waits 1 s, 4 s, 9 s) */
  retries?: number;
  /**
   * The longest rate-limit wait (`x-ratelimit-reset`, `retry-after`) worth spending inside one call, in
   * seconds (default 30). A longer one fails at once with TransientDependencyError: the workflow's Retry
   * waits instead of the Lambda.
   */
  maxRateLimitWaitSeconds?: number;
  /** milliseconds per second of every wait the plugins compute: 1000; tests pass 1 so nothing sleeps */
  waitUnitMs?: number;
  /**
   * per request, ms (default 10 s): a GitHub that never answers is a failure the retry plugin tries again,
   * not a call that hangs until the Lambda's own timeout
   */
  timeoutMs?: number;
}

const GitHub = Octokit.plugin(paginateRest, retry, throttling);
type GitHubClient = InstanceType<typeof GitHub>;

/** `CU-<id>` as a whole token: not preceded or followed by a letter or digit (`CU-86abc` ≠ `CU-86abcd`). */
const namesTask = (text: string, taskId: string) =>
  new RegExp(`(^|[^A-Za-z0-9])CU-${taskId}(?![A-Za-z0-9])`, 'i').test(text);

/** Each segment URL-encoded, the slashes kept (an encoded `%2F` is refused for fine-grained tokens). */
const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

const checkPath = (path: string, what: string) => {
  const segments = path.split('/');
  if (!path || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new BadRequestError(`"${path}" is not a ${what}`);
  }
};

const fileStatus = (status: string): ChangedFile['status'] => {
  switch (status) {
    case 'added':
    case 'removed':
    case 'renamed':
      return status;
    // a copy is a new file at its path
    case 'copied':
      return 'added';
    // `modified`, `changed` (mode only), `unchanged`, and anything GitHub adds later: read as modified
    default:
      return 'modified';
  }
};

/**
 * `SourceControl` over the GitHub REST API through `@octokit/core` with the retry, throttling and
 * pagination plugins: pull requests (also found by the `CU-<task id>` convention), their files, file text
 * at a commit, branch protection, and CI on a commit as both check runs and the combined commit status
 * (every page of each). Green means at least one result and every one passing; "pending" with nothing
 * reported is not green. 5xx answers are retried with backoff and short rate-limit waits are waited out;
 * past that a call fails with TransientDependencyError, a 404 with NotFoundError, any other refusal with
 * GitHubRequestError.
 */
export class GitHubSourceControl implements SourceControl {
  private octokit?: GitHubClient;
  /** the token the client was made with, kept to redact it from what GitHub answers */
  private token?: string;
  /** the throttling plugin paces searches (2 s apart) per id: one id per adapter, i.e. per Lambda container */
  private readonly throttleId = randomUUID();

  constructor(private readonly options: GitHubSourceControlOptions) {}

  async getPullRequest(repository: string, number: number): Promise<PullRequestInfo> {
    const data = await this.readPull(repository, number);
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

  /**
   * Reads the newest pull requests (3 pages of 100, by creation) for `CU-<id>` in the head branch or title.
   * A merged match there is the newest merged one anywhere. Otherwise the search API looks further back by
   * title (it cannot match inside branch names, and allows 30 searches a minute), and the best of both is
   * read in full: merged first, then the newest.
   */
  async findPullRequestForTask(repository: string, taskId: string): Promise<PullRequestInfo | undefined> {
    const [owner, repo] = this.split(repository);
    if (!TASK_ID.test(taskId)) throw new BadRequestError(`"${taskId}" is not a task id`);
    const candidates = new Map<number, { number: number; merged: boolean }>();
    const octokit = await this.client();
    let pages = 0;
    await this.call(`pull requests of ${repository}`, async () => {
      for await (const page of octokit.paginate.iterator('GET /repos/{owner}/{repo}/pulls', {
        owner,
        repo,
        state: 'all',
        sort: 'created',
        direction: 'desc',
        per_page: 100,
      })) {
        for (const pull of z.array(PullListItemSchema).parse(page.data)) {
          if (namesTask(pull.head.ref, taskId) || namesTask(pull.title, taskId)) {
            candidates.set(pull.number, { number: pull.number, merged: Boolean(pull.merged_at) });
          }
        }
        if (++pages >= PULL_SCAN_PAGES) break;
      }
    });
    if (![...candidates.values()].some((c) => c.merged)) {
      const found = SearchSchema.parse(
        await this.call(`a search of ${repository} for CU-${taskId}`, () =>
          octokit
            .request('GET /search/issues', {
              q: `repo:${owner}/${repo} is:pr "CU-${taskId}" in:title`,
              sort: 'created',
              order: 'desc',
              per_page: 100,
            })
            .then((r) => r.data),
        ),
      );
      for (const item of found.items) {
        if (item.pull_request && namesTask(item.title, taskId)) {
          candidates.set(item.number, { number: item.number, merged: Boolean(item.pull_request.merged_at) });
        }
      }
      // a timed-out search may have missed the pull request: not finding one is not an answer then
      if (found.incomplete_results && candidates.size === 0) {
        throw new TransientDependencyError(
          `GitHub's search for CU-${taskId} in ${repository} timed out with incomplete results`,
        );
      }
    }
    const best = [...candidates.values()].sort(
      (a, b) => Number(b.merged) - Number(a.merged) || b.number - a.number,
    )[0];
    return best ? this.getPullRequest(repository, best.number) : undefined;
  }

  async getCommitStatus(repository: string, sha: string): Promise<CommitStatus> {
    const [owner, repo] = this.split(repository);
    if (!/^[0-9a-f]{7,40}$/i.test(sha)) throw new BadRequestError(`"${sha}" is not a commit sha`);
    const params = { owner, repo, ref: sha, per_page: 100 };
    const octokit = await this.client();
    const [runs, statuses] = await Promise.all([
      this.call(`check runs of ${sha}`, async () => {
        const all: z.infer<typeof CheckRunSchema>[] = [];
        let total = 0;
        for await (const page of octokit.paginate.iterator(
          'GET /repos/{owner}/{repo}/commits/{ref}/check-runs',
          params,
        )) {
          total = Math.max(total, (page.data as { total_count?: number }).total_count ?? 0);
          all.push(...z.array(CheckRunSchema).parse(page.data));
        }
        return { all, total };
      }),
      this.call(`status of ${sha}`, async () => {
        const all: z.infer<typeof CombinedStatusSchema>['statuses'] = [];
        let total = 0;
        for await (const page of octokit.paginate.iterator(
          'GET /repos/{owner}/{repo}/commits/{ref}/status',
          params,
        )) {
          const combined = CombinedStatusSchema.parse(page.data);
          total = Math.max(total, combined.total_count ?? 0);
          all.push(...combined.statuses);
        }
        return { all, total };
      }),
    ]);
    const checks: CommitStatus['checks'] = [
      ...runs.all.map((r) => ({
        name: r.name,
        state: (r.status !== 'completed'
          ? 'pending'
          : PASSING_CONCLUSIONS.has(r.conclusion ?? '')
            ? 'success'
            : 'failure') as State,
        ...(r.html_url ? { url: r.html_url } : {}),
      })),
      ...statuses.all.map((s) => ({
        name: s.context,
        state: (s.state === 'success' ? 'success' : s.state === 'pending' ? 'pending' : 'failure') as State,
        ...(s.target_url ? { url: s.target_url } : {}),
      })),
    ];
    // GitHub lists check runs of the newest 1000 check suites only: what it counts but did not list is not green
    const unread = runs.total - runs.all.length + (statuses.total - statuses.all.length);
    if (unread > 0) checks.push({ name: `${unread} more checks (not listed by GitHub)`, state: 'pending' });
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

  /** @throws PullRequestFilesIncompleteError when the pull request changes more files than GitHub lists */
  async listPullRequestFiles(repository: string, number: number): Promise<ChangedFile[]> {
    const [owner, repo] = this.split(repository);
    const pull = await this.readPull(repository, number);
    const expected = pull.changed_files ?? 0;
    const incomplete = (listed: number) =>
      new PullRequestFilesIncompleteError(
        `${repository}#${number} changes ${expected} files and GitHub lists ${listed === -1 ? `at most ${MAX_PULL_FILES}` : listed} of them: the list would be incomplete, so the files are not judged (split the pull request)`,
      );
    if (expected > MAX_PULL_FILES) throw incomplete(-1);
    const octokit = await this.client();
    const files = await this.call(`files of ${repository}#${number}`, () =>
      octokit.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', {
        owner,
        repo,
        pull_number: number,
        per_page: 100,
      }),
    );
    const parsed = z.array(PullFileSchema).parse(files);
    // fewer than counted: GitHub's cap, or a push between the two reads; either way not the whole list
    if (parsed.length < expected) throw incomplete(parsed.length);
    return parsed.map((f) => ({
      path: f.filename,
      status: fileStatus(f.status),
      ...(f.status === 'renamed' && f.previous_filename ? { previousPath: f.previous_filename } : {}),
    }));
  }

  /** Base64 content for files up to 1 MB; bigger ones (up to GitHub's 100 MB) through the raw media type. */
  async getFileText(repository: string, path: string, ref: string): Promise<string> {
    const [owner, repo] = this.split(repository);
    checkPath(path, 'file path');
    if (!ref || ref.length > 255) throw new BadRequestError(`"${ref}" is not a git ref`);
    const route = `GET /repos/{owner}/{repo}/contents/${encodePath(path)}`;
    const what = `file ${path} at ${ref} in ${repository}`;
    const octokit = await this.client();
    const data: unknown = await this.call(what, () =>
      octokit.request(route, { owner, repo, ref }).then((r) => r.data),
    );
    if (Array.isArray(data)) throw new NotFoundError(`${path} at ${ref} in ${repository} is a directory`);
    const content = ContentSchema.parse(data);
    if (content.type !== 'file') {
      throw new NotFoundError(`${path} at ${ref} in ${repository} is a ${content.type}, not a file`);
    }
    if (content.encoding === 'base64' && (content.content || !content.size)) {
      return Buffer.from(content.content ?? '', 'base64').toString('utf8');
    }
    const raw: unknown = await this.call(what, () =>
      octokit
        .request(route, { owner, repo, ref, headers: { accept: 'application/vnd.github.raw+json' } })
        .then((r) => r.data),
    );
    if (typeof raw === 'string') return raw;
    if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('utf8');
    if (ArrayBuffer.isView(raw))
      return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
    throw new TransientDependencyError(`GitHub sent no raw text for ${what}`);
  }

  /** The contents API on a folder: its files (not subfolders), sorted; a missing folder has none. */
  async listFolder(
    repository: string,
    folder: string,
    ref: string,
  ): Promise<{ paths: string[]; complete: boolean }> {
    const [owner, repo] = this.split(repository);
    const path = folder.replace(/^\/+|\/+$/g, '');
    checkPath(path, 'folder path');
    if (!ref || ref.length > 255) throw new BadRequestError(`"${ref}" is not a git ref`);
    const octokit = await this.client();
    let data: unknown;
    try {
      data = await this.call(`folder ${path} at ${ref} in ${repository}`, () =>
        octokit
          .request(`GET /repos/{owner}/{repo}/contents/${encodePath(path)}`, { owner, repo, ref })
          .then((r) => r.data),
      );
    } catch (error) {
      if (error instanceof NotFoundError) return { paths: [], complete: true };
      throw error;
    }
    if (!Array.isArray(data)) return { paths: [], complete: true };
    const entries = z.array(FolderEntrySchema).parse(data);
    return {
      paths: entries
        .filter((e) => e.type === 'file')
        .map((e) => e.path)
        .sort(),
      complete: entries.length < MAX_FOLDER_ENTRIES,
    };
  }

  /** `protected` of `GET /branches/{branch}`: true for classic branch protection (and rulesets). @throws NotFoundError */
  async isBranchProtected(repository: string, branch: string): Promise<boolean> {
    const [owner, repo] = this.split(repository);
    checkPath(branch, 'branch name');
    const octokit = await this.client();
    const data: unknown = await this.call(`branch ${branch} of ${repository}`, () =>
      octokit
        .request(`GET /repos/{owner}/{repo}/branches/${encodePath(branch)}`, { owner, repo })
        .then((r) => r.data),
    );
    return BranchSchema.parse(data).protected;
  }

  private async readPull(repository: string, number: number): Promise<z.infer<typeof PullSchema>> {
    const [owner, repo] = this.split(repository);
    if (!Number.isInteger(number) || number <= 0) {
      throw new BadRequestError(`${number} is not a pull request number`);
    }
    const octokit = await this.client();
    return PullSchema.parse(
      await this.call(`pull request ${repository}#${number}`, () =>
        octokit
          .request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner, repo, pull_number: number })
          .then((r) => r.data),
      ),
    );
  }

  private split(repository: string): [string, string] {
    if (!REPOSITORY.test(repository))
      throw new BadRequestError(`"${repository}" is not an owner/name repository`);
    const [owner = '', repo = ''] = repository.split('/');
    return [owner, repo];
  }

  private async client(): Promise<GitHubClient> {
    if (!this.octokit) {
      const token = typeof this.options.token === 'string' ? this.options.token : await this.options.token();
      this.token = token;
      const unit = this.options.waitUnitMs ?? 1000;
      const maxWait = this.options.maxRateLimitWaitSeconds ?? 30;
      // true = wait `retryAfter` seconds and send again; false = fail now (TransientDependencyError)
      const onLimit = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
        retryCount < RATE_LIMIT_RETRIES && retryAfter <= maxWait;
      this.octokit = new GitHub({
        auth: token,
        userAgent: 'devops-agent',
        ...(this.options.baseUrl ? { baseUrl: this.options.baseUrl } : {}),
        request: { fetch: this.timedFetch() },
        retry: { retries: this.options.retries ?? 3, retryAfterBaseValue: unit, doNotRetry: DO_NOT_RETRY },
        throttle: {
          id: this.throttleId,
          retryAfterBaseValue: unit,
          onRateLimit: onLimit,
          onSecondaryRateLimit: onLimit,
        },
      });
    }
    return this.octokit;
  }

  /**
   * The fetch Octokit sends with: bounded by `timeoutMs`, and the answer's body read whole before Octokit
   * sees it. Octokit swallows an error while reading a body (it returns the body as `""`), so a connection
   * reset in the middle of a page of check runs read as an empty page and CI looked green; read here, the
   * reset is a network failure the retry plugin tries again.
   */
  private timedFetch(): typeof fetch {
    const send = this.options.fetch ?? globalThis.fetch;
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    return async (input, init) => {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      const response = await send(input, { ...init, signal });
      const body = await response.arrayBuffer();
      const whole = new Response(body.byteLength === 0 ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      Object.defineProperty(whole, 'url', { value: response.url });
      return whole;
    };
  }

  /**
   * Runs one request (or one paginated read) after the plugins' retries: 404 → NotFoundError; 429, 5xx,
   * rate limits and network failures → TransientDependencyError; any other refusal → GitHubRequestError,
   * with GitHub's message (never the token).
   */
  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof DomainError || error instanceof z.ZodError) throw error;
      const status = (error as { status?: number }).status;
      const response = (
        error as {
          response?: { headers?: Record<string, string | undefined>; data?: unknown };
        }
      ).response;
      const headers = response?.headers ?? {};
      const message = (response?.data as { message?: unknown } | undefined)?.message;
      const secrets = this.token ? [this.token] : [];
      const said = typeof message === 'string' && message ? ` ${redact(message, secrets).slice(0, 200)}` : '';
      const cause = redactedCause(error, secrets);
      if (status === 404) throw new NotFoundError(`GitHub has no ${what}`, { cause });
      const rateLimited =
        status === 429 ||
        (status === 403 &&
          (headers['x-ratelimit-remaining'] === '0' ||
            headers['retry-after'] !== undefined ||
            /rate limit/i.test(said)));
      if (status === undefined || status >= 500 || rateLimited) {
        throw new TransientDependencyError(
          `GitHub could not answer for ${what} (${status ?? 'network error'}${said})`,
          { cause },
        );
      }
      const hint =
        status === 401
          ? 'the token is invalid, expired or revoked'
          : status === 403
            ? 'the token lacks access to the repository (a fine-grained token needs Contents, Pull requests, Checks, Commit statuses: read)'
            : 'GitHub refused the request';
      throw new GitHubRequestError(
        `GitHub refused the request for ${what} (${status}${said}): ${hint}`,
        status,
      );
    }
  }
}
