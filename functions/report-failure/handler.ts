import { clickUpTracker, dynamoStore, s3Artifacts, sesNotifier } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { reportFailure } from './report-failure.js';

/** The ReportFailure Task state. */
export const handler = taskHandler(
  reportFailure,
  awsPorts({ tracker: clickUpTracker, store: dynamoStore, artifacts: s3Artifacts, notifier: sesNotifier }),
);
