import { dynamoStore, stepFunctionsWorkflow } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { eventHandler } from '../shared/middleware.js';
import { handleAlarmEvent } from './alarm-event.js';

const ports = awsPorts({ store: dynamoStore, workflow: stepFunctionsWorkflow });

/** EventBridge "CloudWatch Alarm State Change" to ALARM: rolls back the deployments baking on that alarm. */
export const handler = eventHandler('alarm event', handleAlarmEvent, ports);
