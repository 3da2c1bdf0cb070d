import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { loadConfigFile } from '../../../functions/shared/config/load.js';
import { lockKey } from '../../../functions/shared/deployment.js';
import type { DeploymentRecord } from '../../../functions/shared/ports/deployment-store.js';
import { LocalTracker } from '../../../local/adapters/local-tracker.js';
import { OutboxNotifier } from '../../../local/adapters/outbox-notifier.js';
import { openDatabase } from '../../../local/adapters/sqlite-database.js';
import { SqliteDeploymentStore } from '../../../local/adapters/sqlite-deployment-store.js';
import { approvalLinksIn, decideThroughPage } from '../../../local/approve-link.js';
import { demoTaskFields } from '../../../local/demo.js';
import {
  BLOCKED_REASON,
  DataDirInUseError,
  INTERRUPTED_AUDIT_ACTION,
  INTERRUPTED_ERROR,
} from '../../../local/recovery.js';
import { embeddedTracker, startLocalRuntime } from '../../../local/runtime.js';
import { silentLogger } from '../../fixtures/fakes.js';
import {
  databaseFile,
  type RuntimeProcess,
  readDatabase,
  startRuntimeProcess,
  until,
} from '../../fixtures/runtime-process.js';

/** A `node -e` script as a step's argument vector (the runner starts `node` as the agent's own Node). */
const node = (script: string, ...args: string[]) => ['node', '-e', script, ...args];

/** One service whose `Write release` step writes `current.txt` (and puts back what it read), optionally a slow step. */
const configText = (options: { approval: boolean; slowStep: boolean; slowUndo?: boolean }) => {
  const steps = [
    {
      name: 'Write release',
      kind: 'command',
      record: node("process.stdout.write(require('fs').readFileSync('current.txt','utf8'))"),
      run: node("require('fs').writeFileSync('current.txt', process.argv[1])", '{{release}}'),
      undo: options.slowUndo
        ? // counts its runs in undo-count; the first two hang after the write, so a kill lands mid-undo
          node(
            "const fs = require('fs'); fs.writeFileSync('current.txt', process.argv[1]); const n = Number(fs.existsSync('undo-count') ? fs.readFileSync('undo-count', 'utf8') : 0) + 1; fs.writeFileSync('undo-count', String(n)); if (n < 3) setTimeout(() => {}, 60000)",
            '{{previous}}',
          )
        : node("require('fs').writeFileSync('current.txt', process.argv[1])", '{{previous}}'),
      timeout: '120s',
    },
    ...(options.slowUndo
      ? [{ name: 'Failing step', kind: 'command', run: node('process.exit(3)'), timeout: '60s' }]
      : []),
    ...(options.slowStep
      ? [
          {
            name: 'Slow step',
            kind: 'command',
            run: node("require('fs').writeFileSync('slow-started', ''); setTimeout(() => {}, 60000)"),
            undo: node("require('fs').writeFileSync('slow-undone', '')"),
            timeout: '120s',
          },
        ]
      : []),
  ];
  return JSON.stringify({
    devops_agent: {
      require_human_approval: options.approval,
      monitoring_period: '10m',
      auto_rollback_enabled: true,
    },
    services: [
      {
        name: 'notifications',
        environment: 'production',
        tracker: { list_id: 'crash-list' },
        approvers: [{ email: 'demo@example.com' }],
        steps,
        monitoring: { report_interval: '5m', check_interval: '60s' },
      },
    ],
  });
};

const KEY = lockKey('notifications', 'production');
const ROOT = resolve(import.meta.dirname, '../../..');

const statusOf = (dataDir: string, id: string) =>
  readDatabase(dataDir, (db) => {
    const row = db.prepare('SELECT record FROM deployments WHERE deployment_id = ?').get(id) as
      | { record: string }
      | undefined;
    return row && (JSON.parse(row.record) as DeploymentRecord);
  });

/** What the killed process left in the file, read before anything opens it for writing again. */
const fileAfterKill = (dataDir: string) => {
  const db = new DatabaseSync(databaseFile(dataDir), { readOnly: true });
  try {
    const mode = db.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
    const integrity = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
    // every record column must still be one whole JSON document: none half-written
    const records = (db.prepare('SELECT record FROM deployments').all() as { record: string }[]).map(
      (r) => JSON.parse(r.record) as DeploymentRecord,
    );
    return { mode: mode.journal_mode, integrity: integrity.map((r) => r.integrity_check), records };
  } finally {
    db.close();
  }
};

/** The store and the tracker of a stopped runtime's folder, opened by the test itself. */
const openStopped = (dataDir: string) => {
  const db = openDatabase(databaseFile(dataDir));
  return { db, store: new SqliteDeploymentStore(db), tracker: new LocalTracker(db) };
};

describe('crash recovery of the local runtime', () => {
  let dir: string;
  let dataDir: string;
  let baseDir: string;
  let config: string;
  const running: RuntimeProcess[] = [];

  const start = async () => {
    const runtime = await startRuntimeProcess({ config, dataDir, baseDir });
    running.push(runtime);
    return runtime;
  };

  /** Starts one deployment of release v2 in a fresh runtime; its id. */
  const deployV2 = async (runtime: RuntimeProcess) => {
    const before = runtime.lines.length;
    runtime.send({ cmd: 'deploy', release: 'v2' });
    const line = await runtime.waitForLine(
      (l) => 'task' in l && runtime.lines.indexOf(l) >= before,
      'the task to be picked up',
    );
    const [id] = line.started as string[];
    if (!id) throw new Error(`the polling pickup started nothing: ${JSON.stringify(line)}`);
    return id;
  };

  const setUp = (options: { approval: boolean; slowStep: boolean; slowUndo?: boolean }) => {
    // JSON is YAML: the loader reads it as the YAML file a user would write
    config = join(dir, 'devops-agent.yaml');
    writeFileSync(config, configText(options));
    writeFileSync(join(baseDir, 'current.txt'), 'v1');
  };

  /**
   * SIGKILLs the runtime, reads its SQLite file as the kill left it (WAL mode, intact), starts the runtime
   * again on the same folder and waits until the restart's rollback run of `id` has rolled back.
   */
  const killAndRollBack = async (first: RuntimeProcess, id: string) => {
    await first.kill();
    const after = fileAfterKill(dataDir);
    expect(after.mode).toBe('wal');
    expect(after.integrity).toEqual(['ok']);
    const second = await start();
    await until(
      () => (statusOf(dataDir, `${id}-rollback`)?.status === 'rolled-back' ? true : undefined),
      'the rollback run to finish',
    );
    expect(await second.stop()).toBe(0);
    return after;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devops-agent-crash-'));
    dataDir = join(dir, 'data');
    baseDir = join(dir, 'service');
    mkdirSync(baseDir);
  });

  afterEach(async () => {
    for (const runtime of running.splice(0)) await runtime.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends deployments killed while awaiting approval or queued as blocked, expires the approval, frees the lock and its queue, and refuses a second runtime on the live folder', async () => {
    // Prepare
    setUp({ approval: true, slowStep: false });
    const first = await start();
    const id = await deployV2(first);
    await until(
      () =>
        readDatabase(dataDir, (db) =>
          db.prepare("SELECT 1 AS ok FROM approvals WHERE deployment_id = ? AND status = 'pending'").get(id),
        ),
      'the approval request',
    );
    await until(
      () => (statusOf(dataDir, id)?.status === 'awaiting-approval' ? true : undefined),
      'awaiting-approval',
    );
    const queuedId = await deployV2(first);
    await until(
      () => (statusOf(dataDir, queuedId)?.stage === 'WaitForLock' ? true : undefined),
      'the second deployment to queue for the lock',
    );
    // the outbox query runs when list() is called, before the handle closes
    const mails = await readDatabase(dataDir, (db) => new OutboxNotifier(db, () => undefined).list());
    const [link] = mails.flatMap((m) => approvalLinksIn(m));
    if (!link) throw new Error('no approval link was mailed');
    // a second runtime started by mistake on the live folder must not take its deployments for dead ones
    const intruder = startLocalRuntime({
      config: loadConfigFile(config),
      dataDir,
      baseDir,
      sourceControlFixture: join(ROOT, 'examples/demo/fixtures/source-control.json'),
      port: 0,
      logger: silentLogger,
      timers: false,
    });
    await expect(intruder).rejects.toThrow(DataDirInUseError);
    expect(statusOf(dataDir, id)?.status).toBe('awaiting-approval');

    // Act
    await first.kill();
    const after = fileAfterKill(dataDir);
    const second = await start();
    const nextId = await deployV2(second);
    await until(
      () => (statusOf(dataDir, nextId)?.status === 'awaiting-approval' ? true : undefined),
      'the next deployment to take the lock and ask for approval',
    );
    const lateDecision = await decideThroughPage(link.replace(/^http:\/\/[^/]+/, second.url), 'approve');
    expect(await second.stop()).toBe(0);

    // Assess
    expect(after.mode).toBe('wal');
    expect(after.integrity).toEqual(['ok']);
    expect(after.records.find((r) => r.deploymentId === id)?.status).toBe('awaiting-approval');
    expect(after.records.find((r) => r.deploymentId === queuedId)?.status).toBe('queued');
    // the link mailed before the crash shows the closed approval and offers no form
    expect(lateDecision.html).toContain('nothing more to decide');
    expect(lateDecision.html).not.toContain('name="csrf"');
    const { db, store, tracker } = openStopped(dataDir);
    try {
      const record = await store.getDeployment(id);
      expect(record).toMatchObject({
        status: 'blocked',
        outcome: 'blocked',
        error: { name: INTERRUPTED_ERROR, message: BLOCKED_REASON },
        approval: { decision: 'expired' },
      });
      expect(record?.recordKey).toBeDefined();
      expect(await store.getDeployment(queuedId)).toMatchObject({
        status: 'blocked',
        error: { name: INTERRUPTED_ERROR },
      });
      expect((await store.findApprovalByDeployment(id))?.status).toBe('expired');
      const comments = (await tracker.getComments(record?.taskId ?? '')).map((c) => c.text);
      expect(comments.at(-1)).toContain(BLOCKED_REASON);
      expect((await store.listAudit(id)).map((a) => a.action)).toContain(INTERRUPTED_AUDIT_ACTION);
      expect(readFileSync(join(baseDir, 'current.txt'), 'utf8')).toBe('v1');
    } finally {
      db.close();
    }
  });

  it('rolls back a deployment killed in the middle of a step, the cut-off step included', async () => {
    // Prepare
    setUp({ approval: false, slowStep: true });
    const first = await start();
    const id = await deployV2(first);
    await until(
      () => (existsSync(join(baseDir, 'slow-started')) ? true : undefined),
      'the slow step to start',
    );

    // Act
    const after = await killAndRollBack(first, id);

    // Assess
    const killed = after.records.find((r) => r.deploymentId === id);
    expect(killed?.status).toBe('deploying');
    expect(killed?.steps.map((s) => [s.name, s.status])).toEqual([
      ['Write release', 'succeeded'],
      ['Slow step', 'running'],
    ]);
    expect(readFileSync(join(baseDir, 'current.txt'), 'utf8')).toBe('v1');
    expect(existsSync(join(baseDir, 'slow-undone'))).toBe(true);
    const { db, store, tracker } = openStopped(dataDir);
    try {
      expect(await store.getDeployment(id)).toMatchObject({
        status: 'rolled-back',
        error: { name: INTERRUPTED_ERROR },
        rolledBackBy: { deploymentId: `${id}-rollback` },
      });
      const run = await store.getDeployment(`${id}-rollback`);
      expect(run?.rollbackOf).toBe(id);
      expect(run?.rollback?.steps.map((s) => [s.name, s.status])).toEqual([
        ['Slow step', 'rolled-back'],
        ['Write release', 'rolled-back'],
      ]);
      const comments = (await tracker.getComments(run?.taskId ?? '')).map((c) => c.text);
      expect(comments).toContainEqual(
        expect.stringContaining(`interrupted deployment ${id} while deploying`),
      );
      expect(comments).toContainEqual(expect.stringContaining(`ROLLED BACK: ${id} was undone on request`));
      expect(
        await store.acquireLock(KEY, 'probe', '2099-01-01T00:00:00.000Z', new Date().toISOString()),
      ).toMatchObject({ acquired: true });
    } finally {
      db.close();
    }
  });

  it('rolls back a deployment killed during the bake and ends its bake', async () => {
    // Prepare
    setUp({ approval: false, slowStep: false });
    const first = await start();
    const id = await deployV2(first);
    await until(
      () =>
        readDatabase(dataDir, (db) =>
          db.prepare('SELECT 1 AS ok FROM monitor_tokens WHERE deployment_id = ?').get(id),
        ),
      'the bake to wait for its first interval',
    );

    // Act
    const after = await killAndRollBack(first, id);

    // Assess
    expect(after.records.find((r) => r.deploymentId === id)?.status).toBe('monitoring');
    expect(readFileSync(join(baseDir, 'current.txt'), 'utf8')).toBe('v1');
    const { db, store, tracker } = openStopped(dataDir);
    try {
      expect(await store.getDeployment(id)).toMatchObject({
        status: 'rolled-back',
        rolledBackBy: { deploymentId: `${id}-rollback` },
      });
      expect(await store.getMonitorToken(id)).toBeUndefined();
      const run = await store.getDeployment(`${id}-rollback`);
      expect(run?.rollback?.steps.map((s) => [s.name, s.status])).toEqual([['Write release', 'rolled-back']]);
      const comments = (await tracker.getComments(run?.taskId ?? '')).map((c) => c.text);
      expect(comments).toContainEqual(
        expect.stringContaining(`interrupted deployment ${id} while monitoring`),
      );
      expect(
        await store.acquireLock(KEY, 'probe', '2099-01-01T00:00:00.000Z', new Date().toISOString()),
      ).toMatchObject({ acquired: true });
    } finally {
      db.close();
    }
  });

  it('rolls back again a deployment killed during its rollback, and reruns a rollback run killed in turn', async () => {
    // Prepare
    setUp({ approval: false, slowStep: false, slowUndo: true });
    const undoRuns = () => {
      const file = join(baseDir, 'undo-count');
      return existsSync(file) ? Number(readFileSync(file, 'utf8')) : 0;
    };
    const first = await start();
    const id = await deployV2(first);
    await until(() => (undoRuns() === 1 ? true : undefined), 'the automatic rollback to start undoing');
    await first.kill();
    const afterFirstKill = fileAfterKill(dataDir);
    const second = await start();
    await until(() => (undoRuns() === 2 ? true : undefined), 'the rollback run to start undoing');

    // Act
    await second.kill();
    const afterSecondKill = fileAfterKill(dataDir);
    const third = await start();
    await until(
      () => (statusOf(dataDir, `${id}-rollback`)?.status === 'rolled-back' ? true : undefined),
      'the rerun rollback to finish',
    );
    expect(await third.stop()).toBe(0);

    // Assess
    for (const after of [afterFirstKill, afterSecondKill]) {
      expect(after.mode).toBe('wal');
      expect(after.integrity).toEqual(['ok']);
    }
    expect(afterFirstKill.records.find((r) => r.deploymentId === id)?.status).toBe('rolling-back');
    expect(afterSecondKill.records.find((r) => r.deploymentId === `${id}-rollback`)?.status).toBe(
      'rolling-back',
    );
    expect(undoRuns()).toBe(3);
    expect(readFileSync(join(baseDir, 'current.txt'), 'utf8')).toBe('v1');
    const { db, store, tracker } = openStopped(dataDir);
    try {
      expect(await store.getDeployment(id)).toMatchObject({
        status: 'rolled-back',
        // the failure that started the rollback stays the reason on record
        error: { name: 'StepFailedError' },
        rolledBackBy: { deploymentId: `${id}-rollback` },
      });
      const run = await store.getDeployment(`${id}-rollback`);
      expect(run?.rollback?.steps.map((s) => [s.name, s.status])).toEqual([
        ['Failing step', 'kept'],
        ['Write release', 'rolled-back'],
      ]);
      expect(run?.rollback?.reason).toContain('run again: a restart of the local runtime interrupted it');
      const comments = (await tracker.getComments(run?.taskId ?? '')).map((c) => c.text);
      expect(comments).toContainEqual(
        expect.stringContaining(`interrupted deployment ${id} while rolling-back`),
      );
      expect(comments).toContainEqual(
        expect.stringContaining(`interrupted the rollback ${id}-rollback of ${id} (it was rolling-back)`),
      );
      expect((await store.listAudit(`${id}-rollback`)).map((a) => a.action)).toContain(
        INTERRUPTED_AUDIT_ACTION,
      );
      expect(
        await store.acquireLock(KEY, 'probe', '2099-01-01T00:00:00.000Z', new Date().toISOString()),
      ).toMatchObject({ acquired: true });
    } finally {
      db.close();
    }
  });

  it('recovers a deployment left by a clean stop (Ctrl-C) like a crash, and the polling pickup does not restart it', async () => {
    // Prepare
    setUp({ approval: true, slowStep: false });
    const options = {
      config: loadConfigFile(config),
      dataDir,
      baseDir,
      sourceControlFixture: join(ROOT, 'examples/demo/fixtures/source-control.json'),
      port: 0,
      logger: silentLogger,
      timers: false,
    };
    const first = await startLocalRuntime(options);
    const task = await embeddedTracker(first).createTask({
      name: 'User Notifications',
      listId: 'crash-list',
      status: 'Ready to Deploy',
      customFields: demoTaskFields('v2'),
    });
    const [id] = (await first.poll()).started;
    await until(
      () => (statusOf(dataDir, id ?? '')?.status === 'awaiting-approval' ? true : undefined),
      'awaiting-approval',
    );
    await first.stop();

    // Act
    const second = await startLocalRuntime(options);
    const record = await second.store.getDeployment(id ?? '');
    const comments = (await second.tracker.getComments(task.id)).map((c) => c.text);
    // the task is still in the input status: the polling pickup must leave the decision to a person
    const polled = await second.poll();
    await second.stop();

    // Assess
    expect(record).toMatchObject({ status: 'blocked', error: { name: INTERRUPTED_ERROR } });
    expect(comments.at(-1)).toContain(BLOCKED_REASON);
    expect(polled).toEqual({ started: [], errors: [] });
  });

  it('keeps the file in WAL mode across a reopen, while an in-memory database needs none', () => {
    // Prepare
    const file = join(dir, 'wal.db');

    // Act
    openDatabase(file).close();
    const memory = openDatabase(':memory:');
    const raw = new DatabaseSync(file, { readOnly: true });

    // Assess
    try {
      expect(raw.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
      expect(memory.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'memory' });
    } finally {
      raw.close();
      memory.close();
    }
  });
});
