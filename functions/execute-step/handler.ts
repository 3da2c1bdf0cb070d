import { awsPorts } from '../shared/aws-ports.js';
import { awsStepRunners } from '../shared/aws-step-runners.js';
import { taskHandler } from '../shared/middleware.js';
import { executeStep } from './execute-step.js';

/** The ExecuteStep Task state. */
export const handler = taskHandler(executeStep, () => awsPorts({ steps: awsStepRunners }));
