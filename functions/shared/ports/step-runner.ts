import type { Check, Step } from '../config/schema.js';
import type { CheckResult, MigrationFinding } from './deployment-store.js';

export interface StepContext {
  deploymentId: string;
  service: string;
  environment: string;
  /** values a step may use in its arguments ({{deploymentId}}, {{taskId}}, …); never run through a shell */
  vars: Record<string, string>;
  /**
   * The service's `rollback.keep_database`, for a migration's undo; undefined when the caller applied the
   * policy itself (the rollback core keeps migrations before it asks a runner to undo one).
   */
  keepDatabase?: boolean;
  /** what the migration gate found in the release (irreversible ones are never undone automatically) */
  migrations?: MigrationFinding[];
  /**
   * Keeps what the step's undo needs before the runner changes anything: a process killed mid-change (a
   * crash of the local runtime) then leaves a step that can still be undone. A runner that records an undo
   * calls it before its first change; `run` still returns the undo as usual.
   */
  saveUndo?: (undo: Record<string, string>) => Promise<void>;
}

export interface StepOutcome {
  summary: string;
  /** what `undo` needs later; stored with the step record */
  undo?: Record<string, string>;
}

/** Runs and undoes one kind of deployment step. */
export interface StepRunner {
  run(step: Step, context: StepContext): Promise<StepOutcome>;
  /** Restores what `run` changed; `kept` when the policy says to leave it (an additive migration). */
  undo(
    step: Step,
    undo: Record<string, string> | undefined,
    context: StepContext,
  ): Promise<{ summary: string; kept?: boolean }>;
  /**
   * What the step would replace, for the plan's "old → new" (the running image, the recorded state);
   * undefined when the runner cannot tell. Only reads.
   */
  current?(step: Step, context: StepContext): Promise<string | undefined>;
}

export type StepRunners = Partial<Record<Step['kind'], StepRunner>>;

export interface CheckRunOptions {
  /** what is left of `verification_timeout` (ms): one attempt never runs longer */
  timeoutMs?: number;
  /** what the same check read before the deploy (see `CheckRunner.baseline`) */
  baseline?: string;
  /** the deployment's `{{vars}}` (a rollout check's image names the release) */
  vars?: Record<string, string>;
}

/** What a check read before the deploy, for an expectation relative to it (`expect_not_less_than_before`). */
export interface CheckBaseline {
  name: string;
  /** undefined when it could not be read; `detail` says why */
  value?: string;
  detail: string;
}

/**
 * Runs one kind of verification check. A failing check is an answer (`passed: false` with a readable
 * detail naming expected and actual), never a throw; only a check of another kind throws.
 */
export interface CheckRunner {
  run(check: Check, options?: CheckRunOptions): Promise<CheckResult>;
  /**
   * Reads the value a check compares with later, before the steps change anything; undefined when the
   * check needs none. Only reads.
   */
  baseline?(check: Check, options?: Pick<CheckRunOptions, 'timeoutMs'>): Promise<CheckBaseline | undefined>;
}

/**
 * Reads a credential a check names (`auth.secret`, `url_secret`): an environment variable locally, a
 * Secrets Manager secret on AWS. Undefined when there is no such value.
 */
export type SecretLookup = (name: string) => Promise<string | undefined>;

export type CheckRunners = Partial<Record<Check['kind'], CheckRunner>>;
