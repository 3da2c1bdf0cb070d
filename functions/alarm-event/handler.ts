import { eventHandler } from '../shared/middleware.js';
import { handleAlarmEvent } from './alarm-event.js';

/** EventBridge "CloudWatch Alarm State Change" to ALARM: rolls back the deployments baking on that alarm. */
export const handler = eventHandler('alarm event', handleAlarmEvent);
