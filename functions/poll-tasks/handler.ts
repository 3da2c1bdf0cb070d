import { eventHandler } from '../shared/middleware.js';
import { pollTasks } from './poll-tasks.js';

/** Every `poll_interval` (EventBridge Scheduler): starts deployments for tasks waiting in the input status. */
export const handler = eventHandler('polling pickup', (_event, ports) => pollTasks(ports));
