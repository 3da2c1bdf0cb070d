import { taskHandler } from '../shared/middleware.js';
import { checkGates } from './check-gates.js';

/** The CheckGates Task state. */
export const handler = taskHandler(checkGates);
