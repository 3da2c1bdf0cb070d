import { eventHandler } from '../shared/middleware.js';
import { sweepMonitors } from './monitor-sweep.js';

/** Every minute (EventBridge Scheduler): fails breached bake intervals, ends due ones, expires approvals. */
export const handler = eventHandler('monitor sweep', (_event, ports) => sweepMonitors(ports));
