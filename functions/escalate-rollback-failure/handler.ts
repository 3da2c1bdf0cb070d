import { taskHandler } from '../shared/middleware.js';
import { escalateRollbackFailure } from './escalate-rollback-failure.js';

/** The EscalateRollbackFailure Task state. */
export const handler = taskHandler(escalateRollbackFailure);
