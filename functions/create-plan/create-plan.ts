import type { z } from 'zod';
import { contextFor, requireRecord, stepVars } from '../shared/deployment.js';
import { renderPlan } from '../shared/plan.js';
import type { Ports } from '../shared/ports/index.js';
import type { PlanResultSchema } from '../shared/workflow.js';

/**
 * Writes the deployment plan (Markdown for people, JSON for tools), stores both with the hash of the JSON
 * the approval binds to, and posts the Markdown on the task.
 */
export const createPlan = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'artifacts' | 'clock'>,
): Promise<z.infer<typeof PlanResultSchema>> => {
  const { state, service, settings } = contextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const task = await ports.tracker.getTask(state.taskId);
  const { plan, markdown, risk, hash } = renderPlan({
    task,
    service,
    settings,
    gates: record.gates ?? [],
    deploymentId: state.deploymentId,
    vars: stepVars(state, task.customFields),
    ...(record.migrations ? { migrations: record.migrations } : {}),
  });
  const key = `plans/${state.deploymentId}.md`;
  await ports.artifacts.put(key, markdown, 'text/markdown; charset=utf-8');
  await ports.artifacts.put(
    `plans/${state.deploymentId}.json`,
    `${JSON.stringify({ ...plan, hash }, null, 2)}\n`,
    'application/json',
  );
  await ports.store.updateDeployment(state.deploymentId, {
    stage: 'CreatePlan',
    plan: { hash, key, risk, markdown },
  });
  await ports.tracker.comment(
    state.taskId,
    `${markdown}\nPlan hash: \`${hash.slice(0, 16)}\` · ${ports.artifacts.link(key)}`,
  );
  return { hash, key, risk };
};
