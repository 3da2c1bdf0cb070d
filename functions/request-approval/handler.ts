import { clickUpTracker, dynamoStore, sesNotifier, storedApprovalKeys } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { requestApproval } from './request-approval.js';

/** The RequestApproval Task state. */
export const handler = taskHandler(
  requestApproval,
  awsPorts({
    tracker: clickUpTracker,
    store: dynamoStore,
    notifier: sesNotifier,
    approvalKeys: storedApprovalKeys,
  }),
);
