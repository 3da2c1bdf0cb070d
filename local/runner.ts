import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { ConflictError } from '../functions/shared/errors.js';
import type { Ports } from '../functions/shared/ports/index.js';
import type { WorkflowControl } from '../functions/shared/ports/workflow-control.js';
import type { DeploymentRequest, TaskStateName } from '../functions/shared/workflow.js';
import { type AslState, taskStateNames } from '../statemachine/extract-asl.js';
import {
  assertEveryTaskHandled,
  type CallbackBroker,
  CORES,
  type Core,
  type LocalHandler,
  localHandlers,
} from './registry.js';

/** One entry of the interpreter's event log (StateEntered, StateFailed, ExecutionSucceeded, …). */
export type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface LocalExecution {
  name: string;
  executionArn: string;
  input: DeploymentRequest;
  status: ExecutionStatus;
  /** the state being run, or the terminal state */
  currentState?: string;
  /** states entered so far: the cost unit of Step Functions */
  transitions: number;
  startedAt: string;
  stoppedAt?: string;
  error?: string;
  cause?: string;
  output?: unknown;
  done: Promise<void>;
  abort(): void;
}

export interface LocalRunnerOptions {
  /** Delay of every Retry; 0 in tests so retries do not sleep. Default: the definition's backoff. */
  retryIntervalMs?: number;
  /** Pause between lock attempts (the WaitForLock state). Default: the definition's. */
  lockRetryMs?: number;
  onEvent?: (execution: LocalExecution, event: EventLog) => void;
}

/** Thrown when a callback answer arrives for a task token nobody waits for (AWS: TaskDoesNotExist). */
export class TaskNotWaitingError extends ConflictError {}

/**
 * Runs the synthesized definition in-process with aws-local-stepfunctions and plays the Step Functions
 * API for the cores (`WorkflowControl`): start by name once, SendTaskSuccess / SendTaskFailure.
 */
export class LocalWorkflow implements WorkflowControl, CallbackBroker {
  private readonly machine: StateMachine;
  private readonly executions = new Map<string, LocalExecution>();
  private readonly waiters = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private handlers?: Record<string, LocalHandler>;

  constructor(
    private readonly asl: { States?: Record<string, AslState> } & Record<string, unknown>,
    private readonly options: LocalRunnerOptions = {},
  ) {
    if (!('withResolvers' in Promise)) {
      throw new Error(
        `the local runtime needs Node.js 22 or newer (this is ${process.version}); run it through npm scripts, which use the pinned node@22`,
      );
    }
    // biome-ignore lint/suspicious/noExplicitAny: the library types the definition loosely
    this.machine = new StateMachine(asl as any, { validationOptions: { checkArn: true, checkPaths: true } });
  }

  /** Wires the cores; ports.workflow must be this runner. Refuses a definition with an unhandled Task. */
  bind(ports: Ports, cores: Record<TaskStateName, Core> = CORES): this {
    const handlers = localHandlers(ports, this, cores);
    assertEveryTaskHandled(this.asl, handlers);
    this.handlers = handlers;
    return this;
  }

  async start(request: DeploymentRequest): Promise<{ started: boolean; executionId: string }> {
    if (!this.handlers) throw new Error('LocalWorkflow.bind(ports) must be called before start');
    const name = request.deploymentId;
    const executionArn = `arn:aws:states:local:000000000000:execution:devops-agent:${name}`;
    if (this.executions.has(name)) return { started: false, executionId: executionArn };
    const retry = this.options.retryIntervalMs;
    const run = this.machine.run(request, {
      overrides: {
        // biome-ignore lint/suspicious/noExplicitAny: handlers return JSON values; the library wants JSONValue
        taskResourceLocalHandlers: this.handlers as any,
        ...(this.options.lockRetryMs !== undefined
          ? { waitTimeOverrides: { WaitForLock: this.options.lockRetryMs } }
          : {}),
        ...(retry !== undefined
          ? { retryIntervalOverrides: Object.fromEntries(taskStateNames(this.asl).map((n) => [n, retry])) }
          : {}),
      },
      context: {
        Execution: { Id: executionArn, Name: name },
        Task: { Token: `local-token-${randomUUID()}` },
      },
    });
    const execution: LocalExecution = {
      name,
      executionArn,
      input: request,
      status: 'RUNNING',
      transitions: 0,
      startedAt: new Date().toISOString(),
      done: Promise.resolve(),
      abort: () => run.abort(),
    };
    const follow = (async () => {
      for await (const event of run.eventLogs) {
        if (event.type === 'StateEntered') {
          execution.transitions++;
          execution.currentState = event.state.name;
        }
        this.options.onEvent?.(execution, event);
      }
    })();
    execution.done = (async () => {
      try {
        execution.output = await run.result;
        execution.status = 'SUCCEEDED';
      } catch (error) {
        if (error instanceof ExecutionAbortedError) {
          execution.status = 'ABORTED';
          return;
        }
        execution.status = 'FAILED';
        const cause = error instanceof ExecutionError ? (error.cause as Error | undefined) : (error as Error);
        execution.error = cause?.name ?? 'Error';
        execution.cause = cause?.message;
      } finally {
        await follow.catch(() => undefined);
        execution.stoppedAt = new Date().toISOString();
      }
    })();
    this.executions.set(name, execution);
    return { started: true, executionId: executionArn };
  }

  waitFor(token: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiters.get(token)?.reject(new TaskNotWaitingError('superseded by a newer callback'));
      this.waiters.set(token, { resolve, reject });
    });
  }

  /** True while a callback Task waits for an answer to `token`. */
  isWaiting(token: string): boolean {
    return this.waiters.has(token);
  }

  cancel(token: string): void {
    this.waiters.delete(token);
  }

  async sendTaskSuccess(token: string, output: unknown): Promise<void> {
    this.take(token).resolve(output);
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    const failure = new Error(cause);
    failure.name = error;
    this.take(token).reject(failure);
  }

  private take(token: string) {
    const waiter = this.waiters.get(token);
    if (!waiter)
      throw new TaskNotWaitingError(
        'the workflow is no longer waiting for this answer (it timed out, was decided, or finished)',
      );
    this.waiters.delete(token);
    return waiter;
  }

  execution(name: string): LocalExecution | undefined {
    return this.executions.get(name);
  }

  list(): LocalExecution[] {
    return [...this.executions.values()];
  }

  /** Stops every running execution (the process is shutting down); waiting callbacks are dropped. */
  async abortAll(): Promise<void> {
    const running = this.list().filter((e) => e.status === 'RUNNING');
    for (const execution of running) execution.abort();
    // settle every waiting callback: the interpreter clears a Task's timeout timer only when the Task's
    // promise settles, and a dropped promise would keep the process alive until that timeout (days)
    const waiting = [...this.waiters.values()];
    this.waiters.clear();
    for (const waiter of waiting)
      waiter.reject(new TaskNotWaitingError('the local runtime is shutting down'));
    await Promise.all(running.map((e) => e.done));
  }

  /** Resolves when every execution started so far has ended. */
  async idle(): Promise<void> {
    await Promise.all(this.list().map((e) => e.done));
  }
}
