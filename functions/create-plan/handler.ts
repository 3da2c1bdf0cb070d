import { taskHandler } from '../shared/middleware.js';
import { createPlan } from './create-plan.js';

/** The CreatePlan Task state. */
export const handler = taskHandler(createPlan);
