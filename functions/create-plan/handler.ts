import { clickUpTracker, cloudWatchAlarms, dynamoStore, s3Artifacts } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { awsStepRunners } from '../shared/aws-step-runners.js';
import { taskHandler } from '../shared/middleware.js';
import { createPlan } from './create-plan.js';

/** The CreatePlan Task state. */
export const handler = taskHandler(
  createPlan,
  awsPorts({
    tracker: clickUpTracker,
    store: dynamoStore,
    artifacts: s3Artifacts,
    alarms: cloudWatchAlarms,
    steps: awsStepRunners,
  }),
);
