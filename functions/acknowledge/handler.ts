import { taskHandler } from '../shared/middleware.js';
import { acknowledge } from './acknowledge.js';

/** The Acknowledge Task state. */
export const handler = taskHandler(acknowledge);
