import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { ClickUpRequestError } from '../functions/shared/adapters/clickup-client.js';
import { loadConfigFile } from '../functions/shared/config/load.js';
import {
  BadRequestError,
  errorMessage,
  NotFoundError,
  TransientDependencyError,
} from '../functions/shared/errors.js';
import { type PlanPreview, previewPlan } from '../functions/shared/plan-preview.js';
import type { GateResult } from '../functions/shared/ports/deployment-store.js';
import type { Logger } from '../functions/shared/ports/index.js';
import { readLocalEnv } from '../local/env.js';
import { CliError, type CliIo, parseCommandLine, RUNTIME_OPTIONS, UsageError } from './io.js';

const COMMAND = 'devops-agent plan';
/** the file `devops-agent local` keeps its tasks and deployments in, inside its --data-dir */
const DATABASE_FILE = 'devops-agent.db';

/** Exit code of a plan that was printed but would not reach the approval: scripts tell it from a failure. */
export const NOT_READY = 3;

export const PLAN_HELP = `${COMMAND} <task-id> [options]

Dry run: reads the task, runs the quality gates and prints the deployment plan its approver would see,
then one line saying whether a deployment now would reach the approval. It changes nothing: no comment, no
status change, no deployment, no lock; the record the gates write goes to a throwaway in-memory store. Like
a deployment's plan it runs each command step's record command (which only reads, from the working
directory) to show what the step would replace.

The task comes from ClickUp when CLICKUP_API_TOKEN is set, else from the embedded tracker of
devops-agent local (the SQLite file in --data-dir, read only, also for the recent rollbacks the risk
counts; start devops-agent local or npm start first).
With GITHUB_TOKEN the CI and PR gates ask GitHub; without it they read the source-control fixture. The alarm
gate probes the services' health_url and metrics_url, as devops-agent local does.
To check a task against the deployed stack, pass the configuration the stack was synthesized from
(cdk deploy -c devops-agent:config=FILE) with --config, and set CLICKUP_API_TOKEN and GITHUB_TOKEN.

  --config FILE                   configuration (default devops-agent.yaml)
  --json                          print {ready, hash, risk, gates, plan, markdown} as JSON instead
  --data-dir DIR                  where the embedded tracker's tasks are (default .devops-agent/local;
                                  npm start keeps the demo's in .devops-agent/demo)
  --source-control-fixture FILE   source control without GitHub (default examples/demo/fixtures/source-control.json)
  --kubeconfig FILE               the cluster kubernetes steps read their running image from (default
                                  $KUBECONFIG; without either, such steps cannot run here and the gates say so)

Environment: CLICKUP_API_TOKEN, CLICKUP_API_URL (the task from ClickUp), GITHUB_TOKEN, GITHUB_API_URL,
KUBECONFIG.

Exit codes: 0 the plan was printed and every gate passed; 3 the plan was printed but a gate failed or could
not be evaluated; 1 a configuration, environment or tracker problem (an unknown task, a task in a list no
service is configured for); 2 a wrong command line.
`;

const ArgsSchema = z.object({
  config: z.string().min(1),
  json: z.boolean(),
  'data-dir': z.string().min(1),
  'source-control-fixture': z.string().min(1),
  kubeconfig: z.string().min(1).optional(),
});

const gateState = (gate: GateResult) => (gate.error ? 'could not be evaluated' : 'failed');

/** One line: ready, or which gates stop a deployment and why. */
export const verdict = (preview: PlanPreview): string => {
  if (preview.ready) {
    return `✓ Ready: every gate passed (${preview.gates.length}); a deployment now would reach the approval.`;
  }
  const stopping = preview.gates.filter((g) => !g.passed);
  // a gate not evaluated has the error first: its reason ("comment /deploy to try again") is for the task
  const details = stopping.map((g) => `"${g.name}" ${gateState(g)}: ${g.error ?? g.reason ?? g.evidence}`);
  const line = `✗ Not ready: ${stopping.length} of ${preview.gates.length} gates did not pass, so a deployment now would stop at the gates — ${details.join('; ')}`;
  // an error may quote a command's multi-line output; scripts read the verdict as the last line
  return line.replace(/\s*\n\s*/g, ' ');
};

/** One line saying why the task could not be read or planned, and what to do. */
const describeFailure = (error: unknown, taskId: string, trackerName: string): string | undefined => {
  const message = errorMessage(error);
  if (error instanceof NotFoundError) {
    return trackerName === 'ClickUp'
      ? `task ${taskId} not found in ClickUp (${message}); check the task id (after /t/ in its URL) and that the token's user can see it`
      : `task ${taskId} not found in ${trackerName}; check the task id in the console of devops-agent local, or pass the --data-dir it runs with`;
  }
  if (error instanceof BadRequestError) return message;
  if (error instanceof ClickUpRequestError && (error.status === 401 || error.status === 403)) {
    return `${message} — ClickUp refused the request: check CLICKUP_API_TOKEN (the bot user's personal token, pk_…)`;
  }
  if (error instanceof TransientDependencyError) {
    return `${message} — ${trackerName} is unreachable or busy; run again in a minute`;
  }
  return undefined;
};

/** `devops-agent plan <task-id>`: the dry run of a deployment, around `previewPlan`. */
export const planCommand = async (argv: string[], io: CliIo): Promise<number> => {
  const parsed = parseCommandLine(
    COMMAND,
    argv,
    {
      ...RUNTIME_OPTIONS,
      json: { type: 'boolean', default: false },
    },
    ArgsSchema,
    { positionals: ['task-id'] },
  );
  if (!parsed) {
    io.stdout(PLAN_HELP);
    return 0;
  }
  const { options: args, positionals } = parsed;
  // parseCommandLine returns exactly one positional per name
  const taskId = (positionals[0] as string).trim();
  if (!taskId) throw new UsageError(`plan: the task id is empty; see ${COMMAND} --help`);
  const read = readLocalEnv(io.env);
  const env = args.kubeconfig ? { ...read, KUBECONFIG: resolve(io.cwd, args.kubeconfig) } : read;
  const config = loadConfigFile(resolve(io.cwd, args.config));
  const trackerFile = join(resolve(io.cwd, args['data-dir']), DATABASE_FILE);
  // checked before anything opens it: opening would create the file (and its folder), and a dry run creates nothing
  if (!env.CLICKUP_API_TOKEN && !existsSync(trackerFile)) {
    throw new CliError(
      `no embedded tracker at ${trackerFile}: start devops-agent local --data-dir ${args['data-dir']} (or npm start, then pass --data-dir .devops-agent/demo) so it has tasks, or set CLICKUP_API_TOKEN to read the task from ClickUp`,
    );
  }
  const logger: Logger = {
    info: () => {},
    warn: (message, extra) =>
      io.stderr(`devops-agent: warning: ${message}${extra ? ` ${JSON.stringify(extra)}` : ''}\n`),
    error: (message, extra) =>
      io.stderr(`devops-agent: ${message}${extra ? ` ${JSON.stringify(extra)}` : ''}\n`),
  };
  // the adapters are loaded only now: `plan --help` and a wrong command line answer at once
  const { openPlanPorts } = await import('./plan-ports.js');
  const opened = openPlanPorts({
    config,
    env,
    trackerFile,
    sourceControlFixture: resolve(io.cwd, args['source-control-fixture']),
    baseDir: io.cwd,
    logger,
  });
  let preview: PlanPreview;
  try {
    preview = await previewPlan(taskId, opened.ports);
  } catch (error) {
    const described = describeFailure(error, taskId, opened.trackerName);
    if (described === undefined) throw error;
    throw new CliError(described, 1, { cause: error });
  } finally {
    opened.close();
  }

  if (args.json) {
    const { ready, hash, gates, plan, markdown } = preview;
    io.stdout(`${JSON.stringify({ ready, hash, risk: plan.risk.level, gates, plan, markdown }, null, 2)}\n`);
  } else {
    io.stdout(`${preview.markdown}\n${verdict(preview)}\n`);
  }
  return preview.ready ? 0 : NOT_READY;
};
