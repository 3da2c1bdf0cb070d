import { taskHandler } from '../shared/middleware.js';
import { releaseLock } from './release-lock.js';

/** The ReleaseLock Task state. */
export const handler = taskHandler(releaseLock);
