import { cloudWatchAlarms, dynamoStore } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { monitor } from './monitor.js';

/** The Monitor Task state. */
export const handler = taskHandler(monitor, awsPorts({ store: dynamoStore, alarms: cloudWatchAlarms }));
