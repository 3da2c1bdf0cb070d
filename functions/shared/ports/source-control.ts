export interface PullRequestInfo {
  number: number;
  url: string;
  title: string;
  merged: boolean;
  baseBranch: string;
  headBranch: string;
  mergeCommitSha?: string;
  mergedAt?: string;
}

export interface CommitStatus {
  /** success only when every check run and status succeeded; pending with nothing reported is not success */
  state: 'success' | 'pending' | 'failure';
  checks: { name: string; state: 'success' | 'pending' | 'failure'; url?: string }[];
}

/** A file a pull request changes. */
export interface ChangedFile {
  path: string;
  status: 'added' | 'modified' | 'removed' | 'renamed';
  /** the path before a rename */
  previousPath?: string;
}

/** The code side of a release (GitHub through Octokit on AWS, a fixture repository locally). */
export interface SourceControl {
  /** @throws NotFoundError */
  getPullRequest(repository: string, number: number): Promise<PullRequestInfo>;
  /**
   * The pull request that names the task by the `CU-<task id>` convention in its head branch or title,
   * merged ones first, newest first; undefined when there is none.
   */
  findPullRequestForTask(repository: string, taskId: string): Promise<PullRequestInfo | undefined>;
  getCommitStatus(repository: string, sha: string): Promise<CommitStatus>;
  /** Every file the pull request changes (all pages). @throws NotFoundError */
  listPullRequestFiles(repository: string, number: number): Promise<ChangedFile[]>;
  /** A file's text at a commit. @throws NotFoundError */
  getFileText(repository: string, path: string, ref: string): Promise<string>;
  /**
   * The paths of the files directly in a folder at a commit, sorted (not recursive; empty when the folder
   * does not exist). `complete` is false when the listing was cut short (GitHub lists at most 1,000 entries).
   */
  listFolder(
    repository: string,
    folder: string,
    ref: string,
  ): Promise<{ paths: string[]; complete: boolean }>;
  /** Whether the branch has branch protection (rules that guard what lands on it). */
  isBranchProtected(repository: string, branch: string): Promise<boolean>;
}
