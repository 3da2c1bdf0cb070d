import type { z } from 'zod';
import type { ServiceSettings } from '../shared/config/resolve.js';
import type { Service } from '../shared/config/schema.js';
import { contextFor, requireRecord, stepVars } from '../shared/deployment.js';
import { errorMessage } from '../shared/errors.js';
import { renderPlan, type ServiceHistory } from '../shared/plan.js';
import type { DeploymentRecord } from '../shared/ports/deployment-store.js';
import type { Ports } from '../shared/ports/index.js';
import type { StepContext } from '../shared/ports/step-runner.js';
import type { TrackerTask } from '../shared/ports/tracker.js';
import type { DeploymentState, PlanResultSchema } from '../shared/workflow.js';

const DAY_MS = 86_400_000;
/** how far back the plan looks for rollbacks of the service */
export const ROLLBACK_HISTORY_DAYS = 30;
/** how far back it looks for alarms (CloudWatch keeps two weeks of alarm history) */
export const ALARM_HISTORY_DAYS = 7;

/**
 * The service's recent past for the risk assessment: its deployments that ended rolled back (from the
 * store) and its alarms' changes to ALARM (from the alarm source, when it keeps a history).
 */
export const serviceHistory = async (
  service: Service,
  ports: Pick<Ports, 'store' | 'alarms' | 'clock'>,
): Promise<ServiceHistory> => {
  const now = ports.clock.now().getTime();
  const since = new Date(now - ROLLBACK_HISTORY_DAYS * DAY_MS).toISOString();
  const rollbacks = (await ports.store.listDeployments({ service: service.name, since }))
    .filter(
      (d) =>
        d.environment === service.environment &&
        (d.status === 'rolled-back' || d.status === 'rollback-failed'),
    )
    .map((d) => d.deploymentId)
    .reverse();
  const history: ServiceHistory = {
    rollbackDays: ROLLBACK_HISTORY_DAYS,
    rollbacks,
    alarmDays: ALARM_HISTORY_DAYS,
    firings: [],
  };
  if (!ports.alarms.firings || service.monitoring.alarms.length === 0) return history;
  try {
    history.firings = await ports.alarms.firings(
      service.monitoring.alarms,
      new Date(now - ALARM_HISTORY_DAYS * DAY_MS).toISOString(),
    );
  } catch (error) {
    history.alarmHistoryError = `${error instanceof Error ? error.name : 'Error'}: ${errorMessage(error).slice(0, 160)}`;
  }
  return history;
};

/**
 * What each step would replace (the running image, the recorded state), asked of the step runners that can
 * tell, so the plan reads "old → new". A runner that cannot read it says so in the plan rather than
 * stopping it: the approver sees the gap.
 */
export const observeCurrent = async (
  service: Service,
  steps: Ports['steps'],
  context: StepContext,
): Promise<Record<string, string>> => {
  const current: Record<string, string> = {};
  for (const step of service.steps) {
    const runner = steps[step.kind];
    if (!runner?.current) continue;
    try {
      const value = await runner.current(step, context);
      if (value) current[step.name] = value;
    } catch (error) {
      current[step.name] = `unreadable (${errorMessage(error).slice(0, 160)})`;
    }
  }
  return current;
};

/**
 * The plan of a deployment from what the gates recorded, what the steps would replace and the service's
 * recent history: the one way both the workflow and the dry run build it.
 */
export const planFor = async (
  state: DeploymentState,
  task: TrackerTask,
  service: Service,
  settings: ServiceSettings,
  record: DeploymentRecord | undefined,
  ports: Pick<Ports, 'store' | 'alarms' | 'steps' | 'clock'>,
) => {
  const vars = stepVars(state, task.customFields);
  return renderPlan({
    task,
    service,
    settings,
    gates: record?.gates ?? [],
    deploymentId: state.deploymentId,
    vars,
    current: await observeCurrent(service, ports.steps, {
      deploymentId: state.deploymentId,
      service: service.name,
      environment: service.environment,
      vars,
    }),
    history: await serviceHistory(service, ports),
    ...(record?.migrations ? { migrations: record.migrations } : {}),
  });
};

/**
 * Writes the deployment plan (Markdown for people, JSON for tools), stores both with the hash of the JSON
 * the approval binds to, and posts the Markdown on the task.
 */
export const createPlan = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'artifacts' | 'steps' | 'alarms' | 'clock'>,
): Promise<z.infer<typeof PlanResultSchema>> => {
  const { state, service, settings } = contextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const task = await ports.tracker.getTask(state.taskId);
  const { plan, markdown, risk, hash } = await planFor(state, task, service, settings, record, ports);
  const key = `plans/${state.deploymentId}.md`;
  await ports.artifacts.put(key, markdown, 'text/markdown; charset=utf-8');
  await ports.artifacts.put(
    `plans/${state.deploymentId}.json`,
    `${JSON.stringify({ ...plan, hash }, null, 2)}\n`,
    'application/json',
  );
  await ports.store.updateDeployment(state.deploymentId, {
    stage: 'CreatePlan',
    plan: {
      hash,
      key,
      risk,
      markdown,
      reasons: plan.risk.reasons,
      // what the record shows as "old → new" and how long each step may take
      steps: plan.steps.map((s, i) => {
        const configured = service.steps[i];
        const timeout = configured && 'timeout' in configured ? configured.timeout : undefined;
        return {
          name: s.name,
          kind: s.kind,
          action: s.action,
          ...(s.current ? { current: s.current } : {}),
          ...(typeof timeout === 'number' ? { timeoutSeconds: timeout } : {}),
        };
      }),
    },
  });
  await ports.tracker.comment(
    state.taskId,
    `${markdown}\nPlan hash: \`${hash.slice(0, 16)}\` · ${ports.artifacts.link(key)}`,
  );
  return { hash, key, risk };
};
