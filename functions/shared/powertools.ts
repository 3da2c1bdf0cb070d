import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { PowertoolsTelemetry } from './adapters/powertools-telemetry.js';
import { AGENT_METRICS } from './agent-metrics.js';

/**
 * One structured JSON logger per function, service `devops-agent` in every line; which function wrote it is
 * in the Lambda context keys (`function_name`, `injectLambdaContext`). The level comes from
 * POWERTOOLS_LOG_LEVEL.
 */
export const logger = new Logger({ serviceName: AGENT_METRICS.service });

/**
 * The agent's metrics as EMF in the log (namespace `DevopsAgent`, dimension `service` = `devops-agent`
 * whatever the function's POWERTOOLS_SERVICE_NAME, so the dashboard finds one series per metric).
 * Most invocations emit none: Powertools' "No application metrics to publish" warning on each of them is
 * noise, so it goes to the debug level; its other warnings stay warnings.
 */
export const metrics = new Metrics({
  namespace: AGENT_METRICS.namespace,
  serviceName: AGENT_METRICS.service,
  logger: {
    debug: (message: string) => logger.debug(message),
    info: (message: string) => logger.info(message),
    warn: (message: string) =>
      message.startsWith('No application metrics') ? logger.debug(message) : logger.warn(message),
    error: (message: string) => logger.error(message),
  },
});

/**
 * X-Ray traces of the handler and of every SDK client (`clients.ts`) and HTTP call. Powertools turns
 * tracing off outside Lambda (no AWS_EXECUTION_ENV), so in tests and scripts every call is a no-op and
 * `captureAWSv3Client` returns the client untouched.
 */
export const tracer = new Tracer();

/** The cores' telemetry port on AWS. */
export const telemetry = new PowertoolsTelemetry(metrics, {
  warn: (message, extra) => logger.warn(message, extra ?? {}),
});
