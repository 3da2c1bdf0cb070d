import { taskHandler } from '../shared/middleware.js';
import { rollback } from './rollback.js';

/** The Rollback Task state. */
export const handler = taskHandler(rollback);
