import { clickUpTracker, dynamoStore } from '../shared/aws-adapters.js';
import { awsChecks } from '../shared/aws-check-runners.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { verifyRollback } from './verify-rollback.js';

/** The VerifyRollback Task state (http and sql checks; it skips rollout checks). */
export const handler = taskHandler(
  verifyRollback,
  awsPorts({ tracker: clickUpTracker, store: dynamoStore, checks: awsChecks }),
);
