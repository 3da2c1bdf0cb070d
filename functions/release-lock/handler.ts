import { dynamoStore } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { releaseLock } from './release-lock.js';

/** The ReleaseLock Task state. */
export const handler = taskHandler(releaseLock, awsPorts({ store: dynamoStore }));
