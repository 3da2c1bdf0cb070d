import { taskHandler } from '../shared/middleware.js';
import { verify } from './verify.js';

/** The Verify Task state. */
export const handler = taskHandler(verify);
