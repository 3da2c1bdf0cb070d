import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sweepMonitors } from '../functions/monitor-sweep/monitor-sweep.js';
import { pollTasks } from '../functions/poll-tasks/poll-tasks.js';
import { settingsFor } from '../functions/shared/config/resolve.js';
import type { Config } from '../functions/shared/config/schema.js';
import { errorMessage } from '../functions/shared/errors.js';
import { type Clock, systemClock } from '../functions/shared/ports/clock.js';
import type { DeploymentRecord } from '../functions/shared/ports/deployment-store.js';
import type { Logger, Ports } from '../functions/shared/ports/index.js';
import type { SourceControl } from '../functions/shared/ports/source-control.js';
import type { Tracker, TrackerTask } from '../functions/shared/ports/tracker.js';
import { startDeployment } from '../functions/shared/start-deployment.js';
import { fileApprovalKeys } from './adapters/file-approval-keys.js';
import { FixtureSourceControl } from './adapters/fixture-source-control.js';
import { LocalArtifactStore } from './adapters/local-artifact-store.js';
import { LocalTracker } from './adapters/local-tracker.js';
import { OutboxNotifier } from './adapters/outbox-notifier.js';
import { openDatabase } from './adapters/sqlite-database.js';
import { SqliteDeploymentStore } from './adapters/sqlite-deployment-store.js';
import { bakeChart } from './bake-chart.js';
import { localAlarms, localRunners } from './local-ports.js';
import { claimDataDir, recoverInterrupted } from './recovery.js';
import { type EventLog, type LocalExecution, LocalWorkflow } from './runner.js';
import { type ConsoleSources, startLocalServer } from './server.js';

/** The synthesized definition every local run executes (`npm run synth` writes it; a test keeps it fresh). */
export const loadDefinition = (): Record<string, unknown> =>
  JSON.parse(
    readFileSync(resolve(import.meta.dirname, '..', 'statemachine/deploy-pipeline.asl.json'), 'utf8'),
  ) as Record<string, unknown>;

export interface LocalRuntimeOptions {
  config: Config;
  /** the definition to execute; default the synthesized one (`loadDefinition`) */
  asl?: Record<string, unknown>;
  /** folder for the SQLite file and the documents; default `.devops-agent` */
  dataDir?: string;
  /** where `command` steps run and relative paths resolve; default the working directory */
  baseDir?: string;
  sourceControlFixture: string;
  port?: number;
  webhookSecret?: string | readonly string[];
  logger: Logger;
  clock?: Clock;
  /** delay of the definition's retries (ms); the demo keeps them short */
  retryIntervalMs?: number;
  lockRetryMs?: number;
  onEvent?: (execution: LocalExecution, event: EventLog) => void;
  /** start the polling pickup and the bake sweep timers (off in tests that drive them by hand) */
  timers?: boolean;
  /** a real tracker (ClickUp); without one the embedded tracker is used */
  tracker?: Tracker;
  /** real source control (GitHub); without it the fixture file is read */
  sourceControl?: SourceControl;
  /** approval signing keys (keyring JSON); without them `<dataDir>/approval-keys.json`, created on first use */
  approvalKeys?: string;
  /** the process environment checks read their credentials from by name (`url_env`, `auth.secret`); default none */
  variables?: Readonly<Record<string, string | undefined>>;
}

export interface LocalRuntime {
  ports: Ports;
  workflow: LocalWorkflow;
  /** the tracker the cores use: ClickUp when configured, else `embedded` */
  tracker: Tracker;
  /** the embedded tracker, when no real one is configured */
  embedded?: LocalTracker;
  outbox: OutboxNotifier;
  store: SqliteDeploymentStore;
  url: string;
  /** one polling pickup pass: the deployments it started, and the tasks it could not start */
  poll(): Promise<{ started: string[]; errors: string[] }>;
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * devops-agent on one machine: the synthesized workflow in-process, SQLite as the store and the embedded
 * tracker, an outbox for mail, the local monitor as alarm source, and the HTTP server for webhook,
 * approval pages and console. Task status changes to the input status start a deployment, as the
 * ClickUp webhook does; the polling pickup and the bake sweep run on timers.
 */
/** With a real tracker the console lists the tasks devops-agent has deployed, newest first. */
const tasksOfDeployments = async (ports: Ports): Promise<TrackerTask[]> => {
  const ids = [...new Set((await ports.store.listDeployments()).reverse().map((d) => d.taskId))].slice(0, 20);
  const tasks = await Promise.allSettled(ids.map((id) => ports.tracker.getTask(id)));
  return tasks.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : []));
};

/** The embedded tracker of a runtime started without a real one (the demo, tests). */
export const embeddedTracker = (runtime: LocalRuntime): LocalTracker => {
  if (!runtime.embedded) throw new Error('this runtime uses a real tracker; there is no embedded one');
  return runtime.embedded;
};

export const startLocalRuntime = async (options: LocalRuntimeOptions): Promise<LocalRuntime> => {
  const dataDir = resolve(options.dataDir ?? '.devops-agent');
  mkdirSync(dataDir, { recursive: true });
  // one runtime per data folder: recovery ends whatever it finds unfinished (docs/restarts.md)
  const claim = claimDataDir(dataDir);
  try {
    return await startClaimed(options, dataDir, claim);
  } catch (error) {
    claim.release();
    throw error;
  }
};

const startClaimed = async (
  options: LocalRuntimeOptions,
  dataDir: string,
  claim: { release(): void },
): Promise<LocalRuntime> => {
  const db = openDatabase(join(dataDir, 'devops-agent.db'));
  const clock = options.clock ?? systemClock;
  const store = new SqliteDeploymentStore(db, clock);
  const embedded = options.tracker
    ? undefined
    : new LocalTracker(db, {
        clock,
        onListenerError: (error) =>
          options.logger.error('a tracker listener failed', { error: errorMessage(error) }),
      });
  const tracker: Tracker = options.tracker ?? (embedded as LocalTracker);
  const outbox = new OutboxNotifier(db, (line) => options.logger.info(line), clock);
  const workflow = new LocalWorkflow(options.asl ?? loadDefinition(), {
    retryIntervalMs: options.retryIntervalMs,
    lockRetryMs: options.lockRetryMs,
    onEvent: options.onEvent,
  });
  let baseUrl = 'http://127.0.0.1';
  const monitor = localAlarms(options.config, clock);
  const ports: Ports = {
    config: options.config,
    tracker,
    store,
    notifier: outbox,
    artifacts: new LocalArtifactStore(join(dataDir, 'artifacts'), () => baseUrl),
    sourceControl: options.sourceControl ?? new FixtureSourceControl(options.sourceControlFixture),
    alarms: monitor,
    ...localRunners(options.baseDir ?? process.cwd(), options.variables ?? {}),
    workflow,
    approvalKeys: fileApprovalKeys(join(dataDir, 'approval-keys.json'), options.approvalKeys),
    clock,
    logger: options.logger,
    links: {
      approval: (id, token) => `${baseUrl}/approvals/${id}?t=${encodeURIComponent(token)}`,
      deployment: (id) => `${baseUrl}/#${id}`,
    },
  };
  workflow.bind(ports);
  // executions live in this process: whatever a killed one left unfinished is settled before anything
  // new can start (docs/restarts.md)
  const recovered = await recoverInterrupted(ports);
  if (recovered.length > 0) options.logger.warn('recovered interrupted deployments', { recovered });

  const sources: ConsoleSources = {
    tasks: () => (embedded ? embedded.listAll() : tasksOfDeployments(ports)),
    comments: (taskId) => tracker.getComments(taskId),
    outbox: () => outbox.list(),
    executions: () => workflow.list(),
    bake: (d: DeploymentRecord) => {
      const monitoring = d.monitoring;
      if (!monitoring) return undefined;
      const service = options.config.services.find(
        (s) => s.name === d.service && s.environment === d.environment,
      );
      if (!service) return undefined;
      const { triggers } = settingsFor(options.config, service);
      return bakeChart(
        d,
        monitor.series(d.service, d.environment, monitoring.startedAt),
        triggers,
        clock.now(),
      );
    },
  };
  const server = await startLocalServer({
    ports,
    sources,
    port: options.port,
    webhookSecret: options.webhookSecret,
  });
  baseUrl = server.url;

  const inputStatuses = new Set(
    options.config.services.map((s) =>
      (s.tracker.input_status ?? options.config.devops_agent.input_status).toLowerCase(),
    ),
  );
  // The embedded tracker tells us about status changes as ClickUp's webhook would; ClickUp itself calls
  // the server's webhook route, and the polling pickup catches what a webhook missed.
  embedded?.onChange((change) => {
    if (change.type !== 'status' || !inputStatuses.has(change.status.toLowerCase())) return;
    startDeployment({ taskId: change.taskId, trigger: 'status', requireInputStatus: true }, ports).catch(
      (error: unknown) =>
        options.logger.error('could not start a deployment', {
          taskId: change.taskId,
          error: errorMessage(error),
        }),
    );
  });

  const poll = () => pollTasks(ports);
  // One sweep at a time: with many deployments baking a sweep can outlast the interval, and two sweeps
  // reading the same bake token would race to answer it.
  let sweeping: Promise<void> | undefined;
  const sweep = async () => {
    if (sweeping) return sweeping;
    sweeping = sweepMonitors(ports)
      .then(() => undefined)
      .finally(() => {
        sweeping = undefined;
      });
    return sweeping;
  };
  const timers: NodeJS.Timeout[] = [];
  if (options.timers ?? true) {
    const guard = (name: string, fn: () => Promise<unknown>) => () => {
      fn().catch((error: unknown) => options.logger.error(`${name} failed`, { error: errorMessage(error) }));
    };
    const checkEvery = Math.min(...options.config.services.map((s) => s.monitoring.check_interval));
    timers.push(setInterval(guard('poll', poll), options.config.devops_agent.poll_interval * 1000));
    timers.push(setInterval(guard('sweep', sweep), Math.max(0.5, checkEvery) * 1000));
  }

  return {
    ports,
    workflow,
    tracker,
    ...(embedded ? { embedded } : {}),
    outbox,
    store,
    url: server.url,
    poll,
    sweep,
    stop: async () => {
      for (const t of timers) clearInterval(t);
      await workflow.abortAll();
      await server.close();
      db.close();
      claim.release();
    },
  };
};
