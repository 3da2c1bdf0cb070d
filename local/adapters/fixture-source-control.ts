import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { BadRequestError, NotFoundError } from '../../functions/shared/errors.js';
import type {
  ChangedFile,
  CommitStatus,
  PullRequestInfo,
  SourceControl,
} from '../../functions/shared/ports/source-control.js';

const CheckStateSchema = z.enum(['success', 'pending', 'failure']);

const PullRequestSchema = z.strictObject({
  number: z.number().int().positive(),
  url: z.url(),
  title: z.string(),
  merged: z.boolean(),
  baseBranch: z.string().default('main'),
  headBranch: z.string(),
  mergeCommitSha: z.string().optional(),
  mergedAt: z.string().optional(),
});

const CommitStatusSchema = z.strictObject({
  state: CheckStateSchema,
  checks: z.array(z.strictObject({ name: z.string(), state: CheckStateSchema, url: z.url().optional() })),
});

/** A record whose keys must match `key`; a wrong key is reported by name (zod says only "Invalid key"). */
const keyedBy = <T extends z.ZodType>(key: RegExp, message: string, value: T) =>
  z.record(z.string(), value).check((ctx) => {
    for (const k of Object.keys(ctx.value)) {
      if (!key.test(k)) ctx.issues.push({ code: 'custom', path: [k], message, input: k });
    }
  });

const ChangedFileSchema = z.strictObject({
  path: z.string().min(1),
  status: z.enum(['added', 'modified', 'removed', 'renamed']),
  previousPath: z.string().optional(),
});

/**
 * `{ repositories: { "owner/name": { pullRequests: [...], commits: { <sha>: { state, checks } },
 * files: { <PR number>: [{ path, status, previousPath? }] }, fileTexts: { "<ref>:<path>": text },
 * protectedBranches: [name] } } }`; all but `repositories` optional.
 */
export const SourceControlFixtureSchema = z.strictObject({
  repositories: z.record(
    z.string().regex(/^[\w.-]+\/[\w.-]+$/, { error: 'expected a repository as owner/name' }),
    z.strictObject({
      pullRequests: z.array(PullRequestSchema).default([]),
      commits: z.record(z.string(), CommitStatusSchema).default({}),
      files: keyedBy(/^[1-9]\d*$/, 'expected a pull request number', z.array(ChangedFileSchema)).default({}),
      fileTexts: keyedBy(/^[^:]+:.+$/, 'expected "<ref>:<path>"', z.string()).default({}),
      protectedBranches: z.array(z.string().min(1)).default([]),
    }),
  ),
});
export type SourceControlFixture = z.infer<typeof SourceControlFixtureSchema>;

/** `CU-<id>` as a whole token, as `GitHubSourceControl` matches it. */
const namesTask = (text: string, taskId: string) =>
  new RegExp(`(^|[^A-Za-z0-9])CU-${taskId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`, 'i').test(
    text,
  );

/** The paths among `ref:path` keys that lie directly in `folder` at `ref`, sorted. */
export const filesIn = (keys: string[], folder: string, ref: string): string[] => {
  const prefix = `${folder.replace(/^\/+|\/+$/g, '')}/`;
  return keys
    .filter((key) => key.startsWith(`${ref}:${prefix}`))
    .map((key) => key.slice(ref.length + 1))
    .filter((path) => !path.slice(prefix.length).includes('/'))
    .sort();
};

/**
 * Source control for the local runtime, read from a JSON fixture file (re-read on each call, so an edited
 * fixture applies at once). A commit the fixture does not know has no checks reported: `pending`, never
 * success; a branch not listed in `protectedBranches` is unprotected; a pull request without `files` changes
 * none; a file without a `fileTexts` entry does not exist.
 */
export class FixtureSourceControl implements SourceControl {
  constructor(private readonly file: string) {}

  async getPullRequest(repository: string, number: number): Promise<PullRequestInfo> {
    const repo = (await this.load()).repositories[repository];
    const pr = repo?.pullRequests.find((p) => p.number === number);
    if (!pr) throw new NotFoundError(`pull request ${repository}#${number} is not in ${this.file}`);
    return structuredClone(pr);
  }

  /** `CU-<task id>` in the head branch or title; merged first, then the newest (highest number). */
  async findPullRequestForTask(repository: string, taskId: string): Promise<PullRequestInfo | undefined> {
    const pulls = (await this.load()).repositories[repository]?.pullRequests ?? [];
    const best = pulls
      .filter((p) => namesTask(p.headBranch, taskId) || namesTask(p.title, taskId))
      .sort((a, b) => Number(b.merged) - Number(a.merged) || b.number - a.number)[0];
    return best ? structuredClone(best) : undefined;
  }

  async listPullRequestFiles(repository: string, number: number): Promise<ChangedFile[]> {
    const repo = (await this.load()).repositories[repository];
    if (!repo?.pullRequests.some((p) => p.number === number)) {
      throw new NotFoundError(`pull request ${repository}#${number} is not in ${this.file}`);
    }
    return structuredClone(repo.files[String(number)] ?? []);
  }

  async getFileText(repository: string, path: string, ref: string): Promise<string> {
    const text = (await this.load()).repositories[repository]?.fileTexts[`${ref}:${path}`];
    if (text === undefined)
      throw new NotFoundError(`${path} at ${ref} in ${repository} is not in ${this.file}`);
    return text;
  }

  /** The `fileTexts` entries at `ref` directly in `folder`. */
  async listFolder(
    repository: string,
    folder: string,
    ref: string,
  ): Promise<{ paths: string[]; complete: boolean }> {
    const texts = (await this.load()).repositories[repository]?.fileTexts ?? {};
    return { paths: filesIn(Object.keys(texts), folder, ref), complete: true };
  }

  async isBranchProtected(repository: string, branch: string): Promise<boolean> {
    return (await this.load()).repositories[repository]?.protectedBranches.includes(branch) ?? false;
  }

  async getCommitStatus(repository: string, sha: string): Promise<CommitStatus> {
    const status = (await this.load()).repositories[repository]?.commits[sha];
    return status ? structuredClone(status) : { state: 'pending', checks: [] };
  }

  private async load(): Promise<SourceControlFixture> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      throw new BadRequestError(
        `cannot read the source-control fixture ${this.file} (${(error as NodeJS.ErrnoException).code ?? error})`,
        { cause: error },
      );
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new BadRequestError(
        `the source-control fixture ${this.file} is not JSON: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const parsed = SourceControlFixtureSchema.safeParse(data);
    if (!parsed.success) {
      throw new BadRequestError(
        `the source-control fixture ${this.file} is invalid: ${parsed.error.issues
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ')}`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }
}
