import { clickUpTracker, dynamoStore } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { awsStepRunners } from '../shared/aws-step-runners.js';
import { taskHandler } from '../shared/middleware.js';
import { rollback } from './rollback.js';

/** The Rollback Task state. */
export const handler = taskHandler(
  rollback,
  awsPorts({ tracker: clickUpTracker, store: dynamoStore, steps: awsStepRunners }),
);
