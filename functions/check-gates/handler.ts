import {
  clickUpTracker,
  cloudWatchAlarms,
  dynamoStore,
  gitHubSourceControl,
} from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { checkGates } from './check-gates.js';

/** The CheckGates Task state. */
export const handler = taskHandler(
  checkGates,
  awsPorts({
    tracker: clickUpTracker,
    store: dynamoStore,
    sourceControl: gitHubSourceControl,
    alarms: cloudWatchAlarms,
  }),
);
