import { clickUpTracker, dynamoStore } from '../shared/aws-adapters.js';
import { awsChecks } from '../shared/aws-check-runners.js';
import { awsPorts } from '../shared/aws-ports.js';
import { awsRolloutChecks } from '../shared/aws-step-runners.js';
import { taskHandler } from '../shared/middleware.js';
import { verify } from './verify.js';

/** The Verify Task state: http and sql checks, and the rollout check (reads the Deployment on EKS). */
export const handler = taskHandler(
  verify,
  awsPorts({
    tracker: clickUpTracker,
    store: dynamoStore,
    checks: (env) => ({ ...awsChecks(), ...awsRolloutChecks(env) }),
  }),
);
