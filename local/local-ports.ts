import { SqlCheckRunner } from '../functions/shared/adapters/sql-check-runner.js';
import type { Config } from '../functions/shared/config/schema.js';
import type { Clock } from '../functions/shared/ports/clock.js';
import type { Ports } from '../functions/shared/ports/index.js';
import { CommandStepRunner } from './adapters/command-step-runner.js';
import { HttpCheckRunner } from './adapters/http-check-runner.js';
import { LocalMonitor } from './adapters/local-monitor.js';

/**
 * The step and check kinds this machine can run. One registry for the local runtime and for
 * `devops-agent plan`, so the dry run's "Runtime can run every step" gate answers as a deployment would.
 * `variables` is the process environment the caller read: checks take their credentials from it by name
 * (`url_env`, `auth.secret`).
 */
export const localRunners = (
  baseDir: string,
  variables: Readonly<Record<string, string | undefined>>,
): Pick<Ports, 'steps' | 'checks'> => {
  const variable = (name: string): string | undefined => variables[name] || undefined;
  return {
    steps: { command: new CommandStepRunner(baseDir) },
    checks: {
      http: new HttpCheckRunner({ secret: async (name) => variable(name) }),
      // no Secrets Manager here: a check with url_secret says to use url_env
      sql: new SqlCheckRunner({ env: variable }),
    },
  };
};

/** The local alarm source: probes each service's `monitoring.health_url` and `metrics_url` from the config. */
export const localAlarms = (config: Config, clock: Clock): LocalMonitor =>
  new LocalMonitor(
    (service, environment) =>
      config.services.find((s) => s.name === service && s.environment === environment)?.monitoring,
    clock,
  );
