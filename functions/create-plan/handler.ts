import { awsPorts } from '../shared/aws-ports.js';
import { awsStepRunners } from '../shared/aws-step-runners.js';
import { taskHandler } from '../shared/middleware.js';
import { createPlan } from './create-plan.js';

/** The CreatePlan Task state. */
export const handler = taskHandler(createPlan, () => awsPorts({ steps: awsStepRunners }));
