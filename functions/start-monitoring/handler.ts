import { clickUpTracker, dynamoStore } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { startMonitoring } from './start-monitoring.js';

/** The StartMonitoring Task state. */
export const handler = taskHandler(
  startMonitoring,
  awsPorts({ tracker: clickUpTracker, store: dynamoStore }),
);
