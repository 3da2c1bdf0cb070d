import { NotFoundError } from '../errors.js';
import type { Config, Service, Triggers } from './schema.js';

/** What one deployment of one service runs with: the service block over the agent-wide defaults. */
export interface ServiceSettings {
  requireApproval: boolean;
  approvalTimeoutSeconds: number;
  monitoringPeriodSeconds: number;
  reportIntervalSeconds: number;
  checkIntervalSeconds: number;
  verificationTimeoutSeconds: number;
  autoRollback: boolean;
  triggers: Triggers;
  inputStatus: string;
  deployingStatus?: string;
  outputStatus: string;
  failureStatus?: string;
}

export const findService = (config: Config, name: string, environment?: string): Service => {
  const service = config.services.find(
    (s) => s.name === name && (environment === undefined || s.environment === environment),
  );
  if (!service) {
    const known = config.services.map((s) => `${s.name}/${s.environment}`).join(', ');
    throw new NotFoundError(
      `no service "${name}${environment ? `/${environment}` : ''}" in the configuration (configured: ${known})`,
    );
  }
  return service;
};

/** The services whose tracker list is `listId`; a task is deployed by the service configured for its list. */
export const servicesForList = (config: Config, listId: string): Service[] =>
  config.services.filter((s) => s.tracker.list_id === listId);

export const settingsFor = (config: Config, service: Service): ServiceSettings => {
  const agent = config.devops_agent;
  return {
    requireApproval: service.approval.required ?? agent.require_human_approval,
    approvalTimeoutSeconds: Math.round(service.approval.timeout),
    monitoringPeriodSeconds: Math.round(service.monitoring.period ?? agent.monitoring_period),
    reportIntervalSeconds: Math.max(1, Math.round(service.monitoring.report_interval)),
    checkIntervalSeconds: Math.max(1, Math.round(service.monitoring.check_interval)),
    verificationTimeoutSeconds: Math.round(agent.verification_timeout),
    autoRollback: service.rollback.enabled ?? agent.auto_rollback_enabled,
    triggers: { ...agent.rollback_triggers, ...service.monitoring.triggers },
    inputStatus: service.tracker.input_status ?? agent.input_status,
    deployingStatus: service.tracker.deploying_status ?? agent.deploying_status,
    outputStatus: service.tracker.output_status ?? agent.output_status,
    failureStatus: service.tracker.failure_status ?? agent.failure_status,
  };
};
