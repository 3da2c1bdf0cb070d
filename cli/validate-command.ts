import { resolve } from 'node:path';
import * as z from 'zod';
import { loadConfigFile } from '../functions/shared/config/load.js';
import { settingsFor } from '../functions/shared/config/resolve.js';
import type { Config } from '../functions/shared/config/schema.js';
import { formatDuration } from '../functions/shared/deployment.js';
import { ConfigError } from '../functions/shared/errors.js';
import type { CliIo } from './io.js';
import { parseOptions } from './io.js';

const COMMAND = 'devops-agent validate';

export const VALIDATE_HELP = `${COMMAND} [options]

Loads the configuration as devops-agent local and cdk synth do, and prints OK with one line per service
(its tracker list, steps, checks, approvers and quorum, bake), or every problem with its file, line and
field. Nothing is started and nothing is written.

  --config FILE   configuration (default devops-agent.yaml)
  --json          print {ok, file, services} or {ok: false, file, issues} as JSON instead

Exit codes: 0 the configuration is valid; 1 it is not (or cannot be read); 2 a wrong command line.
`;

const ArgsSchema = z.object({ config: z.string().min(1), json: z.boolean() });

/** What `validate` says about one service: enough to see the file was read as meant. */
export interface ServiceSummary {
  service: string;
  environment: string;
  listId: string;
  steps: number;
  checks: number;
  approvers: number;
  quorum: number;
  requireApproval: boolean;
  bakeSeconds: number;
}

export const summarizeServices = (config: Config): ServiceSummary[] =>
  config.services.map((service) => {
    const settings = settingsFor(config, service);
    return {
      service: service.name,
      environment: service.environment,
      listId: service.tracker.list_id,
      steps: service.steps.length,
      checks: service.verification.length,
      approvers: service.approvers.length,
      quorum: service.approval.quorum,
      requireApproval: settings.requireApproval,
      bakeSeconds: settings.monitoringPeriodSeconds,
    };
  });

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One line per service, e.g. `user-notifications/production: list demo-list, 2 steps, …`. */
export const serviceLine = (s: ServiceSummary): string =>
  `${s.service}/${s.environment}: list ${s.listId}, ${plural(s.steps, 'step')}, ${plural(s.checks, 'check')}, ${plural(s.approvers, 'approver')} (${
    s.requireApproval ? `quorum ${s.quorum}` : 'approval not required'
  }), bake ${formatDuration(s.bakeSeconds)}`;

/** `devops-agent validate`: the configuration loader's verdict, for people and scripts. */
export const validateCommand = async (argv: string[], io: CliIo): Promise<number> => {
  const args = parseOptions(
    COMMAND,
    argv,
    { config: { type: 'string', default: 'devops-agent.yaml' }, json: { type: 'boolean', default: false } },
    ArgsSchema,
  );
  if (!args) {
    io.stdout(VALIDATE_HELP);
    return 0;
  }
  const file = resolve(io.cwd, args.config);
  let config: Config;
  try {
    config = loadConfigFile(file);
  } catch (error) {
    // a script reading --json gets the issues on stdout; people get main's one error on stderr
    if (args.json && error instanceof ConfigError) {
      io.stdout(`${JSON.stringify({ ok: false, file, issues: error.issues }, null, 2)}\n`);
      return 1;
    }
    throw error;
  }
  const services = summarizeServices(config);
  if (args.json) {
    io.stdout(`${JSON.stringify({ ok: true, file, services }, null, 2)}\n`);
  } else {
    io.stdout(
      [`OK: ${file} (${plural(services.length, 'service')})`, ...services.map((s) => `  ${serviceLine(s)}`)]
        .join('\n')
        .concat('\n'),
    );
  }
  return 0;
};
