import { clickUpTracker, dynamoStore, s3Artifacts } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { reportBlocked } from './report-blocked.js';

/** The ReportBlocked Task state. */
export const handler = taskHandler(
  reportBlocked,
  awsPorts({ tracker: clickUpTracker, store: dynamoStore, artifacts: s3Artifacts }),
);
