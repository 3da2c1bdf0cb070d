import type { ApprovalKeys } from '../approval-links.js';
import type { Config } from '../config/schema.js';
import type { AlarmSource } from './alarm-source.js';
import type { ArtifactStore } from './artifact-store.js';
import type { Clock } from './clock.js';
import type { DeploymentStore } from './deployment-store.js';
import type { MetricReader } from './metric-readings.js';
import type { Notifier } from './notifier.js';
import type { SourceControl } from './source-control.js';
import type { CheckRunners, StepRunners } from './step-runner.js';
import type { Telemetry } from './telemetry.js';
import type { Tracker } from './tracker.js';
import type { WorkflowControl } from './workflow-control.js';

export interface Logger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Links people follow from comments and mails. */
export interface Links {
  /** an approver's personal confirm-page link: the signed token rides in the query string */
  approval(approvalId: string, token: string): string;
  deployment(deploymentId: string): string;
}

/** Every port a core may receive; each core takes only the ones it needs (`Pick<Ports, …>`). */
export interface Ports {
  config: Config;
  tracker: Tracker;
  store: DeploymentStore;
  notifier: Notifier;
  artifacts: ArtifactStore;
  sourceControl: SourceControl;
  alarms: AlarmSource;
  /** the services' metrics for the status reports, where the alarm source has none (CloudWatch on AWS) */
  readings?: MetricReader;
  steps: StepRunners;
  checks: CheckRunners;
  workflow: WorkflowControl;
  /** the keys approval links are signed with */
  approvalKeys: ApprovalKeys;
  clock: Clock;
  logger: Logger;
  links: Links;
  /** the agent's own metrics (CloudWatch on AWS); absent, nothing is counted */
  telemetry?: Telemetry;
}

export type {
  AlarmSource,
  ApprovalKeys,
  ArtifactStore,
  CheckRunners,
  Clock,
  DeploymentStore,
  MetricReader,
  Notifier,
  SourceControl,
  StepRunners,
  Telemetry,
  Tracker,
  WorkflowControl,
};
