import type { z } from 'zod';
import { contextFor, requireRecord, sha256, stepVars } from '../shared/deployment.js';
import { renderPlan } from '../shared/plan.js';
import type { Ports } from '../shared/ports/index.js';
import type { PlanResultSchema } from '../shared/workflow.js';

/** Writes the deployment plan, stores it with its hash, and posts it on the task. */
export const createPlan = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'artifacts' | 'clock'>,
): Promise<z.infer<typeof PlanResultSchema>> => {
  const { state, service, settings } = contextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const task = await ports.tracker.getTask(state.taskId);
  const { markdown, risk } = renderPlan({
    task,
    service,
    settings,
    gates: record.gates ?? [],
    deploymentId: state.deploymentId,
    vars: stepVars(state, task.customFields),
  });
  const hash = sha256(markdown);
  const key = `plans/${state.deploymentId}.md`;
  await ports.artifacts.put(key, markdown, 'text/markdown; charset=utf-8');
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
