import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger per function; the service name comes from POWERTOOLS_SERVICE_NAME when set. */
export const logger = new Logger({ serviceName: 'devops-agent' });
