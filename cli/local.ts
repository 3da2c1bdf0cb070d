import { createServer } from 'node:net';
import { resolve } from 'node:path';
import * as z from 'zod';
import { loadConfigFile } from '../functions/shared/config/load.js';
import type { Logger } from '../functions/shared/ports/index.js';
import { readLocalEnv } from '../local/env.js';
import { CliError, type CliIo, parseOptions, RUNTIME_OPTIONS } from './io.js';

const COMMAND = 'devops-agent local';
const WEBHOOK_PATH = '/webhooks/clickup';

export const LOCAL_HELP = `${COMMAND} [options]

Runs devops-agent on this machine: the workflow, the webhook, the approval pages and the console. With
CLICKUP_API_TOKEN set it drives the tasks of the configured ClickUp lists (webhook secret from
CLICKUP_WEBHOOK_SECRET or the file clickup setup wrote); without it, the embedded tracker. With
GITHUB_TOKEN the CI and PR gates ask GitHub; without it they read the source-control fixture.
Stops on Ctrl+C (SIGINT) or SIGTERM.

  --config FILE                   configuration (default devops-agent.yaml)
  --port N                        HTTP port on 127.0.0.1 (default 4000; 0 = any free port)
  --data-dir DIR                  the SQLite file and the documents (default .devops-agent/local)
  --source-control-fixture FILE   source control without GitHub (default examples/demo/fixtures/source-control.json)
  --kubeconfig FILE               the cluster of kubernetes steps and migration Jobs (default $KUBECONFIG;
                                  without either, such steps cannot run here and the gates say so)

Exit codes: 0 stopped cleanly; 1 it could not start (configuration, environment, port in use); 2 a wrong
command line.
`;

const ArgsSchema = z.object({
  config: z.string().min(1),
  port: z.coerce
    .number({ error: 'expected a port number' })
    .int({ error: 'expected a whole port number' })
    .min(0, { error: 'expected a port from 0 to 65535' })
    .max(65535, { error: 'expected a port from 0 to 65535' }),
  'data-dir': z.string().min(1),
  'source-control-fixture': z.string().min(1),
  kubeconfig: z.string().min(1).optional(),
});

/** `stopped` resolves with the signal's name at the first SIGINT or SIGTERM; `dispose` stops listening. */
const listenForStop = () => {
  let dispose = () => {};
  const stopped = new Promise<string>((done) => {
    const stop = (signal: string) => {
      dispose();
      done(signal);
    };
    dispose = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return { stopped, dispose };
};

/** `devops-agent local`: serves until SIGINT/SIGTERM, then stops the runtime and returns 0. */
export const localCommand = async (argv: string[], io: CliIo): Promise<number> => {
  const args = parseOptions(
    COMMAND,
    argv,
    {
      ...RUNTIME_OPTIONS,
      port: { type: 'string', default: '4000' },
    },
    ArgsSchema,
  );
  if (!args) {
    io.stdout(LOCAL_HELP);
    return 0;
  }
  // listen before starting, so a signal during the start still stops cleanly
  const signals = listenForStop();
  try {
    await serveUntil(signals.stopped, args, io);
  } finally {
    signals.dispose();
  }
  return 0;
};

/**
 * Fails with a clear message when the port is taken: the local server does not turn a listen error into a
 * rejection, so without this check the process would end with an uncaught EADDRINUSE.
 */
const portIsFree = async (port: number): Promise<void> => {
  if (port === 0) return;
  await new Promise<void>((done, fail) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        new CliError(
          error.code === 'EADDRINUSE'
            ? `port ${port} is in use; pass another --port (0 = any free port)`
            : `cannot listen on 127.0.0.1:${port} (${error.code ?? error.message}); pass another --port`,
          1,
          { cause: error },
        ),
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => done()));
  });
};

/** Starts the runtime, waits for `stopped`, then stops the runtime. */
const serveUntil = async (stopped: Promise<string>, args: z.infer<typeof ArgsSchema>, io: CliIo) => {
  const env = readLocalEnv(io.env);
  const config = loadConfigFile(resolve(io.cwd, args.config));
  const line = (prefix: string) => (message: string, extra?: Record<string, unknown>) =>
    io.stdout(`${prefix}${message}${extra ? ` ${JSON.stringify(extra)}` : ''}\n`);
  const logger: Logger = { info: line('  '), warn: line('⚠ '), error: line('✗ ') };
  await portIsFree(args.port);
  // the runtime is loaded only now: `local --help` and a wrong option answer at once
  const { serve } = await import('../local/serve.js');
  const runtime = await serve({
    config,
    env,
    variables: args.kubeconfig ? { ...io.env, KUBECONFIG: resolve(io.cwd, args.kubeconfig) } : io.env,
    port: args.port,
    dataDir: resolve(io.cwd, args['data-dir']),
    sourceControlFixture: resolve(io.cwd, args['source-control-fixture']),
    logger,
  });
  io.stdout(
    [
      `devops-agent is running on ${runtime.url} (${runtime.mode})`,
      `  console and approval pages: ${runtime.url}/`,
      `  ClickUp webhook: POST ${runtime.url}${WEBHOOK_PATH}${runtime.mode === 'ClickUp' ? '' : ' (set CLICKUP_API_TOKEN to drive ClickUp tasks)'}`,
      '  stop with Ctrl+C',
      '',
    ].join('\n'),
  );
  const signal = await stopped;
  io.stdout(`${signal}: stopping…\n`);
  await runtime.stop();
  io.stdout('stopped\n');
};
