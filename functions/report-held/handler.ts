import { clickUpTracker, dynamoStore, s3Artifacts } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { reportHeld } from './report-held.js';

/** The ReportHeld Task state. */
export const handler = taskHandler(
  reportHeld,
  awsPorts({ tracker: clickUpTracker, store: dynamoStore, artifacts: s3Artifacts }),
);
