import { taskHandler } from '../shared/middleware.js';
import { verifyRollback } from './verify-rollback.js';

/** The VerifyRollback Task state. */
export const handler = taskHandler(verifyRollback);
