import * as z from 'zod';
import {
  type AgentConnector,
  type AgentTarget,
  agentTarget,
  connectAgent,
  TARGET_FIELDS,
  TARGET_HELP,
  TARGET_OPTIONS,
  type TargetValues,
} from './agent-client.js';
import { CliError, type CliIo, parseCommandLine, UsageError } from './io.js';

const COMMAND = 'devops-agent deploy';

/** The help text of `--url` / `--stack`, shared by the commands that talk to a running agent. */
export const URL_HELP = TARGET_HELP;

export const DEPLOY_HELP = `${COMMAND} <task-id> [options]

Starts a deployment of the task on the running agent (the devops-agent local runtime, or a deployed stack
with --stack), as if the task had moved to the input status (whatever status it is in now): acknowledge, gates, plan, approval, steps, verification, bake.
It starts at most one deployment per task: while one runs, it says which and starts nothing.

  --as WHO        who asks (email or ClickUp id), recorded as the requester: when self-approval is
                  forbidden, they cannot approve it
${URL_HELP}

Exit codes: 0 started, or one is already running for the task; 1 not started (an unknown task, a list no
service is configured for, the runtime not running); 2 a wrong command line.
`;

const ArgsSchema = z.object({ ...TARGET_FIELDS, as: z.string().trim().min(1).optional() });

/** Parses `<command> <task-id> [options]` and the agent it talks to; undefined for `--help`. */
export const parseTaskCommand = <S extends z.ZodType>(
  command: string,
  argv: string[],
  options: Parameters<typeof parseCommandLine>[2],
  schema: S,
  io: CliIo,
): { taskId: string; options: z.infer<S>; target: AgentTarget } | undefined => {
  const parsed = parseCommandLine(command, argv, { ...TARGET_OPTIONS, ...options }, schema, {
    positionals: ['task-id'],
  });
  if (!parsed) return undefined;
  const taskId = (parsed.positionals[0] as string).trim();
  const name = command.replace(/^devops-agent /, '');
  if (!taskId) throw new UsageError(`${name}: the task id is empty; see ${command} --help`);
  return {
    taskId,
    options: parsed.options,
    target: agentTarget(command, parsed.options as TargetValues, io.env),
  };
};

/** `devops-agent deploy <task-id>`: starts the task's deployment and says where to watch it. */
export const deployCommand = async (
  argv: string[],
  io: CliIo,
  connect: AgentConnector = connectAgent,
): Promise<number> => {
  const parsed = parseTaskCommand(COMMAND, argv, { as: { type: 'string' } }, ArgsSchema, io);
  if (!parsed) {
    io.stdout(DEPLOY_HELP);
    return 0;
  }
  const { taskId, options, target } = parsed;
  const answer = await (await connect(target, io)).deploy(taskId, options.as);
  const watch = `devops-agent status ${taskId} --watch${target.flag}`;
  if (answer.started) {
    io.stdout(
      `Started deployment ${answer.deploymentId} of task ${taskId}.\n  watch it: ${watch}\n  console:  ${answer.url}\n`,
    );
    return 0;
  }
  if (
    answer.deploymentId &&
    answer.reason !== undefined &&
    /already running|already started/.test(answer.reason)
  ) {
    io.stdout(
      `Deployment ${answer.deploymentId} is already running for task ${taskId}; nothing new was started.\n  watch it: ${watch}\n  console:  ${answer.url}\n`,
    );
    return 0;
  }
  throw new CliError(`not started: ${answer.reason ?? 'the agent did not say why'}`);
};
