import * as z from 'zod';
import type { ApiDeployment } from '../local/api-routes.js';
import {
  type AgentClient,
  type AgentConnector,
  agentTarget,
  connectAgent,
  TARGET_FIELDS,
  TARGET_OPTIONS,
} from './agent-client.js';
import { URL_HELP } from './deploy-command.js';
import { deploymentBlock, progressLine } from './deployment-text.js';
import { CliError, type CliIo, parseCommandLine } from './io.js';

const COMMAND = 'devops-agent status';

export const STATUS_HELP = `${COMMAND} [task-id] [options]

Shows the task's newest deployment on the running agent (the devops-agent local runtime, or a deployed
stack with --stack), or without a task every deployment still running: its status and workflow stage, step progress (done/total and the current step),
the approval (approvals of the quorum, votes, expiry), the bake (elapsed of its period, within targets),
a rollback and its reason, and the links to the console and the deployment record.

  --watch         follow it until it ends: on a terminal one line redrawn with a spinner, otherwise a line
                  each time it moves on; then the full status
  --json          print {now, deployments} as JSON instead (with --watch: one JSON line per change)
${URL_HELP}

Exit codes: 0 shown (with --watch: it ended Deployed); 1 with --watch it ended otherwise (held, blocked,
rolled back, failed), or the task has no deployment, or the runtime is not running; 2 a wrong command line.
`;

const ArgsSchema = z.object({ ...TARGET_FIELDS, watch: z.boolean(), json: z.boolean() });

/** How often `--watch` asks the agent (ms). */
export const WATCH_INTERVAL_MS = 1000;

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The deployments `status` is about: the task's newest, or every running one. */
const select = async (client: AgentClient, taskId: string | undefined, flag: string) => {
  const answer = await client.deployments(taskId ? { taskId } : {});
  if (taskId) {
    const [newest] = answer.deployments;
    if (!newest) {
      throw new CliError(
        `task ${taskId} has no deployment at ${client.where}; start one with devops-agent deploy ${taskId}${flag}`,
      );
    }
    return { now: answer.now, deployments: [newest] };
  }
  return { now: answer.now, deployments: answer.deployments.filter((d) => !d.finished) };
};

const endCode = (deployments: ApiDeployment[]) =>
  deployments.every((d) => (d.outcome ?? d.status) === 'deployed') ? 0 : 1;

/** `devops-agent status [task-id]`: the live view of deployments, once or until they end. */
export const statusCommand = async (
  argv: string[],
  io: CliIo,
  connect: AgentConnector = connectAgent,
  intervalMs = WATCH_INTERVAL_MS,
): Promise<number> => {
  const parsed = parseCommandLine(
    COMMAND,
    argv,
    {
      ...TARGET_OPTIONS,
      watch: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    ArgsSchema,
    { optionalPositionals: ['task-id'] },
  );
  if (!parsed) {
    io.stdout(STATUS_HELP);
    return 0;
  }
  const { options } = parsed;
  const taskId = parsed.positionals[0]?.trim() || undefined;
  const target = agentTarget(COMMAND, options, io.env);
  const agent = await connect(target, io);
  const print = (answer: { now: string; deployments: ApiDeployment[] }) => {
    if (options.json) {
      io.stdout(`${JSON.stringify(answer, null, options.watch ? undefined : 2)}\n`);
      return;
    }
    if (answer.deployments.length === 0) {
      io.stdout(
        `Nothing is running at ${agent.where}; devops-agent history${target.flag} lists the deployments that ended.\n`,
      );
      return;
    }
    io.stdout(`${answer.deployments.map((d) => deploymentBlock(d, target.flag)).join('\n\n')}\n`);
  };

  let answer = await select(agent, taskId, target.flag);
  if (!options.watch) {
    print(answer);
    return 0;
  }
  // Watch: the same deployments (by id) until each has ended; a line per change, or one redrawn line on a TTY.
  const ids = new Set(answer.deployments.map((d) => d.deploymentId));
  const redraw = io.isTTY === true && !options.json;
  let last = '';
  for (let tick = 0; ; tick++) {
    const watched = answer.deployments.filter((d) => ids.has(d.deploymentId));
    // durations change every poll: a change is a change of anything else
    const key = JSON.stringify(
      watched.map((d) => ({ ...d, durationSeconds: 0, bake: Math.floor((d.bake?.percent ?? 0) / 10) })),
    );
    if (redraw) {
      const line = watched.map(progressLine).join('  |  ');
      io.stdout(`\r\x1b[2K${SPINNER[tick % SPINNER.length]} ${line}`);
    } else if (key !== last) {
      if (options.json) print({ now: answer.now, deployments: watched });
      else io.stdout(`${watched.map(progressLine).join('\n')}\n`);
    }
    last = key;
    if (watched.every((d) => d.finished)) {
      if (redraw) io.stdout('\r\x1b[2K');
      if (!options.json) print({ now: answer.now, deployments: watched });
      return endCode(watched);
    }
    await sleep(intervalMs);
    const next = await agent.deployments(taskId ? { taskId } : {});
    answer = { now: next.now, deployments: next.deployments.filter((d) => ids.has(d.deploymentId)) };
  }
};
