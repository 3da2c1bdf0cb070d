import { taskHandler } from '../shared/middleware.js';
import { reportBlocked } from './report-blocked.js';

/** The ReportBlocked Task state. */
export const handler = taskHandler(reportBlocked);
