import { clickUpTracker, dynamoStore, s3Artifacts } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { taskHandler } from '../shared/middleware.js';
import { finalize } from './finalize.js';

/** The Finalize Task state. */
export const handler = taskHandler(
  finalize,
  awsPorts({ tracker: clickUpTracker, store: dynamoStore, artifacts: s3Artifacts }),
);
