import { takeBaselines } from '../shared/checks.js';
import { contextFor, requireRecord, stepContextFor } from '../shared/deployment.js';
import {
  errorMessage,
  StepFailedError,
  StepKindUnsupportedError,
  TransientDependencyError,
} from '../shared/errors.js';
import type { StepRecord } from '../shared/ports/deployment-store.js';
import type { Ports } from '../shared/ports/index.js';

/**
 * Runs the next deployment step, records what it needs to undo itself, and reports progress on the task.
 * A step already recorded as succeeded (a retried invocation) is not run twice.
 */
export const executeStep = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'steps' | 'checks' | 'clock'>,
): Promise<{ next: number; done: boolean }> => {
  const { state, service, settings } = contextFor(input, ports);
  const index = state.progress?.next ?? 0;
  const step = service.steps[index];
  if (!step) return { next: index, done: true };
  const record = await requireRecord(ports.store, state.deploymentId);
  const advance = { next: index + 1, done: index + 1 >= service.steps.length };
  if (record.steps.find((s) => s.index === index)?.status === 'succeeded') return advance;

  if (index === 0) {
    // what "not less than before" checks compare with, read before anything changes (once: a retry keeps it)
    if (!record.baselines) {
      const { baselines, problems } = await takeBaselines(
        service.verification,
        settings.verificationTimeoutSeconds,
        ports,
      );
      await ports.store.updateDeployment(state.deploymentId, { baselines });
      if (problems.length > 0)
        await ports.tracker.comment(
          state.taskId,
          `⚠️ Could not read before the deploy: ${problems.join('; ')}. Those checks will fail after it.`,
        );
    }
    if (settings.deployingStatus) await ports.tracker.setStatus(state.taskId, settings.deployingStatus);
    await ports.tracker.comment(state.taskId, `🚀 Deployment started... (${service.steps.length} steps)`);
  }
  const startedAt = ports.clock.now().toISOString();
  const save = async (patch: Partial<StepRecord>) => {
    const current = await requireRecord(ports.store, state.deploymentId);
    const others = current.steps.filter((s) => s.index !== index);
    const previous = current.steps.find((s) => s.index === index);
    const merged: StepRecord = {
      index,
      name: step.name,
      kind: step.kind,
      status: 'running',
      startedAt,
      ...previous,
      ...patch,
    };
    await ports.store.updateDeployment(state.deploymentId, {
      stage: 'ExecuteStep',
      status: 'deploying',
      steps: [...others, merged].sort((a, b) => a.index - b.index),
    });
  };
  await save({ status: 'running', startedAt });

  const context = {
    ...(await stepContextFor(state, ports.tracker)),
    saveUndo: (undo: Record<string, string>) => save({ undo }),
  };
  try {
    const runner = ports.steps[step.kind];
    if (!runner) throw new StepKindUnsupportedError(`no runner for ${step.kind} steps in this runtime`);
    const outcome = await runner.run(step, context);
    await save({
      status: 'succeeded',
      // an earlier attempt that met a transient failure left its error: this one succeeded
      error: undefined,
      finishedAt: ports.clock.now().toISOString(),
      summary: outcome.summary,
      ...(outcome.undo ? { undo: outcome.undo } : {}),
    });
    await ports.tracker.comment(
      state.taskId,
      `✓ ${step.name} complete${outcome.summary ? `: ${outcome.summary}` : ''}`,
    );
    return advance;
  } catch (error) {
    const message = errorMessage(error);
    const undo = (error as { undo?: Record<string, string> }).undo;
    if (error instanceof TransientDependencyError) {
      // The dependency failed, not the step, after the runner's own retries: the step stays running (its
      // undo is saved) and the workflow's Retry runs it again with a longer backoff (runners are safe to
      // rerun); when those retries are spent too, the Catch rolls back as for a failed step.
      await save({ error: `${message} (the workflow retries)`, ...(undo ? { undo } : {}) });
      throw error;
    }
    await save({
      status: 'failed',
      finishedAt: ports.clock.now().toISOString(),
      error: message,
      ...(undo ? { undo } : {}),
    });
    await ports.store.updateDeployment(state.deploymentId, {
      error: { name: StepFailedError.name, message: `${step.name}: ${message}` },
    });
    await ports.tracker.comment(
      state.taskId,
      `❌ Deployment failed at step: ${step.name}\nError: ${message}`,
    );
    throw new StepFailedError(`step "${step.name}" failed: ${message}`, { cause: error });
  }
};
