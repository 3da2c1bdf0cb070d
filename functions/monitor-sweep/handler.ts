import { cloudWatchAlarms, dynamoStore, stepFunctionsWorkflow } from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { eventHandler } from '../shared/middleware.js';
import { sweepMonitors } from './monitor-sweep.js';

const ports = awsPorts({ store: dynamoStore, alarms: cloudWatchAlarms, workflow: stepFunctionsWorkflow });

/** Every minute (EventBridge Scheduler): fails breached bake intervals, ends due ones, expires approvals. */
export const handler = eventHandler('monitor sweep', (_event, ports) => sweepMonitors(ports), ports);
