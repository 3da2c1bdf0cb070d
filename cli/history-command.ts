import * as z from 'zod';
import {
  type AgentConnector,
  agentTarget,
  connectAgent,
  TARGET_FIELDS,
  TARGET_OPTIONS,
} from './agent-client.js';
import { URL_HELP } from './deploy-command.js';
import { historyEntry, plural } from './deployment-text.js';
import { type CliIo, parseCommandLine } from './io.js';

const COMMAND = 'devops-agent history';

/** How far back `history` looks without --since (the console's DORA window too). */
export const DEFAULT_SINCE = '30d';

export const HISTORY_HELP = `${COMMAND} [options]

Lists the deployments of the running agent (the devops-agent local runtime, or a deployed stack with
--stack), newest first: task, service and
environment, outcome, when it started, how long it took, why it rolled back, and the link to its record
document. Under the list, the DORA figures of the same window (deployment frequency, lead time from PR
merge to Deployed, change failure rate, time to restore).

  --service NAME       only this service's deployments (and figures)
  --since 7d|ISO       only deployments started since then: a number with m, h, d or w (minutes, hours,
                       days, weeks ago), or an ISO 8601 date or time (default ${DEFAULT_SINCE})
  --json               print {since, deployments, dora} as JSON instead
${URL_HELP}

Exit codes: 0 listed (also when there is nothing to list); 1 the runtime is not running; 2 a wrong command
line.
`;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `7d` (ago, from `now`) or an ISO date/time, as an ISO time; undefined when it is neither. */
export const parseSince = (value: string, now: Date): string | undefined => {
  const relative = /^(\d{1,6})([mhdw])$/.exec(value.trim());
  if (relative) {
    return new Date(
      now.getTime() - Number(relative[1]) * (UNIT_MS[relative[2] as string] as number),
    ).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value.trim())) return undefined;
  const at = Date.parse(value.trim());
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
};

const ArgsSchema = (now: Date) =>
  z.object({
    ...TARGET_FIELDS,
    json: z.boolean(),
    service: z.string().trim().min(1).optional(),
    since: z.string().transform((value, ctx) => {
      const since = parseSince(value, now);
      if (since === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `--since: "${value}" is neither a duration such as 7d, 12h, 2w nor an ISO date such as 2026-05-01`,
        });
        return z.NEVER;
      }
      return since;
    }),
  });

/** `devops-agent history`: the deployments that ran, newest first, with their records and the DORA figures. */
export const historyCommand = async (
  argv: string[],
  io: CliIo,
  connect: AgentConnector = connectAgent,
  now: () => Date = () => new Date(),
): Promise<number> => {
  const options = parseCommandLine(
    COMMAND,
    argv,
    {
      ...TARGET_OPTIONS,
      json: { type: 'boolean', default: false },
      service: { type: 'string' },
      since: { type: 'string', default: DEFAULT_SINCE },
    },
    ArgsSchema(now()),
  )?.options;
  if (!options) {
    io.stdout(HISTORY_HELP);
    return 0;
  }
  const agent = await connect(agentTarget(COMMAND, options, io.env), io);
  const answer = await agent.deployments({
    since: options.since,
    ...(options.service ? { service: options.service } : {}),
  });
  if (options.json) {
    io.stdout(
      `${JSON.stringify({ since: options.since, deployments: answer.deployments, dora: answer.dora?.figures }, null, 2)}\n`,
    );
    return 0;
  }
  const scope = `${options.service ? ` of ${options.service}` : ''} since ${options.since}`;
  const list =
    answer.deployments.length === 0
      ? [`No deployments${scope} at ${agent.where}.`]
      : [
          `${plural(answer.deployments.length, 'deployment')}${scope}, newest first:`,
          '',
          ...answer.deployments.map((d) => historyEntry(d)),
        ];
  // the figures come from functions/shared/dora.ts through the agent, over the same window and service
  const dora = answer.dora ? ['', ...answer.dora.lines] : [];
  io.stdout(`${[...list, ...dora].join('\n')}\n`);
  return 0;
};
