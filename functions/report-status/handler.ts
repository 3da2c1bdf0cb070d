import { taskHandler } from '../shared/middleware.js';
import { reportStatus } from './report-status.js';

/** The ReportStatus Task state. */
export const handler = taskHandler(reportStatus);
