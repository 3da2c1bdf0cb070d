import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as z from 'zod';
import { ClickUpClient, ClickUpRequestError } from '../functions/shared/adapters/clickup-client.js';
import { loadConfigFile } from '../functions/shared/config/load.js';
import {
  BadRequestError,
  errorMessage,
  NotFoundError,
  TransientDependencyError,
} from '../functions/shared/errors.js';
import {
  readWebhookSecrets,
  serializeWebhookSecrets,
  type WebhookSecrets,
} from '../functions/shared/webhook-secrets.js';
import { readLocalEnv } from '../local/env.js';
import {
  ClickUpSetupIncompleteError,
  type ClickUpSetupReport,
  clickupSetup,
  EndpointSchema,
  formatReport,
  publicReport,
  TeamIdSchema,
} from './clickup-setup.js';
import { CliError, type CliIo, parseOptions } from './io.js';

const COMMAND = 'devops-agent clickup setup';

export const CLICKUP_SETUP_HELP = `${COMMAND} --team ID --endpoint URL [options]

Checks that every list in the config has the configured statuses, then registers one webhook per list
(events taskStatusUpdated and taskCommentPosted) to --endpoint and stores the signing secrets ClickUp
returns. Run it again at any time: it changes only what is missing or wrong.

  --config FILE          configuration (default devops-agent.yaml)
  --team ID              the ClickUp workspace id, the number after app.clickup.com/ (or CLICKUP_TEAM_ID)
  --endpoint URL         where ClickUp delivers: https://<host>/webhooks/clickup (http only for 127.0.0.1)
  --secret-file PATH     where the secrets are written, mode 0600
                         (default CLICKUP_WEBHOOK_SECRET_FILE or .devops-agent/clickup-webhook-secret)
  --dry-run              only read: report what would change, write nothing in ClickUp or on disk
  --skip-status-check    register the webhooks even when a list lacks a configured status
  --json                 print the report as JSON (without the secrets)

Environment: CLICKUP_API_TOKEN (required: the bot user's personal token pk_…), CLICKUP_API_URL (API base,
default https://api.clickup.com/api), CLICKUP_TEAM_ID.

Exit codes: 0 done; 1 a list lacks a status, or a configuration, environment or ClickUp problem;
2 a wrong command line.
`;

const ArgsSchema = z.object({
  config: z.string().min(1),
  team: TeamIdSchema,
  endpoint: EndpointSchema,
  'secret-file': z.string().min(1),
  'dry-run': z.boolean(),
  'skip-status-check': z.boolean(),
  json: z.boolean(),
});

/** Writes the secrets next to the file and renames it over (atomic), mode 0600 in a 0700 folder. */
export const writeSecretsFile = (file: string, secrets: WebhookSecrets): void => {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, serializeWebhookSecrets(secrets), { mode: 0o600, flag: 'wx' });
    chmodSync(temporary, 0o600);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CliError(
      `cannot write the webhook secrets to ${file} (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}); pass a writable --secret-file`,
      1,
      { cause: error },
    );
  }
};

const readStored = (file: string): WebhookSecrets => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { webhooks: {} };
    throw new CliError(
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}); pass a readable --secret-file`,
    );
  }
  try {
    return readWebhookSecrets(text);
  } catch (error) {
    throw new CliError(
      `${file} does not hold webhook secrets as clickup setup writes them (${errorMessage(error)}); move the file away and run again (its webhooks are then recreated)`,
    );
  }
};

/** One line saying what ClickUp did not like and what to do about it. */
export const describeClickUpError = (error: unknown): string => {
  const cause = error instanceof ClickUpSetupIncompleteError ? error.cause : error;
  const message = errorMessage(error);
  if (cause instanceof ClickUpRequestError && (cause.status === 401 || cause.status === 403)) {
    return `${message} — ClickUp refused the request: check CLICKUP_API_TOKEN (the bot user's personal token, pk_…) and that --team is a workspace that user belongs to`;
  }
  if (cause instanceof ClickUpRequestError) {
    return `${message} — ClickUp rejected the request; check --endpoint and the config's list ids, then run again`;
  }
  if (cause instanceof NotFoundError) {
    return `${message} — check --team and the config's list ids, and that the bot user can see them`;
  }
  if (cause instanceof TransientDependencyError) {
    return `${message} — ClickUp is unreachable or busy; run again in a minute (check CLICKUP_API_URL if you set it)`;
  }
  return message;
};

/** `devops-agent clickup setup`: the edges (arguments, environment, files, output) around `clickupSetup`. */
export const clickupSetupCommand = async (argv: string[], io: CliIo): Promise<number> => {
  const local = readLocalEnv(io.env);
  const args = parseOptions(
    COMMAND,
    argv,
    {
      config: { type: 'string', default: 'devops-agent.yaml' },
      team: { type: 'string' },
      endpoint: { type: 'string' },
      'secret-file': { type: 'string', default: local.CLICKUP_WEBHOOK_SECRET_FILE },
      'dry-run': { type: 'boolean', default: false },
      'skip-status-check': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    ArgsSchema,
    (values) => ({ ...values, team: values.team ?? io.env.CLICKUP_TEAM_ID }),
  );
  if (!args) {
    io.stdout(CLICKUP_SETUP_HELP);
    return 0;
  }
  if (!local.CLICKUP_API_TOKEN) {
    throw new CliError(
      "CLICKUP_API_TOKEN is not set: export the bot user's personal API token (pk_…) and run again",
    );
  }
  const config = loadConfigFile(resolve(io.cwd, args.config));
  const secretFile = resolve(io.cwd, args['secret-file']);
  const stored = readStored(secretFile);
  const client = new ClickUpClient({
    token: local.CLICKUP_API_TOKEN,
    ...(local.CLICKUP_API_URL ? { baseUrl: local.CLICKUP_API_URL } : {}),
  });

  let report: ClickUpSetupReport;
  try {
    report = await clickupSetup({
      client,
      config,
      teamId: args.team,
      endpoint: args.endpoint,
      stored,
      dryRun: args['dry-run'],
      skipStatusCheck: args['skip-status-check'],
    });
  } catch (error) {
    if (error instanceof BadRequestError) throw new CliError(error.message);
    if (
      error instanceof ClickUpSetupIncompleteError &&
      !args['dry-run'] &&
      serializeWebhookSecrets(error.secrets) !== serializeWebhookSecrets(stored)
    ) {
      // keep the secrets of the webhooks created before the failure, so a rerun finds them
      writeSecretsFile(secretFile, error.secrets);
    }
    throw new CliError(describeClickUpError(error), 1, { cause: error });
  }

  const written = report.registered && report.secretsChanged;
  if (written) writeSecretsFile(secretFile, report.secrets);
  if (args.json) {
    io.stdout(
      `${JSON.stringify({ ...publicReport(report), secretFile: { path: secretFile, written } }, null, 2)}\n`,
    );
  } else {
    io.stdout(formatReport(report, { path: secretFile, written }));
  }
  return report.problems.length > 0 ? 1 : 0;
};
