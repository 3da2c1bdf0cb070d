import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsFor } from '../functions/shared/config/resolve.js';
import { lockKey } from '../functions/shared/deployment.js';
import { ConflictError, errorMessage } from '../functions/shared/errors.js';
import {
  type DeploymentRecord,
  type DeploymentStatus,
  FINISHED_STATUSES,
} from '../functions/shared/ports/deployment-store.js';
import type { Ports } from '../functions/shared/ports/index.js';
import { writeRecord } from '../functions/shared/record.js';
import { type DeploymentRequest, DeploymentRequestSchema, TRIGGERS } from '../functions/shared/workflow.js';

export type RecoveryPorts = Pick<
  Ports,
  'config' | 'store' | 'tracker' | 'workflow' | 'artifacts' | 'clock' | 'logger'
>;

/** The error name an interrupted record carries, so the console, the record and the audit say why it ended. */
export const INTERRUPTED_ERROR = 'InterruptedByRestartError';
/** The stage an interrupted record is left in. */
export const INTERRUPTED_STAGE = 'InterruptedByRestart';
/** The audit action of every recovered deployment. */
export const INTERRUPTED_AUDIT_ACTION = 'interrupted-by-restart';

/** Statuses in which nothing has been changed yet: no step has started. */
export const UNCHANGED_STATUSES: readonly DeploymentStatus[] = ['queued', 'checking', 'awaiting-approval'];

export const BLOCKED_REASON =
  'interrupted by a restart of the local runtime before any change; move the task again or comment /deploy to retry';

/** Another live runtime uses the data folder: recovering would end its running deployments. */
export class DataDirInUseError extends ConflictError {}

/** Whether a process with this id runs (EPERM: it runs, as another user). */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Claims `dataDir` for this process through `<dataDir>/runtime.pid`, before recovery may end anything: a
 * second runtime started on the same folder by mistake would otherwise take the first one's running
 * deployments for interrupted ones. A pid file left by a killed process (its pid no longer runs) is taken
 * over. `release` removes the file if it is still ours.
 * @throws DataDirInUseError while the process named in the file runs (this one included: two runtimes in
 *   one process on one folder are as wrong)
 */
export const claimDataDir = (dataDir: string): { release(): void } => {
  const file = join(dataDir, 'runtime.pid');
  const mine = String(process.pid);
  let holder: string | undefined;
  try {
    holder = readFileSync(file, 'utf8').trim();
  } catch {
    holder = undefined;
  }
  const pid = Number(holder);
  if (holder && Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new DataDirInUseError(
      `another devops-agent runtime (process ${pid}) is using ${dataDir}; stop it first, or give this one another data folder (--data-dir). Nothing was changed.`,
    );
  }
  writeFileSync(file, mine);
  return {
    release: () => {
      try {
        if (readFileSync(file, 'utf8').trim() === mine) rmSync(file, { force: true });
      } catch {
        // already gone: nothing to release
      }
    },
  };
};

export interface Recovered {
  deploymentId: string;
  /** the status it was found in */
  was: DeploymentStatus;
  /**
   * blocked: ended before any change; rollback-run: a `<id>-rollback` run undoes it; rollback-rerun: an
   * interrupted rollback run runs again; rollback-failed: it may have changed production and cannot be
   * undone automatically (its service left the configuration); failed: auto rollback is off, the release
   * may be partly live; error: recovery itself failed for it (logged; the next start tries again)
   */
  action: 'blocked' | 'rollback-run' | 'rollback-rerun' | 'rollback-failed' | 'failed' | 'error';
  /** the rollback run started for it */
  runId?: string;
  error?: string;
}

const RECOVERY_ACTOR = 'devops-agent (restart recovery)';

const triggerOf = (record: DeploymentRecord): DeploymentRequest['trigger'] =>
  (TRIGGERS as readonly string[]).includes(record.trigger)
    ? (record.trigger as DeploymentRequest['trigger'])
    : 'cli';

/**
 * Finds every deployment a killed local runtime left unfinished and settles it, once, at start, before the
 * runtime serves. Executions live in the process: after a restart none of them runs any more, so every
 * record not in a finished status was interrupted. The policy (docs/restarts.md):
 *
 * - `queued`, `checking`, `awaiting-approval` (nothing changed yet): ended as `blocked` with
 *   {@link BLOCKED_REASON}; a pending approval expires; the lock (and a place in its queue) is released; the
 *   task is told. Nothing restarts by itself: a human decides.
 * - `deploying`, `verifying`, `monitoring`, `rolling-back` (production may have changed): the lock of the
 *   dead execution is released, a `<id>-rollback` run starts exactly as a manual rollback after Deployed
 *   does (it takes the lock, copies the recorded steps and undoes them newest first, a step cut off while
 *   `running` included), and the original ends as `rolled-back` with `rolledBackBy` naming the run, whose
 *   own record says whether the undo succeeded. An interrupted rollback is simply run again: each step's
 *   undo sets back what the step recorded, so running it twice leaves the same state.
 *   With auto rollback off the original ends as `blocked` (outcome `failed`) with an URGENT comment, as the
 *   workflow's own failure report does; a service no longer configured cannot be undone: `rollback-failed`.
 * - a rollback run (`rollbackOf`) in any unfinished status runs again under its own id: it undoes the
 *   original's steps it copied, again.
 *
 * Every recovered record gets `error.name` {@link INTERRUPTED_ERROR} (or keeps the error it had) and an
 * audit entry {@link INTERRUPTED_AUDIT_ACTION}. The store is changed before the task is told, and a run is
 * started before the original is marked finished, so a second crash in the middle is recovered again at
 * the next start (starts are idempotent by name). One deployment's failure does not stop the others.
 */
export const recoverInterrupted = async (ports: RecoveryPorts): Promise<Recovered[]> => {
  const interrupted = (await ports.store.listDeployments()).filter(
    (d) => !FINISHED_STATUSES.includes(d.status),
  );
  // every dead holder and waiter goes before any rollback run asks for a lock: a run queued behind a dead
  // waiter would wait a whole lock retry for nothing
  for (const record of interrupted) {
    await ports.store
      .releaseLock(lockKey(record.service, record.environment), record.deploymentId)
      .catch(() => undefined);
  }
  const results: Recovered[] = [];
  for (const record of interrupted) {
    try {
      results.push(await recoverOne(record, ports));
    } catch (error) {
      ports.logger.error('could not recover an interrupted deployment; the next start tries again', {
        deploymentId: record.deploymentId,
        error: errorMessage(error),
      });
      results.push({
        deploymentId: record.deploymentId,
        was: record.status,
        action: 'error',
        error: errorMessage(error),
      });
    }
  }
  return results;
};

const recoverOne = async (record: DeploymentRecord, ports: RecoveryPorts): Promise<Recovered> => {
  const now = ports.clock.now().toISOString();
  const id = record.deploymentId;
  const audit = (detail: string) =>
    ports.store.appendAudit({
      at: now,
      deploymentId: id,
      action: INTERRUPTED_AUDIT_ACTION,
      actor: RECOVERY_ACTOR,
      channel: 'restart',
      detail: `was ${record.status} at ${record.stage}; ${detail}`,
    });
  // the task hears after the store is settled: a tracker outage must not leave the record unfinished
  const tell = async (text: string) => {
    try {
      await ports.tracker.comment(record.taskId, text);
    } catch (error) {
      ports.logger.error('could not tell the task about a recovered deployment', {
        deploymentId: id,
        taskId: record.taskId,
        error: errorMessage(error),
      });
    }
  };
  // the deployment record document, as every finished deployment has one; a failure only costs the document
  const document = async () => {
    try {
      await writeRecord(id, ports);
    } catch (error) {
      ports.logger.error('could not write the record of a recovered deployment', {
        deploymentId: id,
        error: errorMessage(error),
      });
    }
  };
  const interruptedError = {
    name: INTERRUPTED_ERROR,
    message: `interrupted by a restart of the local runtime while ${record.status} (${record.stage})`,
  };
  // the dead execution may hold the lock or a place in its queue; both go, so the next one can start
  await ports.store.releaseLock(lockKey(record.service, record.environment), id);
  await ports.store.setMonitorToken(id, undefined);

  const service = ports.config.services.find(
    (s) => s.name === record.service && s.environment === record.environment,
  );

  if (record.rollbackOf) {
    if (!service) return unrecoverable(record, ports, interruptedError, { audit, tell, document }, now);
    const request = DeploymentRequestSchema.parse({
      deploymentId: id,
      taskId: record.taskId,
      service: record.service,
      environment: record.environment,
      trigger: triggerOf(record),
      requestedBy: record.requestedBy ?? RECOVERY_ACTOR,
      requestedAt: now,
      rollbackOf: record.rollbackOf,
      // the reason lands in the run's record and its final comment: it says the run was interrupted
      reason:
        `${record.rollback?.reason ?? `rollback of ${record.rollbackOf}`} (run again: a restart of the local runtime interrupted it while ${record.status})`.slice(
          0,
          2000,
        ),
    });
    if (!record.error) await ports.store.updateDeployment(id, { error: interruptedError });
    await ports.workflow.start(request);
    await audit('the rollback run runs again (each step undo sets back what the step recorded)');
    await tell(
      `⚠️ DevOps: a restart of the local runtime interrupted the rollback ${id} of ${record.rollbackOf} (it was ${record.status}). The rollback runs again now.`,
    );
    return { deploymentId: id, was: record.status, action: 'rollback-rerun', runId: id };
  }

  if (UNCHANGED_STATUSES.includes(record.status)) {
    const approval = await ports.store.findApprovalByDeployment(id);
    const expired =
      approval?.status === 'pending' &&
      (await ports.store.decideApproval(approval.approvalId, {
        status: 'expired',
        decidedBy: RECOVERY_ACTOR,
        decidedAt: now,
        comment: BLOCKED_REASON,
      }));
    await ports.store.updateDeployment(id, {
      status: 'blocked',
      stage: INTERRUPTED_STAGE,
      outcome: 'blocked',
      finishedAt: now,
      error: { name: INTERRUPTED_ERROR, message: BLOCKED_REASON },
      ...(expired
        ? {
            approval: {
              decision: 'expired',
              by: RECOVERY_ACTOR,
              channel: 'auto',
              at: now,
              comment: BLOCKED_REASON,
            },
          }
        : {}),
    });
    await document();
    await audit(`ended blocked${expired ? `, approval ${approval.approvalId} expired` : ''}; lock released`);
    await tell(
      `⛔ DevOps: deployment ${id} was ${BLOCKED_REASON}.${expired ? ' Its approval request has expired: the links no longer work.' : ''} Nothing was changed.`,
    );
    return { deploymentId: id, was: record.status, action: 'blocked' };
  }

  if (!service) return unrecoverable(record, ports, interruptedError, { audit, tell, document }, now);
  if (!settingsFor(ports.config, service).autoRollback) {
    await ports.store.updateDeployment(id, {
      status: 'blocked',
      stage: INTERRUPTED_STAGE,
      outcome: 'failed',
      finishedAt: now,
      error: record.error ?? interruptedError,
    });
    await document();
    await audit('auto rollback is off: nothing undone; lock released');
    await tell(
      `🚨 URGENT DevOps: a restart of the local runtime interrupted deployment ${id} while ${record.status}; automatic rollback is off, so nothing was undone and the release may be partly live. A human must check ${record.service} in ${record.environment} now.`,
    );
    return { deploymentId: id, was: record.status, action: 'failed' };
  }

  const runId = `${id}-rollback`.slice(0, 80);
  const reason = `${id} was interrupted by a restart of the local runtime while ${record.status}; undoing what it recorded`;
  // the run first: if this process dies before the original is marked, the next start finds it again
  await ports.workflow.start(
    DeploymentRequestSchema.parse({
      deploymentId: runId,
      taskId: record.taskId,
      service: record.service,
      environment: record.environment,
      trigger: triggerOf(record),
      requestedBy: RECOVERY_ACTOR,
      requestedAt: now,
      rollbackOf: id,
      reason,
    }),
  );
  await ports.store.updateDeployment(id, {
    status: 'rolled-back',
    stage: INTERRUPTED_STAGE,
    outcome: 'rolled-back',
    finishedAt: now,
    error: record.error ?? interruptedError,
    rolledBackBy: { deploymentId: runId, at: now, by: RECOVERY_ACTOR },
  });
  await document();
  await audit(`rollback run ${runId} started; lock released for it`);
  await tell(
    `⚠️ DevOps: a restart of the local runtime interrupted deployment ${id} while ${record.status}. It may have changed ${record.service} in ${record.environment}, so it is being rolled back (run ${runId}).`,
  );
  return { deploymentId: id, was: record.status, action: 'rollback-run', runId };
};

/** A deployment that may have changed production and whose service is no longer configured: a human must act. */
const unrecoverable = async (
  record: DeploymentRecord,
  ports: RecoveryPorts,
  error: { name: string; message: string },
  say: {
    audit: (detail: string) => Promise<void>;
    tell: (text: string) => Promise<void>;
    document: () => Promise<void>;
  },
  now: string,
): Promise<Recovered> => {
  await ports.store.updateDeployment(record.deploymentId, {
    status: 'rollback-failed',
    stage: INTERRUPTED_STAGE,
    outcome: 'failed',
    finishedAt: now,
    error: record.error ?? error,
  });
  await say.document();
  await say.audit(`${record.service}/${record.environment} is no longer configured: cannot roll back`);
  await say.tell(
    `🚨 URGENT DevOps: a restart of the local runtime interrupted ${record.deploymentId} while ${record.status}, and ${record.service} in ${record.environment} is no longer in the configuration, so it cannot be rolled back automatically. A human must restore it by hand now.`,
  );
  return { deploymentId: record.deploymentId, was: record.status, action: 'rollback-failed' };
};
