import { CloudWatchHealthMetrics } from '../shared/adapters/cloudwatch-health-metrics.js';
import { awsPorts } from '../shared/aws-ports.js';
import { cloudwatchClient } from '../shared/clients.js';
import { probeHealth } from '../shared/health-probe.js';
import { eventHandler } from '../shared/middleware.js';
import { probeServices } from './health-probe.js';

const ports = awsPorts({});

/** A probe answers within 10 s or fails: the function runs every minute, so probes must not overlap. */
const TIMEOUT_MS = 10_000;

const health = new CloudWatchHealthMetrics({ client: cloudwatchClient() });

/** Every minute (EventBridge Scheduler): probes each service's health_url for its health alarm. */
export const handler = eventHandler(
  'health probe',
  (_event, ports) =>
    probeServices({
      ...ports,
      health,
      probe: (url) => probeHealth(url, { fetch, timeoutMs: TIMEOUT_MS, now: Date.now }),
    }),
  ports,
);
