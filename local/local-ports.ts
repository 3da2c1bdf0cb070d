import type { Config } from '../functions/shared/config/schema.js';
import type { Clock } from '../functions/shared/ports/clock.js';
import type { Ports } from '../functions/shared/ports/index.js';
import { CommandStepRunner } from './adapters/command-step-runner.js';
import { HttpCheckRunner } from './adapters/http-check-runner.js';
import { LocalMonitor } from './adapters/local-monitor.js';

/**
 * The step and check kinds this machine can run. One registry for the local runtime and for
 * `devops-agent plan`, so the dry run's "Runtime can run every step" gate answers as a deployment would.
 */
export const localRunners = (baseDir: string): Pick<Ports, 'steps' | 'checks'> => ({
  steps: { command: new CommandStepRunner(baseDir) },
  checks: { http: new HttpCheckRunner() },
});

/** The local alarm source: probes each service's `monitoring.health_url` and `metrics_url` from the config. */
export const localAlarms = (config: Config, clock: Clock): LocalMonitor =>
  new LocalMonitor(
    (service, environment) =>
      config.services.find((s) => s.name === service && s.environment === environment)?.monitoring,
    clock,
  );
