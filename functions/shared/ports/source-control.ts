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

/** The code side of a release (GitHub through Octokit on AWS, a fixture repository locally). */
export interface SourceControl {
  /** @throws NotFoundError */
  getPullRequest(repository: string, number: number): Promise<PullRequestInfo>;
  getCommitStatus(repository: string, sha: string): Promise<CommitStatus>;
}
