import { resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ClickUpTracker } from '../functions/shared/adapters/clickup-tracker.js';
import { DynamoDeploymentStore } from '../functions/shared/adapters/dynamo-deployment-store.js';
import { S3ArtifactStore } from '../functions/shared/adapters/s3-artifact-store.js';
import { StepFunctionsWorkflowControl } from '../functions/shared/adapters/sfn-workflow-control.js';
import { loadConfigFile } from '../functions/shared/config/load.js';
import { requestRollback } from '../functions/shared/manual-rollback.js';
import { decideTask, requestDeployment, type TaskDecision } from '../functions/shared/operator-actions.js';
import { systemClock } from '../functions/shared/ports/clock.js';
import type { Logger, Ports } from '../functions/shared/ports/index.js';
import { listDeployments } from '../local/api-routes.js';
import type { AgentClient, AgentTarget } from './agent-client.js';
import { CliError, type CliIo } from './io.js';

/**
 * The operating commands against a deployed stack: the stack's outputs (CloudFormation DescribeStacks) name
 * its table, state machine and bucket, and the commands call the same cores the local runtime's `/api/…`
 * routes call (`requestDeployment`, `decideTask`, `requestRollback`, `listDeployments`) over the production
 * adapters: DynamoDeploymentStore, StepFunctionsWorkflowControl, ClickUpTracker and S3ArtifactStore.
 *
 * The caller's own AWS credentials are used (docs/cli.md, "Against a deployed stack", lists what they
 * need); the environment given to the command supplies the region, `AWS_ENDPOINT_URL[_<SERVICE>]` and, when
 * set there, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` (else the SDK's default chain:
 * profile, SSO, instance role).
 */

/** The outputs of infra/stack.ts (`addOutputs`) the commands need. */
export const REQUIRED_OUTPUTS = ['StateMachineArn', 'TableName', 'DocumentBucket'] as const;

export interface StackOutputs {
  stateMachineArn: string;
  tableName: string;
  documentBucket: string;
  approvalBaseUrl?: string;
  webhookUrl?: string;
}

type StackTarget = Extract<AgentTarget, { kind: 'stack' }>;
type Env = Record<string, string | undefined>;

const DEPLOY_HINT =
  'deploy it with `npx cdk deploy` (docs/deploy-to-aws.md), or pass the right --stack / --region';

/** The SDK client settings from the command's environment: region, endpoint override and credentials. */
const clientConfig = (env: Env, service: string, region: string | undefined) => {
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  return {
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  };
};

/** An AWS failure the caller can fix (no credentials, access denied) as a message that says what to do. */
const explain = (error: unknown, where: string): unknown => {
  if (!(error instanceof Error)) return error;
  if (error.name === 'CredentialsProviderError' || /Could not load credentials/i.test(error.message)) {
    return new CliError(
      `no AWS credentials for ${where}: configure them (aws configure, aws sso login, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`,
      1,
      { cause: error },
    );
  }
  if (/AccessDenied|UnrecognizedClient|ExpiredToken|InvalidClientTokenId/.test(error.name)) {
    return new CliError(
      `AWS refused a call for ${where} (${error.name}): ${error.message}; docs/cli.md ("Against a deployed stack") lists the permissions the caller needs`,
      1,
      { cause: error },
    );
  }
  return error;
};

/**
 * The stack's outputs by name; a stack that does not exist, or lacks an output (not deployed by this
 * version of the CDK app), is a CliError saying which stack, which region and how to create it.
 */
export const readStackOutputs = async (
  cloudformation: CloudFormationClient,
  stack: string,
  region: string,
): Promise<StackOutputs> => {
  const where = `stack ${stack} in ${region}`;
  let outputs: Record<string, string>;
  try {
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stack }));
    const [found] = Stacks ?? [];
    if (!found) throw new CliError(`no CloudFormation ${where}; ${DEPLOY_HINT}`);
    outputs = Object.fromEntries(
      (found.Outputs ?? []).flatMap((o) =>
        o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
  } catch (error) {
    if (error instanceof Error && /does not exist/.test(error.message)) {
      throw new CliError(`no CloudFormation ${where}; ${DEPLOY_HINT}`, 1, { cause: error });
    }
    throw explain(error, where);
  }
  const missing = REQUIRED_OUTPUTS.filter((name) => !outputs[name]);
  if (missing.length > 0) {
    throw new CliError(
      `${where} has no output ${missing.join(', ')}: it is not a devops-agent stack, or was deployed by an older version (or its last update failed); run \`npx cdk deploy\` to create or update it`,
    );
  }
  return {
    stateMachineArn: outputs.StateMachineArn as string,
    tableName: outputs.TableName as string,
    documentBucket: outputs.DocumentBucket as string,
    ...(outputs.ApprovalBaseUrl ? { approvalBaseUrl: outputs.ApprovalBaseUrl } : {}),
    ...(outputs.WebhookUrl ? { webhookUrl: outputs.WebhookUrl } : {}),
  };
};

/** The Step Functions console page of the deployment's execution (as the Lambdas link it). */
const executionLink = (region: string, stateMachineArn: string, deploymentId: string) =>
  `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${stateMachineArn.replace(':stateMachine:', ':execution:')}:${deploymentId}`;

/** The command prints what happened; the cores' operational log lines are for the Lambdas' logs. */
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * An AgentClient over the stack's resources. Reads the configuration (the file the stack was synthesized
 * from: the approvers and services the rules check), finds the outputs, and builds each SDK client once.
 */
export const stackAgent = async (target: StackTarget, io: CliIo): Promise<AgentClient> => {
  const config = loadConfigFile(resolve(io.cwd, target.config));
  const cloudformation = new CloudFormationClient(clientConfig(io.env, 'CLOUDFORMATION', target.region));
  let region: string;
  try {
    region = target.region ?? (await cloudformation.config.region());
  } catch (error) {
    throw new CliError(
      `no AWS region for stack ${target.stack}: pass --region or set AWS_REGION (or a region in the AWS profile)`,
      1,
      { cause: error },
    );
  }
  const where = `stack ${target.stack} in ${region}`;
  const outputs = await readStackOutputs(cloudformation, target.stack, region);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(io.env, 'DYNAMODB', region)), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const sfn = new SFNClient(clientConfig(io.env, 'SFN', region));
  const s3 = new S3Client(clientConfig(io.env, 'S3', region));

  const token = io.env.CLICKUP_API_TOKEN?.trim();
  /** deploy reads the task, approve and hold may comment on it: the bot's token is needed before acting. */
  const needTracker = (command: string) => {
    if (!token) {
      throw new CliError(
        `CLICKUP_API_TOKEN is not set: against ${where}, devops-agent ${command} reads and comments the task in ClickUp itself; export the bot user's token (the stack keeps it in the devops-agent/clickup-token secret: aws secretsmanager get-secret-value --secret-id devops-agent/clickup-token --query SecretString --output text)`,
      );
    }
  };
  const ports: Pick<
    Ports,
    'config' | 'tracker' | 'store' | 'workflow' | 'artifacts' | 'clock' | 'logger' | 'links'
  > = {
    config,
    tracker: new ClickUpTracker({
      token: token ?? '',
      ...(io.env.CLICKUP_API_URL ? { baseUrl: io.env.CLICKUP_API_URL } : {}),
    }),
    store: new DynamoDeploymentStore({ client: dynamo, tableName: outputs.tableName }),
    workflow: new StepFunctionsWorkflowControl({ client: sfn, stateMachineArn: outputs.stateMachineArn }),
    artifacts: new S3ArtifactStore({ client: s3, bucket: outputs.documentBucket, region }),
    clock: systemClock,
    logger: quiet,
    links: {
      approval: (id, approvalToken) =>
        `${outputs.approvalBaseUrl ?? ''}/${id}?t=${encodeURIComponent(approvalToken)}`,
      deployment: (id) => executionLink(region, outputs.stateMachineArn, id),
    },
  };
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw explain(error, where);
    }
  };

  // approve and hold are one vote through the approval rules; only the decision differs
  const decide = (command: 'approve' | 'hold', decision: TaskDecision) =>
    guarded(async () => {
      needTracker(command);
      const result = await decideTask(decision, ports);
      return {
        deploymentId: result.deploymentId,
        outcome: result.outcome,
        approvals: result.approvals,
        quorum: result.quorum,
        url: ports.links.deployment(result.deploymentId),
      };
    });

  return {
    where,
    deploy: (taskId, as) =>
      guarded(async () => {
        needTracker('deploy');
        const result = await requestDeployment({ taskId, ...(as ? { by: as } : {}) }, ports);
        return {
          ...result,
          ...(result.deploymentId ? { url: ports.links.deployment(result.deploymentId) } : {}),
        };
      }),
    deployments: (filter) => guarded(() => listDeployments(ports, filter)),
    approve: (taskId, as, comment) =>
      decide('approve', { taskId, as, decision: 'approve', ...(comment ? { comment } : {}) }),
    hold: (taskId, as, reason) => decide('hold', { taskId, as, decision: 'hold', comment: reason }),
    rollback: (taskId, as, reason) =>
      guarded(async () => {
        const accepted = await requestRollback(
          { taskId, actor: { name: as, ids: [as] }, channel: 'cli', ...(reason ? { reason } : {}) },
          ports,
        );
        return { ...accepted, url: ports.links.deployment(accepted.deploymentId) };
      }),
  };
};
