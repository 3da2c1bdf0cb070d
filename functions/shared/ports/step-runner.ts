import type { Check, Step } from '../config/schema.js';
import type { CheckResult } from './deployment-store.js';

export interface StepContext {
  deploymentId: string;
  service: string;
  environment: string;
  /** values a step may use in its arguments ({{deploymentId}}, {{taskId}}, …); never run through a shell */
  vars: Record<string, string>;
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

/** Runs one kind of verification check. */
export interface CheckRunner {
  run(check: Check): Promise<CheckResult>;
}

export type CheckRunners = Partial<Record<Check['kind'], CheckRunner>>;
