import { ConfigError, errorMessage } from '../functions/shared/errors.js';
import { CLICKUP_SETUP_HELP, clickupSetupCommand } from './clickup-setup-command.js';
import { approveCommand, holdCommand } from './decide-commands.js';
import { deployCommand } from './deploy-command.js';
import { historyCommand } from './history-command.js';
import { CliError, type CliIo, UsageError } from './io.js';
import { rollbackCommand } from './rollback-command.js';
import { statusCommand } from './status-command.js';
import { validateCommand } from './validate-command.js';

export const HELP = `devops-agent <command> [options]

Commands:
  clickup setup                 check the configured lists' statuses in ClickUp and register one signed
                                webhook per list
  local                         run the agent on this machine (on ClickUp when CLICKUP_API_TOKEN is set)
  plan <task-id>                dry run: run the gates and print the task's deployment plan, changing nothing
  validate                      load the configuration; OK with one line per service, or every problem

  On a running agent: the local runtime (--url URL, default $DEVOPS_AGENT_URL, else
  http://127.0.0.1:4000), or a deployed stack (--stack NAME, default $DEVOPS_AGENT_STACK):
  deploy <task-id>              start the task's deployment as if it had moved to the input status
  status [task-id]              the deployment's state, steps, approval and bake (--watch follows it)
  approve <task-id> --as WHO    approve as a configured approver (quorum, self-approval and audit apply)
  hold <task-id> --as WHO       hold it at the approval (--reason required)
  rollback <task-id> --as WHO   roll back during the bake (configured approvers only)
  history                       the deployments newest first with their records, and the DORA figures

  help                          this text; devops-agent <command> --help lists a command's options

Exit codes:
  0  done (local: stopped cleanly; plan: the plan was printed and every gate passed; validate: the
     configuration is valid; status --watch: the deployment ended Deployed)
  1  failed: a configuration, environment, tracker or ClickUp problem (plan: an unknown task), a list
     lacks a configured status, the local runtime is not running (or --stack is not found), the approval
     rules refused (approve, hold, rollback), or status --watch saw the deployment end otherwise; the
     message says what to fix
  2  the command line is wrong: an unknown command or option, a missing or malformed option or argument
  3  plan: the plan was printed, but a gate failed or could not be evaluated
`;

const CLICKUP_HELP = `devops-agent clickup <command>

  setup   check the lists' statuses and register the webhooks (devops-agent clickup setup --help)
`;

const KNOWN = 'clickup setup, local, plan, validate, deploy, status, approve, hold, rollback, history, help';

const dispatch = async (argv: string[], io: CliIo): Promise<number> => {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      io.stderr(HELP);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      io.stdout(HELP);
      return 0;
    case 'local': {
      // the runtime is loaded only for this command: `clickup setup` and `--help` start fast
      const { localCommand } = await import('./local.js');
      return localCommand(rest, io);
    }
    case 'plan': {
      // previewPlan pulls in the runtime's adapters: loaded only for this command, like `local`
      const { planCommand } = await import('./plan-command.js');
      return planCommand(rest, io);
    }
    case 'validate':
      return validateCommand(rest, io);
    case 'deploy':
      return deployCommand(rest, io);
    case 'status':
      return statusCommand(rest, io);
    case 'approve':
      return approveCommand(rest, io);
    case 'hold':
      return holdCommand(rest, io);
    case 'rollback':
      return rollbackCommand(rest, io);
    case 'history':
      return historyCommand(rest, io);
    case 'clickup': {
      const [sub, ...options] = rest;
      if (sub === 'setup') return clickupSetupCommand(options, io);
      if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
        (sub === undefined ? io.stderr : io.stdout)(`${CLICKUP_HELP}\n${CLICKUP_SETUP_HELP}`);
        return sub === undefined ? 2 : 0;
      }
      throw new UsageError(`unknown command "clickup ${sub}"; the known commands are ${KNOWN}`);
    }
    default:
      throw new UsageError(
        `unknown command "${command}"; the known commands are ${KNOWN} (devops-agent --help says more)`,
      );
  }
};

/**
 * Runs one command line (without `node` and the script) and returns its exit code: 0 done, 1 failed, 2 a
 * wrong command line, 3 a plan printed whose gates did not all pass. Every failure is printed as one line on stderr; a configuration error as its list.
 */
export const run = async (argv: string[], io: CliIo): Promise<number> => {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`devops-agent: ${error.message}\n`);
      return 1;
    }
    io.stderr(`devops-agent: ${errorMessage(error)}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
};

/** The entry point `bin/devops-agent.mjs` calls with `process.argv`. */
export const main = async (argv: string[]): Promise<never> => {
  const code = await run(argv.slice(2), {
    // biome-ignore lint/style/noProcessEnv: the one place the CLI reads its environment; commands get it passed in
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    isTTY: process.stdout.isTTY === true,
  });
  process.exit(code);
};
