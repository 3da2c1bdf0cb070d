import { clickUpTracker, cloudWatchAlarms, cloudWatchReadings, dynamoStore } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { reportStatus } from './report-status.js';

/** The ReportStatus Task state. */
export const handler = taskHandler(
  reportStatus,
  awsPorts({
    tracker: clickUpTracker,
    store: dynamoStore,
    alarms: cloudWatchAlarms,
    readings: cloudWatchReadings,
  }),
);
