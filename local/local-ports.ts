import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { S3Client } from '@aws-sdk/client-s3';
import { CloudFrontInvalidationStepRunner } from '../functions/shared/adapters/cloudfront-invalidation-step-runner.js';
import { kubeconfigFileAccess } from '../functions/shared/adapters/kubernetes/cluster-access.js';
import { KubernetesStepRunner } from '../functions/shared/adapters/kubernetes-step-runner.js';
import { MigrationStepRunner } from '../functions/shared/adapters/migration-step-runner.js';
import { RolloutCheckRunner } from '../functions/shared/adapters/rollout-check-runner.js';
import { S3SyncStepRunner } from '../functions/shared/adapters/s3-sync-step-runner.js';
import { SqlCheckRunner } from '../functions/shared/adapters/sql-check-runner.js';
import type { Config } from '../functions/shared/config/schema.js';
import type { Clock } from '../functions/shared/ports/clock.js';
import type { Ports } from '../functions/shared/ports/index.js';
import { CommandStepRunner } from './adapters/command-step-runner.js';
import { HttpCheckRunner } from './adapters/http-check-runner.js';
import { LocalMonitor } from './adapters/local-monitor.js';
import { AwsEndpointSchema } from './env.js';

type Variables = Readonly<Record<string, string | undefined>>;

/** An SDK client's settings for `aws` (the SDK's region and credentials) or an S3-compatible URL. */
const awsClientConfig = (name: string, variables: Variables) => {
  const parsed = AwsEndpointSchema.safeParse(variables[name] || undefined);
  if (!parsed.success) throw new Error(`environment: ${name}: ${parsed.error.issues[0]?.message}`);
  const endpoint = parsed.data;
  if (endpoint === undefined) return undefined;
  if (endpoint === 'aws') return { maxAttempts: 5 };
  const key = variables.AWS_ACCESS_KEY_ID;
  const secret = variables.AWS_SECRET_ACCESS_KEY;
  return {
    maxAttempts: 5,
    endpoint,
    region: variables.AWS_REGION || 'us-east-1',
    ...(key && secret ? { credentials: { accessKeyId: key, secretAccessKey: secret } } : {}),
  };
};

/**
 * The s3-sync and cloudfront-invalidation runners, when the environment says where S3 and CloudFront are
 * (`DEVOPS_AGENT_S3_ENDPOINT`, `DEVOPS_AGENT_CLOUDFRONT_ENDPOINT`); a local folder source is read under
 * `baseDir`.
 */
const siteRunners = (baseDir: string, variables: Variables): Ports['steps'] => {
  const s3 = awsClientConfig('DEVOPS_AGENT_S3_ENDPOINT', variables);
  const cloudfront = awsClientConfig('DEVOPS_AGENT_CLOUDFRONT_ENDPOINT', variables);
  const invalidations = cloudfront
    ? new CloudFrontInvalidationStepRunner({ client: new CloudFrontClient(cloudfront) })
    : undefined;
  return {
    ...(s3
      ? {
          's3-sync': new S3SyncStepRunner({
            client: new S3Client({
              ...s3,
              // MinIO and s3rver: path-style URLs, and a checksum only where S3 requires one (s3rver would
              // store an aws-chunked body with its trailing checksum as the object)
              ...('endpoint' in s3
                ? {
                    forcePathStyle: true,
                    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
                    responseChecksumValidation: 'WHEN_REQUIRED' as const,
                  }
                : {}),
            }),
            localBaseDir: baseDir,
            ...(invalidations ? { invalidator: invalidations } : {}),
          }),
        }
      : {}),
    ...(invalidations ? { 'cloudfront-invalidation': invalidations } : {}),
  };
};

/**
 * kubernetes steps and migration Jobs through the kubeconfig in `KUBECONFIG` (a file, or a `:`-separated
 * list as kubectl reads it); a migration without an image always runs, as a command of the command runner.
 */
const clusterRunners = (
  baseDir: string,
  variables: Variables,
  command: CommandStepRunner,
): Ports['steps'] => {
  const kubeconfig = variables.KUBECONFIG || undefined;
  const access = kubeconfig ? kubeconfigFileAccess(kubeconfig) : undefined;
  return {
    migration: new MigrationStepRunner({ commands: command, ...(access ? { access } : {}) }),
    ...(access ? { kubernetes: new KubernetesStepRunner({ access, baseDir }) } : {}),
  };
};

/**
 * The step and check kinds this machine can run. One registry for the local runtime and for
 * `devops-agent plan`, so the dry run's "Runtime can run every step" gate answers as a deployment would.
 * `variables` is the process environment the caller read: checks take their credentials from it by name
 * (`url_env`, `auth.secret`); s3-sync and cloudfront-invalidation steps are runnable only when it names
 * their endpoints (`DEVOPS_AGENT_S3_ENDPOINT`, `DEVOPS_AGENT_CLOUDFRONT_ENDPOINT`); kubernetes steps (and
 * migrations with an image) only when it names a kubeconfig (`KUBECONFIG`).
 */
export const localRunners = (
  baseDir: string,
  variables: Readonly<Record<string, string | undefined>>,
): Pick<Ports, 'steps' | 'checks'> => {
  const variable = (name: string): string | undefined => variables[name] || undefined;
  const command = new CommandStepRunner(baseDir);
  return {
    steps: { command, ...clusterRunners(baseDir, variables, command), ...siteRunners(baseDir, variables) },
    checks: {
      http: new HttpCheckRunner({ secret: async (name) => variable(name) }),
      // no Secrets Manager here: a check with url_secret says to use url_env
      sql: new SqlCheckRunner({ env: variable }),
      ...(variable('KUBECONFIG')
        ? { rollout: new RolloutCheckRunner({ access: kubeconfigFileAccess(variable('KUBECONFIG') ?? '') }) }
        : {}),
    },
  };
};

/** The local alarm source: probes each service's `monitoring.health_url` and `metrics_url` from the config. */
export const localAlarms = (config: Config, clock: Clock): LocalMonitor =>
  new LocalMonitor(
    (service, environment) =>
      config.services.find((s) => s.name === service && s.environment === environment)?.monitoring,
    clock,
  );
