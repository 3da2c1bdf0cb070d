import { awsPorts } from '../shared/aws-ports.js';
import { awsRolloutChecks } from '../shared/aws-step-runners.js';
import { taskHandler } from '../shared/middleware.js';
import { verify } from './verify.js';

/** The Verify Task state (with the rollout check, which reads the Deployment on EKS). */
export const handler = taskHandler(verify, () => awsPorts({ checks: awsRolloutChecks }));
