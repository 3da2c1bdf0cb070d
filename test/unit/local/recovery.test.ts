import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../functions/shared/config/load.js';
import { lockKey } from '../../../functions/shared/deployment.js';
import type { DeploymentStatus } from '../../../functions/shared/ports/deployment-store.js';
import type { WorkflowControl } from '../../../functions/shared/ports/workflow-control.js';
import {
  BLOCKED_REASON,
  claimDataDir,
  DataDirInUseError,
  INTERRUPTED_AUDIT_ACTION,
  INTERRUPTED_ERROR,
  recoverInterrupted,
} from '../../../local/recovery.js';
import { CONFIG } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

const KEY = lockKey('notifications', 'production');
const LATER = '2099-01-01T00:00:00.000Z';
const NOW = '2026-11-28T10:00:00.000Z';

/** The fake ports with one deployment `t1-1` in `status`, holding the service's lock. */
const withInterrupted = async (status: DeploymentStatus, config = CONFIG) => {
  const fakes = fakePorts(config);
  await fakes.store.createDeployment(
    aDeployment({
      status,
      stage: 'Somewhere',
      steps:
        status === 'deploying'
          ? [{ index: 0, name: 'Database migration', kind: 'migration', status: 'running', startedAt: NOW }]
          : [],
    }),
  );
  await fakes.store.acquireLock(KEY, 't1-1', LATER, NOW);
  return fakes;
};

describe('recoverInterrupted', () => {
  it.each(['queued', 'checking', 'awaiting-approval'] as const)(
    'ends a deployment interrupted while %s as blocked, releases its lock and tells the task',
    async (status) => {
      // Prepare
      const { ports, store, tracker, workflow } = await withInterrupted(status);

      // Act
      const recovered = await recoverInterrupted(ports);

      // Assess
      expect(recovered).toEqual([{ deploymentId: 't1-1', was: status, action: 'blocked' }]);
      const record = await store.getDeployment('t1-1');
      expect(record).toMatchObject({
        status: 'blocked',
        outcome: 'blocked',
        stage: 'InterruptedByRestart',
        error: { name: INTERRUPTED_ERROR, message: BLOCKED_REASON },
      });
      expect(record?.finishedAt).toBeDefined();
      expect(await store.acquireLock(KEY, 'next', LATER, NOW)).toMatchObject({ acquired: true });
      expect(tracker.textsOf('t1')).toEqual([expect.stringContaining(BLOCKED_REASON)]);
      expect(workflow.started).toEqual([]);
      expect((await store.listAudit('t1-1')).map((a) => a.action)).toEqual([INTERRUPTED_AUDIT_ACTION]);
    },
  );

  it.each([
    ['queued', 'blocked'],
    ['deploying', 'rolled-back'],
  ] as const)(
    'writes the record document of a deployment interrupted while %s, saying it ended %s by a restart',
    async (status, ended) => {
      // Prepare
      const { ports, store, artifacts } = await withInterrupted(status);

      // Act
      await recoverInterrupted(ports);

      // Assess
      const key = (await store.getDeployment('t1-1'))?.recordKey;
      expect(key).toBeDefined();
      const document = artifacts.files.get(key ?? '');
      expect(document).toContain(`**${ended}**`);
      expect(document).toContain(`Error: ${INTERRUPTED_ERROR}`);
    },
  );

  it('recovers the deployment even when its record document cannot be written', async () => {
    // Prepare
    const { ports, store, artifacts } = await withInterrupted('checking');
    artifacts.put = () => Promise.reject(new Error('disk full'));
    const errors: string[] = [];
    const logger = { ...ports.logger, error: (message: string) => void errors.push(message) };

    // Act
    const recovered = await recoverInterrupted({ ...ports, artifacts, logger });

    // Assess
    expect(recovered[0]?.action).toBe('blocked');
    expect((await store.getDeployment('t1-1'))?.status).toBe('blocked');
    expect(errors).toEqual(['could not write the record of a recovered deployment']);
  });

  it('expires the pending approval of a deployment interrupted while awaiting approval', async () => {
    // Prepare
    const { ports, store, tracker } = await withInterrupted('awaiting-approval');
    await store.putApproval(anApproval());

    // Act
    await recoverInterrupted(ports);

    // Assess
    expect(await store.getApproval('appr0000000000000001')).toMatchObject({ status: 'expired' });
    expect((await store.getDeployment('t1-1'))?.approval).toMatchObject({
      decision: 'expired',
      channel: 'auto',
    });
    expect(tracker.textsOf('t1')[0]).toContain('approval request has expired');
  });

  it('leaves an approval that was already decided as it was', async () => {
    // Prepare
    const { ports, store } = await withInterrupted('checking');
    await store.putApproval(anApproval({ status: 'held', decidedBy: 'lead@example.com' }));

    // Act
    await recoverInterrupted(ports);

    // Assess
    expect(await store.getApproval('appr0000000000000001')).toMatchObject({
      status: 'held',
      decidedBy: 'lead@example.com',
    });
    expect((await store.getDeployment('t1-1'))?.approval).toBeUndefined();
  });

  it('removes a dead queued deployment from the lock queue so the next one is not stuck behind it', async () => {
    // Prepare
    const fakes = fakePorts();
    await fakes.store.createDeployment(aDeployment({ deploymentId: 'holder', status: 'deployed' }));
    await fakes.store.createDeployment(aDeployment({ status: 'queued', stage: 'WaitForLock' }));
    await fakes.store.acquireLock(KEY, 'holder', LATER, NOW);
    await fakes.store.acquireLock(KEY, 't1-1', LATER, NOW);
    await fakes.store.releaseLock(KEY, 'holder');
    // the dead waiter is first in line: without recovery only it could take the free lock
    expect(await fakes.store.acquireLock(KEY, 'next', LATER, NOW)).toMatchObject({ acquired: false });

    // Act
    await recoverInterrupted(fakes.ports);

    // Assess
    expect(await fakes.store.acquireLock(KEY, 'next', LATER, NOW)).toMatchObject({ acquired: true });
  });

  it('frees every dead holder and waiter before a rollback run asks for the lock', async () => {
    // Prepare
    const fakes = fakePorts();
    await fakes.store.createDeployment(aDeployment({ status: 'deploying', createdAt: NOW }));
    await fakes.store.createDeployment(
      aDeployment({ deploymentId: 'waiting', status: 'queued', createdAt: LATER }),
    );
    await fakes.store.acquireLock(KEY, 't1-1', LATER, NOW);
    await fakes.store.acquireLock(KEY, 'waiting', LATER, NOW);
    const asked: boolean[] = [];
    // a workflow that asks for the lock as soon as the run starts, as a fast local run can
    const workflow: WorkflowControl = {
      sendTaskSuccess: async () => undefined,
      sendTaskFailure: async () => undefined,
      start: async (request: { deploymentId: string }) => {
        asked.push((await fakes.store.acquireLock(KEY, request.deploymentId, LATER, NOW)).acquired);
        return { started: true, executionId: request.deploymentId };
      },
    };

    // Act
    await recoverInterrupted({ ...fakes.ports, workflow });

    // Assess
    expect(asked).toEqual([true]);
  });

  it.each(['deploying', 'verifying', 'monitoring', 'rolling-back'] as const)(
    'starts a rollback run for a deployment interrupted while %s and marks the original rolled back',
    async (status) => {
      // Prepare
      const { ports, store, tracker, workflow } = await withInterrupted(status);
      await store.setMonitorToken('t1-1', 'bake-token');

      // Act
      const recovered = await recoverInterrupted(ports);

      // Assess
      expect(recovered).toEqual([
        { deploymentId: 't1-1', was: status, action: 'rollback-run', runId: 't1-1-rollback' },
      ]);
      expect(workflow.started).toEqual([
        expect.objectContaining({
          deploymentId: 't1-1-rollback',
          rollbackOf: 't1-1',
          taskId: 't1',
          service: 'notifications',
          environment: 'production',
          reason: expect.stringContaining('interrupted by a restart'),
        }),
      ]);
      expect(await store.getDeployment('t1-1')).toMatchObject({
        status: 'rolled-back',
        outcome: 'rolled-back',
        error: { name: INTERRUPTED_ERROR },
        rolledBackBy: { deploymentId: 't1-1-rollback' },
      });
      // the run takes the lock through the workflow: the dead execution no longer holds it
      expect(await store.acquireLock(KEY, 't1-1-rollback', LATER, NOW)).toMatchObject({ acquired: true });
      expect(await store.getMonitorToken('t1-1')).toBeUndefined();
      expect(tracker.textsOf('t1')).toEqual([
        expect.stringContaining('it is being rolled back (run t1-1-rollback)'),
      ]);
      expect((await store.listAudit('t1-1'))[0]).toMatchObject({
        action: INTERRUPTED_AUDIT_ACTION,
        detail: expect.stringContaining(`was ${status}`),
      });
    },
  );

  it('keeps the error that sent a deployment into its rollback when it is rolled back again', async () => {
    // Prepare
    const { ports, store } = await withInterrupted('rolling-back');
    await store.updateDeployment('t1-1', { error: { name: 'AlarmBreachedError', message: 'error rate 5%' } });

    // Act
    await recoverInterrupted(ports);

    // Assess
    expect((await store.getDeployment('t1-1'))?.error).toEqual({
      name: 'AlarmBreachedError',
      message: 'error rate 5%',
    });
  });

  it('runs an interrupted rollback run again under its own id', async () => {
    // Prepare
    const fakes = fakePorts();
    await fakes.store.createDeployment(aDeployment({ status: 'rolled-back' }));
    await fakes.store.createDeployment(
      aDeployment({
        deploymentId: 't1-1-rollback',
        rollbackOf: 't1-1',
        status: 'rolling-back',
        rollback: { reason: 'error rate 5%', steps: [] },
      }),
    );
    await fakes.store.acquireLock(KEY, 't1-1-rollback', LATER, NOW);

    // Act
    const recovered = await recoverInterrupted(fakes.ports);

    // Assess
    expect(recovered).toEqual([
      {
        deploymentId: 't1-1-rollback',
        was: 'rolling-back',
        action: 'rollback-rerun',
        runId: 't1-1-rollback',
      },
    ]);
    expect(fakes.workflow.started).toEqual([
      expect.objectContaining({
        deploymentId: 't1-1-rollback',
        rollbackOf: 't1-1',
        reason: 'error rate 5% (run again: a restart of the local runtime interrupted it while rolling-back)',
      }),
    ]);
    expect((await fakes.store.getDeployment('t1-1-rollback'))?.error?.name).toBe(INTERRUPTED_ERROR);
    expect(fakes.tracker.textsOf('t1')).toEqual([expect.stringContaining('The rollback runs again now')]);
  });

  it('ends a changing deployment as failed with an URGENT comment when auto rollback is off', async () => {
    // Prepare
    const { ports, store, tracker, workflow } = await withInterrupted(
      'deploying',
      CONFIG.replace('monitoring_period: 30m', 'monitoring_period: 30m\n  auto_rollback_enabled: false'),
    );

    // Act
    const recovered = await recoverInterrupted(ports);

    // Assess
    expect(recovered[0]?.action).toBe('failed');
    expect(await store.getDeployment('t1-1')).toMatchObject({ status: 'blocked', outcome: 'failed' });
    expect(workflow.started).toEqual([]);
    expect(tracker.textsOf('t1')[0]).toMatch(/^🚨 URGENT/);
    expect(await store.acquireLock(KEY, 'next', LATER, NOW)).toMatchObject({ acquired: true });
  });

  it('marks rollback-failed, URGENT, a changing deployment whose service left the configuration', async () => {
    // Prepare
    const { ports, store, tracker, workflow } = await withInterrupted('monitoring');
    const other = parseConfig(CONFIG.replace('name: notifications', 'name: billing'), 'test.yaml');

    // Act
    const recovered = await recoverInterrupted({ ...ports, config: other });

    // Assess
    expect(recovered[0]?.action).toBe('rollback-failed');
    expect((await store.getDeployment('t1-1'))?.status).toBe('rollback-failed');
    expect(workflow.started).toEqual([]);
    expect(tracker.textsOf('t1')[0]).toContain('URGENT');
  });

  it.each(['deployed', 'blocked', 'held', 'rolled-back', 'rollback-failed'] as const)(
    'leaves a deployment that finished %s untouched',
    async (status) => {
      // Prepare
      const { ports, store, tracker, workflow } = await withInterrupted(status);
      const before = await store.getDeployment('t1-1');

      // Act
      const recovered = await recoverInterrupted(ports);

      // Assess
      expect(recovered).toEqual([]);
      expect(await store.getDeployment('t1-1')).toEqual(before);
      expect(tracker.comments).toEqual([]);
      expect(workflow.started).toEqual([]);
      expect(await store.listAudit('t1-1')).toEqual([]);
    },
  );

  it('settles the store even when the task cannot be told, and says so in the log', async () => {
    // Prepare
    const { ports, store, tracker } = await withInterrupted('awaiting-approval');
    tracker.failComment = new Error('ClickUp is down');
    const errors: string[] = [];
    const logger = { ...ports.logger, error: (message: string) => void errors.push(message) };

    // Act
    const recovered = await recoverInterrupted({ ...ports, logger });

    // Assess
    expect(recovered[0]?.action).toBe('blocked');
    expect((await store.getDeployment('t1-1'))?.status).toBe('blocked');
    expect(errors).toEqual(['could not tell the task about a recovered deployment']);
  });

  it('recovers the other deployments when one cannot be recovered', async () => {
    // Prepare
    const fakes = fakePorts();
    await fakes.store.createDeployment(aDeployment({ deploymentId: 'broken', status: 'checking' }));
    await fakes.store.createDeployment(aDeployment({ deploymentId: 'fine', status: 'queued' }));
    const store = fakes.store;
    const failing = Object.assign(Object.create(store), {
      updateDeployment: (id: string, patch: object) =>
        id === 'broken' ? Promise.reject(new Error('disk full')) : store.updateDeployment(id, patch),
    });

    // Act
    const recovered = await recoverInterrupted({ ...fakes.ports, store: failing });

    // Assess
    expect(recovered).toEqual([
      { deploymentId: 'broken', was: 'checking', action: 'error', error: 'disk full' },
      { deploymentId: 'fine', was: 'queued', action: 'blocked' },
    ]);
    expect((await store.getDeployment('fine'))?.status).toBe('blocked');
  });

  it('recovers nothing twice: a second start finds every record finished', async () => {
    // Prepare
    const { ports, workflow, tracker } = await withInterrupted('deploying');
    await recoverInterrupted(ports);

    // Act
    const again = await recoverInterrupted(ports);

    // Assess
    expect(again).toEqual([]);
    expect(workflow.started).toHaveLength(1);
    expect(tracker.comments).toHaveLength(1);
  });
});

describe('claimDataDir', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devops-agent-claim-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a data folder a running process holds, naming it and changing nothing', () => {
    // Prepare
    const file = join(dir, 'runtime.pid');
    writeFileSync(file, String(process.pid));

    // Act
    const claiming = () => claimDataDir(dir);

    // Assess
    expect(claiming).toThrow(DataDirInUseError);
    expect(claiming).toThrow(`another devops-agent runtime (process ${process.pid}) is using ${dir}`);
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
  });

  it('takes over the folder of a process that no longer runs (a crash leaves its pid file)', () => {
    // Prepare
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(dir, 'runtime.pid'), String(dead));

    // Act
    const claim = claimDataDir(dir);

    // Assess
    expect(readFileSync(join(dir, 'runtime.pid'), 'utf8')).toBe(String(process.pid));
    claim.release();
    expect(existsSync(join(dir, 'runtime.pid'))).toBe(false);
  });

  it('releases only its own claim', () => {
    // Prepare
    const claim = claimDataDir(dir);
    writeFileSync(join(dir, 'runtime.pid'), '1');

    // Act
    claim.release();

    // Assess
    expect(readFileSync(join(dir, 'runtime.pid'), 'utf8')).toBe('1');
  });
});
