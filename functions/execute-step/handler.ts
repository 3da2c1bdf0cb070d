import { clickUpTracker, dynamoStore } from '../shared/aws-adapters.js';
import { awsChecks } from '../shared/aws-check-runners.js';
import { awsPorts } from '../shared/aws-ports.js';
import { awsStepRunners } from '../shared/aws-step-runners.js';
import { taskHandler } from '../shared/middleware.js';
import { executeStep } from './execute-step.js';

/** The ExecuteStep Task state (with the check runners for the sql baselines read before the first step). */
export const handler = taskHandler(
  executeStep,
  awsPorts({ tracker: clickUpTracker, store: dynamoStore, steps: awsStepRunners, checks: awsChecks }),
);
