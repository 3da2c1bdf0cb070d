import * as z from 'zod';
import { type AgentConnector, connectAgent, TARGET_FIELDS } from './agent-client.js';
import { parseTaskCommand, URL_HELP } from './deploy-command.js';
import type { CliIo } from './io.js';

const APPROVE = 'devops-agent approve';
const HOLD = 'devops-agent hold';

const RULES = `It goes through the same rules as the approval link and ClickUp's /deploy approve|hold: --as must be a
configured approver of the service (the approval names them by email, else ClickUp id), the person who
asked for the deployment may not approve it when self-approval is forbidden, each approver decides once,
and every decision and refusal is written to the audit log (channel cli).`;

export const APPROVE_HELP = `${APPROVE} <task-id> --as WHO [options]

Approves the task's deployment that waits for approval, as one approver: it proceeds to the deployment
steps once the quorum of approvals is in. ${RULES}

  --as WHO        the approver you act as: their email or ClickUp user id (required)
  --comment TEXT  a note kept with the approval
${URL_HELP}

Exit codes: 0 the approval was recorded (the deployment proceeds, or waits for more approvals); 1 refused
(not an approver, self-approval, already decided, nothing waiting) or the runtime is not running; 2 a wrong
command line.
`;

export const HOLD_HELP = `${HOLD} <task-id> --as WHO --reason TEXT [options]

Holds the task's deployment that waits for approval: it ends without a step run, the task says why, and
the lock goes to the next deployment. ${RULES}

  --as WHO        the approver you act as: their email or ClickUp user id (required)
  --reason TEXT   why it is held, posted on the task (required)
${URL_HELP}

Exit codes: 0 held; 1 refused (not an approver, already decided, nothing waiting) or the runtime is not
running; 2 a wrong command line.
`;

const as = z
  .string({ error: '--as is required: the approver email or ClickUp id you act as' })
  .trim()
  .min(1, {
    error: '--as is empty: give the approver email or ClickUp id you act as',
  });
const ApproveArgs = z.object({ ...TARGET_FIELDS, as, comment: z.string().trim().min(1).optional() });
const HoldArgs = z.object({
  ...TARGET_FIELDS,
  as,
  reason: z.string({ error: '--reason is required: say why the deployment is held' }).trim().min(1, {
    error: '--reason is empty: say why the deployment is held',
  }),
});

/** `devops-agent approve <task-id> --as WHO`: one approver's approval through the approval rules. */
export const approveCommand = async (
  argv: string[],
  io: CliIo,
  connect: AgentConnector = connectAgent,
): Promise<number> => {
  const parsed = parseTaskCommand(
    APPROVE,
    argv,
    { as: { type: 'string' }, comment: { type: 'string' } },
    ApproveArgs,
    io,
  );
  if (!parsed) {
    io.stdout(APPROVE_HELP);
    return 0;
  }
  const { taskId, options, target } = parsed;
  const answer = await (await connect(target, io)).approve(taskId, options.as, options.comment);
  const watch = `devops-agent status ${taskId} --watch${target.flag}`;
  io.stdout(
    answer.outcome === 'approved'
      ? `Approved ${answer.deploymentId} as ${options.as} (${answer.approvals} of ${answer.quorum} approvals): it proceeds to the deployment steps.\n  watch it: ${watch}\n`
      : `Approval by ${options.as} recorded for ${answer.deploymentId}: ${answer.approvals} of ${answer.quorum} approvals, waiting for ${answer.quorum - answer.approvals} more.\n  watch it: ${watch}\n`,
  );
  return 0;
};

/** `devops-agent hold <task-id> --as WHO --reason TEXT`: stops the deployment at the approval. */
export const holdCommand = async (
  argv: string[],
  io: CliIo,
  connect: AgentConnector = connectAgent,
): Promise<number> => {
  const parsed = parseTaskCommand(
    HOLD,
    argv,
    { as: { type: 'string' }, reason: { type: 'string' } },
    HoldArgs,
    io,
  );
  if (!parsed) {
    io.stdout(HOLD_HELP);
    return 0;
  }
  const { taskId, options, target } = parsed;
  const answer = await (await connect(target, io)).hold(taskId, options.as, options.reason);
  io.stdout(
    `Held ${answer.deploymentId} as ${options.as}: ${options.reason}\n  it ends without running a step; deploy the task again when ready: devops-agent deploy ${taskId}${target.flag}\n`,
  );
  return 0;
};
