import { clickUpTracker, dynamoStore, stepFunctionsWorkflow } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { eventHandler } from '../shared/middleware.js';
import { pollTasks } from './poll-tasks.js';

const ports = awsPorts({ tracker: clickUpTracker, store: dynamoStore, workflow: stepFunctionsWorkflow });

/** Every `poll_interval` (EventBridge Scheduler): starts deployments for tasks waiting in the input status. */
export const handler = eventHandler('polling pickup', (_event, ports) => pollTasks(ports), ports);
