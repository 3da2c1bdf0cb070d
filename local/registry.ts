import { acknowledge } from '../functions/acknowledge/acknowledge.js';
import { acquireLock } from '../functions/acquire-lock/acquire-lock.js';
import { checkGates } from '../functions/check-gates/check-gates.js';
import { createPlan } from '../functions/create-plan/create-plan.js';
import { escalateRollbackFailure } from '../functions/escalate-rollback-failure/escalate-rollback-failure.js';
import { executeStep } from '../functions/execute-step/execute-step.js';
import { finalize } from '../functions/finalize/finalize.js';
import { monitor } from '../functions/monitor/monitor.js';
import { releaseLock } from '../functions/release-lock/release-lock.js';
import { reportBlocked } from '../functions/report-blocked/report-blocked.js';
import { reportFailure } from '../functions/report-failure/report-failure.js';
import { reportHeld } from '../functions/report-held/report-held.js';
import { reportStatus } from '../functions/report-status/report-status.js';
import { requestApproval } from '../functions/request-approval/request-approval.js';
import { rollback } from '../functions/rollback/rollback.js';
import type { Ports } from '../functions/shared/ports/index.js';
import { CALLBACK_STATES, type TaskStateName } from '../functions/shared/workflow.js';
import { startMonitoring } from '../functions/start-monitoring/start-monitoring.js';
import { verify } from '../functions/verify/verify.js';
import { verifyRollback } from '../functions/verify-rollback/verify-rollback.js';
import { type AslState, allStates } from '../statemachine/extract-asl.js';

export type Core = (input: unknown, ports: Ports) => Promise<unknown>;

/** The same cores the Lambda handlers wrap, by Task state name. */
export const CORES: Record<TaskStateName, Core> = {
  Acknowledge: acknowledge,
  AcquireLock: acquireLock,
  CheckGates: checkGates,
  ReportBlocked: reportBlocked,
  CreatePlan: createPlan,
  RequestApproval: requestApproval,
  ReportHeld: reportHeld,
  ExecuteStep: executeStep,
  Verify: verify,
  StartMonitoring: startMonitoring,
  Monitor: monitor,
  ReportStatus: reportStatus,
  Finalize: finalize,
  Rollback: rollback,
  VerifyRollback: verifyRollback,
  ReportFailure: reportFailure,
  EscalateRollbackFailure: escalateRollbackFailure,
  ReleaseLock: releaseLock,
};

export interface CallbackBroker {
  /** A promise settled by SendTaskSuccess / SendTaskFailure for `token`; register before the core runs. */
  waitFor(token: string): Promise<unknown>;
  cancel(token: string): void;
}

export type LocalHandler = (input: unknown) => Promise<unknown>;

/**
 * Task state name → local handler. Request/response Tasks (`payloadResponseOnly`) get the state and return
 * the core's result; callback Tasks get `{FunctionName, Payload: {token, state}}` and return what
 * SendTaskSuccess delivers, or throw the error SendTaskFailure names, as on AWS.
 */
export const localHandlers = (
  ports: Ports,
  callbacks: CallbackBroker,
  cores: Record<TaskStateName, Core> = CORES,
): Record<TaskStateName, LocalHandler> => {
  const handlers = {} as Record<TaskStateName, LocalHandler>;
  for (const [name, core] of Object.entries(cores) as [TaskStateName, Core][]) {
    handlers[name] = CALLBACK_STATES.includes(name)
      ? async (input) => {
          const payload = (input as { Payload?: { token?: unknown } }).Payload;
          const token = typeof payload?.token === 'string' ? payload.token : '';
          const answer = callbacks.waitFor(token);
          try {
            await core(payload, ports);
          } catch (error) {
            callbacks.cancel(token);
            throw error;
          }
          return answer;
        }
      : async (input) => (await core(input, ports)) ?? {};
  }
  return handlers;
};

/** A Task without a local handler would fail into a catcher and look like a real failure: refuse to run. */
export const assertEveryTaskHandled = (
  asl: { States?: Record<string, AslState> },
  handlers: Record<string, unknown>,
): void => {
  const missing = allStates(asl)
    .filter(([name, state]) => state.Type === 'Task' && !(name in handlers))
    .map(([name]) => name);
  if (missing.length > 0) {
    throw new Error(
      `the local runtime has no handler for Task state(s) ${missing.join(', ')}; add them to local/registry.ts`,
    );
  }
};
