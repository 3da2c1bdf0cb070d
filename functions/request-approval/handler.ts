import { taskHandler } from '../shared/middleware.js';
import { requestApproval } from './request-approval.js';

/** The RequestApproval Task state. */
export const handler = taskHandler(requestApproval);
