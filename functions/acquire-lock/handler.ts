import { clickUpTracker, dynamoStore } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { acquireLock } from './acquire-lock.js';

/** The AcquireLock Task state. */
export const handler = taskHandler(acquireLock, awsPorts({ tracker: clickUpTracker, store: dynamoStore }));
