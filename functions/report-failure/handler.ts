import { taskHandler } from '../shared/middleware.js';
import { reportFailure } from './report-failure.js';

/** The ReportFailure Task state. */
export const handler = taskHandler(reportFailure);
