import * as z from 'zod';
import { type AgentConnector, connectAgent, TARGET_FIELDS } from './agent-client.js';
import { parseTaskCommand, URL_HELP } from './deploy-command.js';
import type { CliIo } from './io.js';

const COMMAND = 'devops-agent rollback';

export const ROLLBACK_HELP = `${COMMAND} <task-id> --as WHO [options]

Rolls back the task's newest deployment during its bake: the current bake interval fails with
RollbackRequestedError, and the workflow takes the same rollback branch an alarm does (undo the steps,
verify, report on the task). The same core as ClickUp's /deploy rollback: only a configured approver of
the service may, and the request or the refusal is written to the audit log (channel cli). Gates and
analysis are skipped, authorisation and audit never.
After Deployed it starts a rollback run (<deployment>-rollback): it waits for the service's lock, undoes
the deployment's steps newest first from what each recorded, verifies and reports; follow it with
\`devops-agent status <task-id>\`. A deployment that has not reached its bake rolls back by itself when a
step or check fails.

  --as WHO        the approver you act as: their email or ClickUp user id (required)
  --reason TEXT   why, kept in the rollback reason on the task and in the record
${URL_HELP}

Exit codes: 0 the rollback was requested; 1 refused (not an approver, not baking, between two bake
intervals: run it again in a moment) or the runtime is not running; 2 a wrong command line.
`;

const ArgsSchema = z.object({
  ...TARGET_FIELDS,
  as: z.string({ error: '--as is required: the approver email or ClickUp id you act as' }).trim().min(1, {
    error: '--as is empty: give the approver email or ClickUp id you act as',
  }),
  reason: z.string().trim().min(1).optional(),
});

/** `devops-agent rollback <task-id> --as WHO`: the manual rollback during the bake. */
export const rollbackCommand = async (
  argv: string[],
  io: CliIo,
  connect: AgentConnector = connectAgent,
): Promise<number> => {
  const parsed = parseTaskCommand(
    COMMAND,
    argv,
    { as: { type: 'string' }, reason: { type: 'string' } },
    ArgsSchema,
    io,
  );
  if (!parsed) {
    io.stdout(ROLLBACK_HELP);
    return 0;
  }
  const { taskId, options, target } = parsed;
  const answer = await (await connect(target, io)).rollback(taskId, options.as, options.reason);
  io.stdout(
    `Rollback of ${answer.deploymentId} requested: ${answer.reason}\n  the workflow rolls back now; watch it: devops-agent status ${taskId} --watch${target.flag}\n`,
  );
  return 0;
};
