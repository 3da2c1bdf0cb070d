import { taskHandler } from '../shared/middleware.js';
import { acquireLock } from './acquire-lock.js';

/** The AcquireLock Task state. */
export const handler = taskHandler(acquireLock);
