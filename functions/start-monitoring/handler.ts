import { taskHandler } from '../shared/middleware.js';
import { startMonitoring } from './start-monitoring.js';

/** The StartMonitoring Task state. */
export const handler = taskHandler(startMonitoring);
