import { taskHandler } from '../shared/middleware.js';
import { monitor } from './monitor.js';

/** The Monitor Task state. */
export const handler = taskHandler(monitor);
