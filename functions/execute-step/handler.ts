import { taskHandler } from '../shared/middleware.js';
import { executeStep } from './execute-step.js';

/** The ExecuteStep Task state. */
export const handler = taskHandler(executeStep);
