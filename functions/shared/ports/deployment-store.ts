import type { Outcome } from '../workflow.js';

export type DeploymentStatus =
  | 'queued'
  | 'checking'
  | 'awaiting-approval'
  | 'deploying'
  | 'verifying'
  | 'monitoring'
  | 'rolling-back'
  | 'deployed'
  | 'blocked'
  | 'held'
  | 'rolled-back'
  | 'rollback-failed';

/** The statuses a deployment ends in: nothing runs for it any more. */
export const FINISHED_STATUSES: readonly DeploymentStatus[] = [
  'deployed',
  'blocked',
  'held',
  'rolled-back',
  'rollback-failed',
];

export interface GateResult {
  name: string;
  passed: boolean;
  /** what was looked at: a link, a value */
  evidence: string;
  /** why it failed, and what to do */
  reason?: string;
  /** the gate could not be evaluated (a dependency failed): why; `passed` is then false */
  error?: string;
  /** a configured override let it pass: the reason given on the task */
  override?: string;
}

/** A migration the release adds, as the migration-safety gate classified it. */
export interface MigrationFinding {
  path: string;
  kind: 'additive' | 'destructive';
  irreversible: boolean;
  reasons: string[];
}

export interface StepRecord {
  index: number;
  name: string;
  kind: string;
  status: 'running' | 'succeeded' | 'failed' | 'rolled-back' | 'kept' | 'rollback-failed';
  startedAt: string;
  finishedAt?: string;
  summary?: string;
  /** what the step needs to undo itself (previous version, backup location, …) */
  undo?: Record<string, string>;
  error?: string;
}

export interface CheckResult {
  name: string;
  kind: string;
  passed: boolean;
  detail: string;
  durationMs: number;
  /** how many times it ran, when it needed more than one try */
  attempts?: number;
}

export interface MetricsSnapshot {
  errorRate?: number;
  p99Ms?: number;
  requests?: number;
  healthFailures?: number;
  alarms: { name: string; state: string }[];
}

export interface MonitorReport {
  at: string;
  elapsedSeconds: number;
  metrics: MetricsSnapshot;
  withinTargets: boolean;
}

export interface ApprovalDecision {
  decision: 'approved' | 'held' | 'expired';
  by: string;
  channel: 'link' | 'comment' | 'cli' | 'auto';
  at: string;
  comment?: string;
  /** approved alone under the break-glass role */
  breakGlass?: boolean;
  /** every approver's vote, in order */
  votes?: ApprovalVote[];
  /** the plan the decision is for */
  planHash?: string;
}

/** One approver's decision on an approval request. */
export interface ApprovalVote {
  /** who: an approver's lower-case email or ClickUp user id, as the approval lists them */
  by: string;
  decision: 'approve' | 'hold';
  at: string;
  channel: 'link' | 'clickup' | 'cli';
  comment?: string;
  /** approved under the break-glass role (alone, with a mandatory reason) */
  breakGlass?: boolean;
  /** the id (nonce) of the signed link used, so a link decides once */
  linkId?: string;
}

/** What a deployment ships, as the gates found it: the release and its pull request (lead time starts at the merge). */
export interface ReleaseInfo {
  /** the task's "Release" field (what the steps deploy as `{{release}}`), when it has one */
  version?: string;
  /** owner/name */
  repository?: string;
  prNumber?: number;
  prUrl?: string;
  prTitle?: string;
  /** when the pull request was merged (ISO 8601) */
  mergedAt?: string;
  /** the merge commit */
  commit?: string;
}

/** A step of the plan as the record keeps it: what it would do and what it replaces. */
export interface PlannedStep {
  name: string;
  kind: string;
  /** what the step does, with the release filled in */
  action: string;
  /** what it replaces, as observed when the plan was made */
  current?: string;
  timeoutSeconds?: number;
}

/** Everything known about one deployment; the console, the CLI and the deployment record read it. */
export interface DeploymentRecord {
  deploymentId: string;
  taskId: string;
  taskName: string;
  service: string;
  environment: string;
  trigger: string;
  requestedBy?: string;
  /** the webhook delivery that started it, when one did */
  sourceEvent?: string;
  status: DeploymentStatus;
  /** the workflow state the deployment is in or last passed */
  stage: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  gates?: GateResult[];
  /** the migrations the release adds, classified (when the migration gate is configured) */
  migrations?: MigrationFinding[];
  /** the release and its pull request, when the gates found one */
  release?: ReleaseInfo;
  plan?: {
    hash: string;
    key: string;
    risk: 'low' | 'medium' | 'high';
    markdown: string;
    /** why the risk is what it is */
    reasons?: string[];
    steps?: PlannedStep[];
  };
  approval?: ApprovalDecision;
  steps: StepRecord[];
  verification?: CheckResult[];
  /** what the checks that compare with "before" read just before the first step (check name → value) */
  baselines?: Record<string, string>;
  monitoring?: {
    startedAt: string;
    endsAt: string;
    /** when the current bake interval is over and the next status report is due */
    intervalEndsAt?: string;
    reports: MonitorReport[];
    breach?: string;
    /** the start of the oldest breaching datapoint of the window that breached, when the source knows it */
    firstBreachAt?: string;
  };
  rollback?: {
    reason: string;
    steps: StepRecord[];
    verification?: CheckResult[];
    error?: string;
    startedAt?: string;
    /** how long after the first breaching datapoint the rollback started (ms), after a trigger breach */
    reactionMs?: number;
  };
  error?: { name: string; message: string };
  /**
   * a report that could not be made (the task's status or comment, the record document): the task may not
   * show how the deployment ended, so the console, the CLI and the record do
   */
  reportError?: { name: string; message: string };
  outcome?: Outcome;
  recordKey?: string;
  /** while queued for the service/environment lock: the place last told on the task (1: next) */
  queuePosition?: number;
  /** a rollback run: the finished deployment whose steps it undoes */
  rollbackOf?: string;
  /** a finished deployment undone later by a requested rollback run: that run's id and when it was asked */
  rolledBackBy?: { deploymentId: string; at: string; by: string };
}

export interface LockResult {
  acquired: boolean;
  /** the deployment holding the lock when not acquired (absent: free, but a waiter ahead goes first) */
  holder?: string;
  /** 0 when acquired, else the place in the queue (1: next) */
  position: number;
}

/**
 * A waiter that has not asked for the lock again for this long has gone (its run crashed or was stopped):
 * it no longer holds its place, so one dead run delays the queue behind it by at most this. Waiting runs
 * ask every `lockRetrySeconds` (30 s by default), far more often, so a slow retry never loses its place.
 */
export const LOCK_WAITER_TTL_MS = 30 * 60_000;

/** Whether a waiter last seen at `seenAt` still holds its place at `now` (ISO times). */
export const waiterIsFresh = (
  seenAt: string | undefined,
  now: string,
  ttlMs: number = LOCK_WAITER_TTL_MS,
): boolean => seenAt !== undefined && seenAt !== '' && Date.parse(seenAt) > Date.parse(now) - ttlMs;

export interface ApprovalRecord {
  approvalId: string;
  deploymentId: string;
  taskId: string;
  /** the workflow's task token: never in a URL, a log line or a comment */
  taskToken: string;
  planHash: string;
  /** who may approve (lower-case email, else ClickUp user id) */
  approvers: string[];
  /** how many different approvers must approve */
  quorum: number;
  /** who may approve alone, with a reason */
  breakGlass: string[];
  /** the votes so far, in the order they were recorded */
  votes: ApprovalVote[];
  /** identities that may not approve: who asked, when self-approval is forbidden */
  requester?: string[];
  requestedBy?: string;
  status: 'pending' | 'approved' | 'held' | 'expired';
  createdAt: string;
  expiresAt: string;
  decidedBy?: string;
  decidedAt?: string;
  comment?: string;
}

/** What a decision writes onto a pending approval. */
export interface ApprovalDecisionUpdate {
  status: 'approved' | 'held' | 'expired';
  decidedBy: string;
  decidedAt: string;
  comment?: string;
}

export interface AuditEntry {
  at: string;
  deploymentId: string;
  action: string;
  actor: string;
  channel: string;
  detail?: string;
}

/** Deployments, locks, approvals, callback tokens and the audit log (DynamoDB on AWS, SQLite locally). */
export interface DeploymentStore {
  /** Creates the record unless one with the same id exists; returns false then (idempotent start). */
  createDeployment(record: DeploymentRecord): Promise<boolean>;
  getDeployment(deploymentId: string): Promise<DeploymentRecord | undefined>;
  /** Shallow-merges `patch` into the record and sets `updatedAt`. @throws NotFoundError */
  updateDeployment(deploymentId: string, patch: Partial<DeploymentRecord>): Promise<DeploymentRecord>;
  listDeployments(filter?: {
    service?: string;
    taskId?: string;
    since?: string;
  }): Promise<DeploymentRecord[]>;

  /**
   * One holder per key; the others queue in arrival order (FIFO): a free lock goes to the first waiter that
   * still asks (`LOCK_WAITER_TTL_MS`), a lease past `expiresAt` may be taken over (a crashed run cannot block
   * forever). Each call of a waiter keeps its place and refreshes it.
   */
  acquireLock(key: string, owner: string, expiresAt: string, now: string): Promise<LockResult>;
  releaseLock(key: string, owner: string): Promise<void>;

  putApproval(approval: ApprovalRecord): Promise<void>;
  getApproval(approvalId: string): Promise<ApprovalRecord | undefined>;
  findApprovalByDeployment(deploymentId: string): Promise<ApprovalRecord | undefined>;
  /** Sets the decision only while the approval is still pending; returns false when it was not. */
  decideApproval(approvalId: string, decision: ApprovalDecisionUpdate): Promise<boolean>;
  /**
   * Records a vote while the approval is pending and `vote.by` has not voted on it yet, atomically: of two
   * concurrent votes by the same identity exactly one is recorded, and votes by different identities are
   * both kept. Returns the approval with the vote, or undefined when it was refused (not pending, already
   * voted, unknown approval).
   */
  addApprovalVote(approvalId: string, vote: ApprovalVote): Promise<ApprovalRecord | undefined>;

  /** The task token of the deployment's current bake interval, so an alarm can fail it at once. */
  setMonitorToken(deploymentId: string, token: string | undefined): Promise<void>;
  getMonitorToken(deploymentId: string): Promise<string | undefined>;

  appendAudit(entry: AuditEntry): Promise<void>;
  listAudit(deploymentId: string): Promise<AuditEntry[]>;
}

/** An approval as stored by an earlier version (no quorum, votes or break-glass) read with the defaults. */
export const withApprovalDefaults = (
  approval: Omit<ApprovalRecord, 'quorum' | 'votes' | 'breakGlass'> & Partial<ApprovalRecord>,
): ApprovalRecord => ({
  ...approval,
  quorum: approval.quorum ?? 1,
  votes: approval.votes ?? [],
  breakGlass: approval.breakGlass ?? [],
});
