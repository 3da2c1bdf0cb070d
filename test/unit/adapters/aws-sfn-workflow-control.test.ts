import {
  ExecutionAlreadyExists,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { StepFunctionsWorkflowControl } from '../../../functions/shared/adapters/sfn-workflow-control.js';
import type { DeploymentRequest } from '../../../functions/shared/workflow.js';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:DeployPipeline';
const request: DeploymentRequest = {
  deploymentId: 'abc123-1',
  taskId: 'abc123',
  service: 'user-notifications',
  environment: 'production',
  trigger: 'status',
  requestedAt: '2026-11-28T10:00:00.000Z',
};

describe('StepFunctionsWorkflowControl', () => {
  const sfn = mockClient(SFNClient);
  const workflow = new StepFunctionsWorkflowControl({
    client: new SFNClient({ region: 'eu-west-1' }),
    stateMachineArn: STATE_MACHINE,
  });

  afterEach(() => {
    sfn.reset();
  });

  it('starts an execution named by the deployment id with the request as input', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({
      executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:abc123-1`,
      startDate: new Date(),
    });

    // Act
    const result = await workflow.start(request);

    // Assess
    expect(result).toEqual({
      started: true,
      executionId: 'arn:aws:states:eu-west-1:123456789012:execution:DeployPipeline:abc123-1',
    });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE,
      name: 'abc123-1',
      input: JSON.stringify(request),
    });
  });

  it('answers started: false when an execution with that name exists', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

    // Act
    const result = await workflow.start(request);

    // Assess
    expect(result).toEqual({
      started: false,
      executionId: 'arn:aws:states:eu-west-1:123456789012:execution:DeployPipeline:abc123-1',
    });
  });

  it('passes other start errors on', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));

    // Act
    const start = workflow.start(request);

    // Assess
    await expect(start).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('sends the output of a callback as JSON and a failure with its error name', async () => {
    // Prepare
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});

    // Act
    await workflow.sendTaskSuccess('token-1', { decision: 'approved' });
    await workflow.sendTaskFailure('token-2', 'AlarmBreachedError', 'x'.repeat(40_000));

    // Assess
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-1',
      output: '{"decision":"approved"}',
    });
    const failure = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(failure).toMatchObject({ taskToken: 'token-2', error: 'AlarmBreachedError' });
    expect(failure?.cause).toHaveLength(32_768);
  });

  it('turns an answer for a token nobody waits for into a ConflictError', async () => {
    // Prepare
    sfn.on(SendTaskSuccessCommand).rejects(new TaskDoesNotExist({ message: 'gone', $metadata: {} }));

    // Act
    const answer = workflow.sendTaskSuccess('stale', {});

    // Assess
    await expect(answer).rejects.toMatchObject({ name: 'ConflictError' });
  });
});
