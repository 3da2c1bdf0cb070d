import { clickUpTracker, dynamoStore } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { acknowledge } from './acknowledge.js';

/** The Acknowledge Task state. */
export const handler = taskHandler(acknowledge, awsPorts({ tracker: clickUpTracker, store: dynamoStore }));
