import { ClickUpTracker } from '../functions/shared/adapters/clickup-tracker.js';
import { GitHubSourceControl } from '../functions/shared/adapters/github-source-control.js';
import type { Config } from '../functions/shared/config/schema.js';
import { errorMessage } from '../functions/shared/errors.js';
import type { previewPlan } from '../functions/shared/plan-preview.js';
import { systemClock } from '../functions/shared/ports/clock.js';
import type { Logger, Ports } from '../functions/shared/ports/index.js';
import { FixtureSourceControl } from '../local/adapters/fixture-source-control.js';
import { LocalTracker } from '../local/adapters/local-tracker.js';
import {
  type Database,
  openDatabase,
  openDatabaseForReading,
  SchemaVersionError,
} from '../local/adapters/sqlite-database.js';
import { SqliteDeploymentStore } from '../local/adapters/sqlite-deployment-store.js';
import type { LocalEnv } from '../local/env.js';
import { localAlarms, localRunners } from '../local/local-ports.js';
import { CliError } from './io.js';

/** What `previewPlan` reads, plus a logger for when it starts to need one. */
export type PlanPorts = Parameters<typeof previewPlan>[1] & Pick<Ports, 'logger'>;

export interface PlanPortsOptions {
  config: Config;
  env: LocalEnv;
  /** the embedded tracker's SQLite file; read only when there is no ClickUp token. The caller checks it exists. */
  trackerFile: string;
  sourceControlFixture: string;
  /** where `command` steps would run: only whether a runner exists matters to the gates */
  baseDir: string;
  logger: Logger;
}

export interface OpenedPlanPorts {
  ports: PlanPorts;
  /** the tracker the task is read from, as a message names it: `ClickUp` or `the embedded tracker (<file>)` */
  trackerName: string;
  close(): void;
}

/**
 * The dry run's store: what the gates write (the preview's record, audited overrides) goes to a throwaway
 * in-memory database, while the deployment history the plan's risk counts (recent rollbacks) is read from
 * the local runtime's file, so the preview's risk is the one a deployment would show.
 */
class PreviewStore extends SqliteDeploymentStore {
  constructor(
    scratch: Database,
    private readonly history: SqliteDeploymentStore | undefined,
  ) {
    super(scratch, systemClock);
  }

  override listDeployments(
    filter?: Parameters<SqliteDeploymentStore['listDeployments']>[0],
  ): ReturnType<SqliteDeploymentStore['listDeployments']> {
    return this.history ? this.history.listDeployments(filter) : super.listDeployments(filter);
  }
}

/** The embedded tracker's existing file, for reading only (nothing migrated, created or written). */
const openForReading = (file: string): Database => {
  try {
    return openDatabaseForReading(file);
  } catch (error) {
    if (error instanceof SchemaVersionError)
      throw new CliError(
        error.found === 0
          ? `${file} is not a devops-agent database; pass the --data-dir devops-agent local runs with`
          : error.found < error.expected
            ? `${file} was written by an older devops-agent; start devops-agent local with this --data-dir once to bring it up to date, then run plan again`
            : `${file} was ${error.message}; upgrade devops-agent`,
        1,
        { cause: error },
      );
    throw new CliError(
      `cannot read the embedded tracker at ${file} (${errorMessage(error)}); pass the --data-dir devops-agent local runs with`,
      1,
      { cause: error },
    );
  }
};

/**
 * The ports of a dry run: the task from ClickUp (with `CLICKUP_API_TOKEN`) or the embedded tracker's file,
 * pull requests and CI from GitHub (with `GITHUB_TOKEN`) or the fixture, alarms and runners as the local
 * runtime has them, and a store that keeps what the gates write in memory only. Starts no server and no
 * workflow; `close()` releases the databases.
 */
export const openPlanPorts = (options: PlanPortsOptions): OpenedPlanPorts => {
  const { env } = options;
  const scratch = openDatabase(':memory:');
  let trackerDb: Database | undefined;
  try {
    if (!env.CLICKUP_API_TOKEN) trackerDb = openForReading(options.trackerFile);
  } catch (error) {
    scratch.close();
    throw error;
  }
  const tracker = env.CLICKUP_API_TOKEN
    ? new ClickUpTracker({
        token: env.CLICKUP_API_TOKEN,
        ...(env.CLICKUP_API_URL ? { baseUrl: env.CLICKUP_API_URL } : {}),
      })
    : new LocalTracker(trackerDb as Database);
  const clock = systemClock;
  const ports: PlanPorts = {
    config: options.config,
    tracker,
    sourceControl: env.GITHUB_TOKEN
      ? new GitHubSourceControl({
          token: env.GITHUB_TOKEN,
          ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
        })
      : new FixtureSourceControl(options.sourceControlFixture),
    alarms: localAlarms(options.config, clock),
    // the dry run runs no check, so the checks get no credentials; the endpoints make the same step kinds
    // runnable as in `local`, and let the plan read what a site serves now (and the running image)
    ...localRunners(options.baseDir, {
      DEVOPS_AGENT_S3_ENDPOINT: env.DEVOPS_AGENT_S3_ENDPOINT,
      DEVOPS_AGENT_CLOUDFRONT_ENDPOINT: env.DEVOPS_AGENT_CLOUDFRONT_ENDPOINT,
      KUBECONFIG: env.KUBECONFIG,
    }),
    clock,
    // with ClickUp the history is where the deployments ran (DynamoDB on AWS), out of reach here
    store: new PreviewStore(scratch, trackerDb ? new SqliteDeploymentStore(trackerDb, clock) : undefined),
    logger: options.logger,
  };
  return {
    ports,
    trackerName: env.CLICKUP_API_TOKEN ? 'ClickUp' : `the embedded tracker (${options.trackerFile})`,
    close: () => {
      trackerDb?.close();
      scratch.close();
    },
  };
};
