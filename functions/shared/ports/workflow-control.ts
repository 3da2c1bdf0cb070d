import type { DeploymentRequest } from '../workflow.js';

/** Starts deployments and answers callback tasks (Step Functions on AWS, the local runner locally). */
export interface WorkflowControl {
  /** Starts an execution named `request.deploymentId`; a second start with the same id starts nothing. */
  start(request: DeploymentRequest): Promise<{ started: boolean; executionId: string }>;
  sendTaskSuccess(token: string, output: unknown): Promise<void>;
  /** `error` is the error name the definition's Catch matches. */
  sendTaskFailure(token: string, error: string, cause: string): Promise<void>;
}
