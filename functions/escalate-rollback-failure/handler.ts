import { clickUpTracker, dynamoStore, s3Artifacts, sesNotifier } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { escalateRollbackFailure } from './escalate-rollback-failure.js';

/** The EscalateRollbackFailure Task state. */
export const handler = taskHandler(
  escalateRollbackFailure,
  awsPorts({ tracker: clickUpTracker, store: dynamoStore, artifacts: s3Artifacts, notifier: sesNotifier }),
);
