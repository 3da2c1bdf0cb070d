import { AGENT_METRICS } from '../shared/agent-metrics.js';
import { contextFor, requireRecord, stepContextFor } from '../shared/deployment.js';
import { errorMessage, RollbackFailedError } from '../shared/errors.js';
import type { StepRecord } from '../shared/ports/deployment-store.js';
import type { Ports } from '../shared/ports/index.js';

/** The root cause as people read it, from the error the workflow caught. */
export const failureReason = (error: { Error: string; Cause?: string } | undefined): string =>
  error ? `${error.Cause ?? error.Error}` : 'unknown failure';

/**
 * Undoes what ran, newest first: each step by the undo information it recorded; a migration stays when the
 * policy keeps the database. Tries every step even after one fails, then reports the failure by name.
 */
export const rollback = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'steps' | 'clock' | 'telemetry'>,
): Promise<void> => {
  const { state, service } = contextFor(input, ports);
  const record = await requireRecord(ports.store, state.deploymentId);
  const reason = failureReason(state.error);
  const startedAt = ports.clock.now();
  // a bake that breached on a trigger says when its first breaching datapoint was: the reaction time
  const firstBreachAt = record.monitoring?.breach ? record.monitoring.firstBreachAt : undefined;
  const started = {
    startedAt: startedAt.toISOString(),
    ...(firstBreachAt ? { reactionMs: startedAt.getTime() - new Date(firstBreachAt).getTime() } : {}),
  };
  await ports.store.setMonitorToken(state.deploymentId, undefined);
  await ports.store.updateDeployment(state.deploymentId, {
    stage: 'Rollback',
    status: 'rolling-back',
    rollback: { reason, steps: [], ...started },
    ...(record.error ? {} : { error: { name: state.error?.Error ?? 'Error', message: reason } }),
  });
  ports.telemetry?.count(AGENT_METRICS.names.rollbacks);
  await ports.tracker.comment(
    state.taskId,
    state.rollbackOf
      ? `↩️ Starting the requested rollback of ${state.rollbackOf}...\nReason: ${reason}`
      : `↩️ Starting automatic rollback...\nReason: ${reason}`,
  );

  const context = {
    ...(await stepContextFor(state, ports.tracker)),
    // the migration runner applies the same database policy this core does, from the same facts
    keepDatabase: service.rollback.keep_database,
    ...(record.migrations ? { migrations: record.migrations } : {}),
  };
  // a step still `running` was cut off (its Lambda timed out or crashed): it may be half applied, so it is
  // undone too, from what it recorded or what its runner finds
  const ran = record.steps
    .filter((s) => s.status === 'succeeded' || s.status === 'failed' || s.status === 'running')
    .sort((a, b) => b.index - a.index);
  const results: StepRecord[] = [];
  for (const done of ran) {
    const step = service.steps[done.index];
    const startedAt = ports.clock.now().toISOString();
    const base = { index: done.index, name: done.name, kind: done.kind, startedAt };
    if (!step) {
      results.push({
        ...base,
        status: 'rollback-failed',
        error: 'the step is no longer in the configuration',
      });
      continue;
    }
    const irreversible = (record.migrations ?? []).filter((m) => m.irreversible);
    if (step.kind === 'migration' && !service.rollback.keep_database && irreversible.length > 0) {
      // never automatic: running a down migration after data was dropped cannot bring it back
      results.push({
        ...base,
        status: 'kept',
        finishedAt: startedAt,
        summary: `irreversible migration (${irreversible.map((m) => m.path).join(', ')}): no automatic database rollback; restore the data from a backup by hand if the previous release needs it`,
      });
      continue;
    }
    if (step.kind === 'migration' && service.rollback.keep_database) {
      results.push({
        ...base,
        status: 'kept',
        finishedAt: startedAt,
        summary: 'keep database: the migration stays',
      });
      continue;
    }
    try {
      const runner = ports.steps[step.kind];
      if (!runner) throw new Error(`no runner for ${step.kind} steps in this runtime`);
      const undone = await runner.undo(step, done.undo, context);
      results.push({
        ...base,
        status: undone.kept ? 'kept' : 'rolled-back',
        finishedAt: ports.clock.now().toISOString(),
        summary: undone.summary,
      });
    } catch (error) {
      results.push({
        ...base,
        status: 'rollback-failed',
        finishedAt: ports.clock.now().toISOString(),
        error: errorMessage(error),
      });
    }
  }
  const failed = results.filter((r) => r.status === 'rollback-failed');
  await ports.store.updateDeployment(state.deploymentId, {
    rollback: {
      reason,
      ...started,
      steps: results,
      ...(failed.length ? { error: failed.map((f) => `${f.name}: ${f.error}`).join('; ') } : {}),
    },
  });
  await ports.tracker.comment(
    state.taskId,
    results.length
      ? results
          .map(
            (r) =>
              `${r.status === 'rollback-failed' ? '✗' : '✓'} ${r.name}: ${r.status}${r.summary ? ` (${r.summary})` : ''}${r.error ? `: ${r.error}` : ''}`,
          )
          .join('\n')
      : 'Nothing had run yet; nothing to undo.',
  );
  if (failed.length)
    throw new RollbackFailedError(
      `could not undo ${failed.map((f) => `"${f.name}" (${f.error})`).join(', ')}`,
    );
};
