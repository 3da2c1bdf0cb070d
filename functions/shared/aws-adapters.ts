import { ClickUpTracker } from './adapters/clickup-tracker.js';
import { CloudWatchAlarmSource } from './adapters/cloudwatch-alarm-source.js';
import { CloudWatchMetricReader } from './adapters/cloudwatch-metric-reader.js';
import { DynamoDeploymentStore } from './adapters/dynamo-deployment-store.js';
import { GitHubSourceControl } from './adapters/github-source-control.js';
import { S3ArtifactStore } from './adapters/s3-artifact-store.js';
import { SesNotifier } from './adapters/ses-notifier.js';
import { StepFunctionsWorkflowControl } from './adapters/sfn-workflow-control.js';
import { StoredApprovalKeys } from './approval-links.js';
import { readSecret, required } from './aws-ports.js';
import { cloudwatchClient, dynamoClient, s3Client, sesClient, sfnClient } from './clients.js';
import type { Env } from './env.js';
import type {
  AlarmSource,
  ApprovalKeys,
  ArtifactStore,
  DeploymentStore,
  MetricReader,
  Notifier,
  SourceControl,
  Tracker,
  WorkflowControl,
} from './ports/index.js';

// The production adapter of each port, from the function's environment; a handler passes the ones its core
// uses to `awsPorts`. One function each, so a bundle keeps only the adapters (and SDK clients) it names.

/** ClickUp with the token from Secrets Manager. */
export const clickUpTracker = (env: Env): Tracker => {
  const secretArn = required(env, 'CLICKUP_TOKEN_SECRET_ARN');
  return new ClickUpTracker({
    token: () => readSecret(secretArn),
    ...(env.CLICKUP_API_URL ? { baseUrl: env.CLICKUP_API_URL } : {}),
  });
};

export const dynamoStore = (env: Env): DeploymentStore =>
  new DynamoDeploymentStore({ client: dynamoClient(), tableName: required(env, 'TABLE_NAME') });

export const sesNotifier = (env: Env): Notifier =>
  new SesNotifier({ client: sesClient(), from: required(env, 'MAIL_FROM') });

export const s3Artifacts = (env: Env): ArtifactStore =>
  new S3ArtifactStore({
    client: s3Client(),
    bucket: required(env, 'ARTIFACT_BUCKET'),
    region: env.AWS_REGION,
  });

/** GitHub (or GitHub Enterprise Server) with the token from Secrets Manager. */
export const gitHubSourceControl = (env: Env): SourceControl => {
  const secretArn = required(env, 'GITHUB_TOKEN_SECRET_ARN');
  return new GitHubSourceControl({
    token: () => readSecret(secretArn),
    ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
  });
};

export const cloudWatchAlarms = (): AlarmSource => new CloudWatchAlarmSource({ client: cloudwatchClient() });

export const cloudWatchReadings = (): MetricReader =>
  new CloudWatchMetricReader({ client: cloudwatchClient() });

export const stepFunctionsWorkflow = (env: Env): WorkflowControl =>
  new StepFunctionsWorkflowControl({
    client: sfnClient(),
    stateMachineArn: required(env, 'STATE_MACHINE_ARN'),
  });

/** The approval link keyring from Secrets Manager (rotatable). */
export const storedApprovalKeys = (env: Env): ApprovalKeys => {
  const secretArn = required(env, 'APPROVAL_KEYS_SECRET_ARN');
  return new StoredApprovalKeys(() => readSecret(secretArn), `secret ${secretArn}`);
};
