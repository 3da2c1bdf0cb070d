import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../../functions/shared/errors.js';
import type {
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

/** `{ repositories: { "owner/name": { pullRequests: [...], commits: { <sha>: { state, checks } } } } }` */
export const SourceControlFixtureSchema = z.strictObject({
  repositories: z.record(
    z.string().regex(/^[\w.-]+\/[\w.-]+$/, { error: 'expected a repository as owner/name' }),
    z.strictObject({
      pullRequests: z.array(PullRequestSchema).default([]),
      commits: z.record(z.string(), CommitStatusSchema).default({}),
    }),
  ),
});
export type SourceControlFixture = z.infer<typeof SourceControlFixtureSchema>;

/**
 * Source control for the local runtime, read from a JSON fixture file (re-read on each call, so an edited
 * fixture applies at once). A commit the fixture does not know has no checks reported: `pending`, never success.
 */
export class FixtureSourceControl implements SourceControl {
  constructor(private readonly file: string) {}

  async getPullRequest(repository: string, number: number): Promise<PullRequestInfo> {
    const repo = (await this.load()).repositories[repository];
    const pr = repo?.pullRequests.find((p) => p.number === number);
    if (!pr) throw new NotFoundError(`pull request ${repository}#${number} is not in ${this.file}`);
    return structuredClone(pr);
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
