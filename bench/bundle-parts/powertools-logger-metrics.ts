// What every function's bundle carries for logs and metrics.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger();
export const metrics = new Metrics({ namespace: 'DevopsAgent' });
