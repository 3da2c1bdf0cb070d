import { taskHandler } from '../shared/middleware.js';
import { finalize } from './finalize.js';

/** The Finalize Task state. */
export const handler = taskHandler(finalize);
