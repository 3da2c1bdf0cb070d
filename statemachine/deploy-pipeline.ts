import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  IntegrationPattern,
  JsonPath,
  type LogOptions,
  Pass,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ErrorNames } from '../functions/shared/errors.js';
import type { TaskStateName } from '../functions/shared/workflow.js';

export const STATE_MACHINE_LOGICAL_PREFIX = 'DeployPipeline';

/** Seconds each request/response Task may take; the Lambda timeout is set from the same table. */
export const TASK_TIMEOUT_SECONDS: Record<TaskStateName, number> = {
  Acknowledge: 30,
  AcquireLock: 30,
  CheckGates: 120,
  ReportBlocked: 30,
  CreatePlan: 60,
  // Backstops only: the approval expiry and the bake intervals are enforced by the sweep (monitor-sweep),
  // which answers the task token, so they follow the configuration without changing the definition.
  RequestApproval: 7 * 86_400 + 3600,
  ReportHeld: 30,
  ExecuteStep: 900,
  Verify: 900,
  StartMonitoring: 30,
  Monitor: 3600,
  ReportStatus: 60,
  Finalize: 60,
  Rollback: 900,
  VerifyRollback: 900,
  ReportFailure: 30,
  EscalateRollbackFailure: 30,
  ReleaseLock: 30,
};

export interface DeployPipelineProps {
  /** One function per Task state, keyed by state name. */
  functions: Record<TaskStateName, IFunction>;
  logs?: LogOptions;
  /** Seconds between lock attempts while another deployment of the service holds the lock. */
  lockRetrySeconds?: number;
}

/**
 * The deployment workflow of DESIGN §3, written once. Lambda and local runtimes both execute the
 * definition this synthesizes; the state names are the contract with `local/registry.ts`.
 */
export class DeployPipeline extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: DeployPipelineProps) {
    super(scope, id);
    const fn = props.functions;

    const task = (name: TaskStateName, resultPath: string | undefined) => {
      const t = new LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: fn[name],
        payloadResponseOnly: true,
        resultPath: resultPath ?? JsonPath.DISCARD,
        taskTimeout: Timeout.duration(Duration.seconds(TASK_TIMEOUT_SECONDS[name])),
        retryOnServiceExceptions: true,
      });
      t.addRetry({
        errors: [ErrorNames.transient],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 5,
        maxDelay: Duration.seconds(60),
      });
      return t;
    };

    const callback = (name: TaskStateName, resultPath: string | undefined) =>
      new LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: fn[name],
        integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: TaskInput.fromObject({ token: JsonPath.taskToken, state: JsonPath.entirePayload }),
        resultPath: resultPath ?? JsonPath.DISCARD,
        taskTimeout: Timeout.duration(Duration.seconds(TASK_TIMEOUT_SECONDS[name])),
      });

    // Terminal states.
    const deployed = new Succeed(this, 'Deployed', { stateName: 'Deployed' });
    const blocked = new Fail(this, 'Blocked', {
      stateName: 'Blocked',
      error: 'GatesNotMet',
      cause: 'Quality gates not met; nothing was deployed',
    });
    const held = new Fail(this, 'Held', {
      stateName: 'Held',
      error: 'DeploymentHeld',
      cause: 'Approval was held or expired; nothing was deployed',
    });
    const rolledBack = new Fail(this, 'RolledBack', {
      stateName: 'RolledBack',
      error: 'DeploymentRolledBack',
      cause: 'The deployment failed and was rolled back',
    });
    const failed = new Fail(this, 'Failed', {
      stateName: 'Failed',
      error: 'DeploymentFailed',
      cause:
        'The deployment did not complete and was not rolled back (rollback disabled, or its report failed); see the deployment record',
    });
    const rollbackFailed = new Fail(this, 'RollbackFailed', {
      stateName: 'RollbackFailed',
      error: 'RollbackFailed',
      cause: 'The rollback failed; the environment needs a human (the lock is kept)',
    });

    // A report that failed leaves no outcome: that must end as Failed, never as a runtime error or Deployed.
    // Written as Not(IsPresent) because aws-local-stepfunctions 3.0.0 never matches `IsPresent: false`.
    // A requested rollback run that rolled back did what it was asked: it ends well, not as a failure.
    const rolledBackOnRequest = new Succeed(this, 'RolledBackOnRequest', {
      stateName: 'RolledBackOnRequest',
    });
    const routeOutcome = new Choice(this, 'RouteOutcome', { stateName: 'RouteOutcome' })
      .when(Condition.not(Condition.isPresent('$.outcome')), failed)
      .when(
        Condition.and(
          Condition.isPresent('$.rollbackOf'),
          Condition.stringEquals('$.outcome', 'rolled-back'),
        ),
        rolledBackOnRequest,
      )
      .when(Condition.stringEquals('$.outcome', 'deployed'), deployed)
      .when(Condition.stringEquals('$.outcome', 'blocked'), blocked)
      .when(Condition.stringEquals('$.outcome', 'held'), held)
      .when(Condition.stringEquals('$.outcome', 'rolled-back'), rolledBack)
      .otherwise(failed);
    const releaseLock = task('ReleaseLock', undefined).next(routeOutcome);

    // Rollback branch.
    const escalate = task('EscalateRollbackFailure', undefined);
    escalate.next(rollbackFailed);
    // Even when telling people fails, the execution ends where it should: escalation still fails loudly,
    // and every other report still releases the lock (the record and the execution say what happened).
    escalate.addCatch(rollbackFailed, { errors: [Errors.ALL], resultPath: '$.reportError' });
    const onReportError = { errors: [Errors.ALL], resultPath: '$.reportError' };
    const reportFailure = task('ReportFailure', '$.outcome');
    reportFailure.next(releaseLock);
    reportFailure.addCatch(releaseLock, onReportError);
    const verifyRollback = task('VerifyRollback', undefined);
    verifyRollback.addCatch(escalate, { errors: [Errors.ALL], resultPath: '$.rollbackError' });
    const rollback = task('Rollback', undefined);
    rollback.addCatch(escalate, { errors: [Errors.ALL], resultPath: '$.rollbackError' });
    rollback.next(verifyRollback).next(reportFailure);
    const rollbackEnabled = new Choice(this, 'RollbackEnabled?', { stateName: 'RollbackEnabled?' })
      .when(Condition.booleanEquals('$.settings.autoRollback', true), rollback)
      .otherwise(reportFailure);
    const onDeployError = { errors: [Errors.ALL], resultPath: '$.error' };

    // Before anything changes.
    const reportBlocked = task('ReportBlocked', '$.outcome');
    reportBlocked.next(releaseLock);
    reportBlocked.addCatch(releaseLock, onReportError);
    const reportHeld = task('ReportHeld', '$.outcome');
    reportHeld.next(releaseLock);
    reportHeld.addCatch(releaseLock, onReportError);

    // A healthy release is not rolled back because its success report failed: the execution ends Failed.
    const finalize = task('Finalize', '$.outcome');
    finalize.next(releaseLock);
    finalize.addCatch(releaseLock, onReportError);

    const reportStatus = task('ReportStatus', '$.monitor');
    reportStatus.addCatch(rollbackEnabled, onDeployError);
    const monitor = callback('Monitor', undefined);
    // The sweep answers the token when the interval is over; a lost sweep ends in the timeout backstop.
    monitor.addCatch(reportStatus, { errors: [Errors.TIMEOUT], resultPath: JsonPath.DISCARD });
    monitor.addCatch(rollbackEnabled, onDeployError);
    monitor.next(reportStatus);
    const bakeComplete = new Choice(this, 'BakeComplete?', { stateName: 'BakeComplete?' })
      .when(Condition.booleanEquals('$.monitor.done', true), finalize)
      .otherwise(monitor);
    reportStatus.next(bakeComplete);
    const startMonitoring = task('StartMonitoring', '$.monitor');
    startMonitoring.addCatch(rollbackEnabled, onDeployError);
    startMonitoring.next(bakeComplete);

    const verify = task('Verify', undefined);
    verify.addCatch(rollbackEnabled, onDeployError);
    verify.next(startMonitoring);

    const executeStep = task('ExecuteStep', '$.progress');
    executeStep.addCatch(rollbackEnabled, onDeployError);
    const moreSteps = new Choice(this, 'MoreSteps?', { stateName: 'MoreSteps?' })
      .when(Condition.booleanEquals('$.progress.done', false), executeStep)
      .otherwise(verify);
    executeStep.next(moreSteps);

    const requestApproval = callback('RequestApproval', '$.approval');
    requestApproval.addCatch(reportHeld, {
      errors: [ErrorNames.approvalHeld, ErrorNames.approvalExpired, Errors.TIMEOUT],
      resultPath: '$.error',
    });
    requestApproval.addCatch(reportBlocked, { errors: [Errors.ALL], resultPath: '$.error' });
    requestApproval.next(executeStep);
    const approvalRequired = new Choice(this, 'ApprovalRequired?', { stateName: 'ApprovalRequired?' })
      .when(Condition.booleanEquals('$.settings.requireApproval', true), requestApproval)
      .otherwise(executeStep);

    const createPlan = task('CreatePlan', '$.plan');
    createPlan.addCatch(reportBlocked, { errors: [Errors.ALL], resultPath: '$.error' });
    createPlan.next(approvalRequired);

    const checkGates = task('CheckGates', '$.gates');
    checkGates.addCatch(reportBlocked, { errors: [Errors.ALL], resultPath: '$.error' });
    const gatesPassed = new Choice(this, 'GatesPassed?', { stateName: 'GatesPassed?' })
      .when(Condition.booleanEquals('$.gates.passed', true), createPlan)
      .otherwise(reportBlocked);
    checkGates.next(gatesPassed);

    const acquireLock = task('AcquireLock', '$.lock');
    acquireLock.addCatch(reportBlocked, { errors: [Errors.ALL], resultPath: '$.error' });
    const waitForLock = new Wait(this, 'WaitForLock', {
      stateName: 'WaitForLock',
      time: WaitTime.duration(Duration.seconds(props.lockRetrySeconds ?? 30)),
    });
    waitForLock.next(acquireLock);
    // A rollback run skips gates, plan and approval (a person who may roll back asked for it) and goes
    // straight to the rollback branch, with the request as the error the branch reports.
    const rollbackRequested = new Pass(this, 'RollbackRequested', {
      stateName: 'RollbackRequested',
      parameters: { Error: ErrorNames.rollbackRequested, 'Cause.$': '$.reason' },
      resultPath: '$.error',
    }).next(rollback);
    const runKind = new Choice(this, 'RollbackRun?', { stateName: 'RollbackRun?' })
      .when(Condition.isPresent('$.rollbackOf'), rollbackRequested)
      .otherwise(checkGates);
    const lockAcquired = new Choice(this, 'LockAcquired?', { stateName: 'LockAcquired?' })
      .when(Condition.booleanEquals('$.lock.acquired', true), runKind)
      .otherwise(waitForLock);
    acquireLock.next(lockAcquired);

    const acknowledge = task('Acknowledge', '$.settings').next(acquireLock);

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromChainable(acknowledge),
      stateMachineType: StateMachineType.STANDARD,
      comment: 'devops-agent deployment: gates, plan, approval, steps, verification, bake, rollback',
      timeout: Duration.days(8),
      tracingEnabled: true,
      logs: props.logs,
    });
  }
}
