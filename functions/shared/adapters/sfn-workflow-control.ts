import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ConflictError } from '../errors.js';
import type { WorkflowControl } from '../ports/workflow-control.js';
import type { DeploymentRequest } from '../workflow.js';

export interface StepFunctionsWorkflowControlOptions {
  client: SFNClient;
  stateMachineArn: string;
}

/** Step Functions' answers for a token nobody waits for any more. */
const STALE_TOKEN = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

/** Step Functions error `cause` is at most 32,768 characters; `error` at most 256. */
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/**
 * The production `WorkflowControl`: StartExecution named by the deployment id (a second start with the same
 * id starts nothing), SendTaskSuccess / SendTaskFailure for the callback Tasks.
 *
 * @example
 * const workflow = new StepFunctionsWorkflowControl({ client: new SFNClient({}), stateMachineArn });
 */
export class StepFunctionsWorkflowControl implements WorkflowControl {
  constructor(private readonly options: StepFunctionsWorkflowControlOptions) {}

  executionArn(deploymentId: string): string {
    return `${this.options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${deploymentId}`;
  }

  async start(request: DeploymentRequest): Promise<{ started: boolean; executionId: string }> {
    try {
      const { executionArn } = await this.options.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.options.stateMachineArn,
          name: request.deploymentId,
          input: JSON.stringify(request),
        }),
      );
      return { started: true, executionId: executionArn ?? this.executionArn(request.deploymentId) };
    } catch (error) {
      if ((error as Error).name === 'ExecutionAlreadyExists')
        return { started: false, executionId: this.executionArn(request.deploymentId) };
      throw error;
    }
  }

  async sendTaskSuccess(token: string, output: unknown): Promise<void> {
    await this.answer(() =>
      this.options.client.send(
        new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output ?? {}) }),
      ),
    );
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    await this.answer(() =>
      this.options.client.send(
        new SendTaskFailureCommand({ taskToken: token, error: clip(error, 256), cause: clip(cause, 32_768) }),
      ),
    );
  }

  private async answer(send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (STALE_TOKEN.has((error as Error).name)) {
        throw new ConflictError(
          'the workflow is no longer waiting for this answer (it timed out, was decided, or finished)',
          { cause: error },
        );
      }
      throw error;
    }
  }
}
