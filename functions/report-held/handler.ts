import { taskHandler } from '../shared/middleware.js';
import { reportHeld } from './report-held.js';

/** The ReportHeld Task state. */
export const handler = taskHandler(reportHeld);
