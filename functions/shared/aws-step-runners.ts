import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { EKSClient } from '@aws-sdk/client-eks';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { CloudFrontInvalidationStepRunner } from './adapters/cloudfront-invalidation-step-runner.js';
import { type ClusterAccess, eksClusterAccess } from './adapters/kubernetes/cluster-access.js';
import { KubernetesStepRunner } from './adapters/kubernetes-step-runner.js';
import { MigrationStepRunner } from './adapters/migration-step-runner.js';
import { RolloutCheckRunner } from './adapters/rollout-check-runner.js';
import { S3SyncStepRunner } from './adapters/s3-sync-step-runner.js';
import { lazy } from './aws-ports.js';
import { AWS_HTTP_TIMEOUTS, once, s3Client, traced } from './clients.js';
import type { Env } from './env.js';
import type { CheckRunners, StepRunners } from './ports/index.js';

/** The clients only the step functions use, here so that no other bundle carries them. */
const stepClients = {
  eks: once(() => traced(new EKSClient({ requestHandler: AWS_HTTP_TIMEOUTS }))),
  cloudfront: once(() => traced(new CloudFrontClient({ maxAttempts: 5, requestHandler: AWS_HTTP_TIMEOUTS }))),
};

/** EKS with the function role's credentials, built at first use and then shared. */
const eksAccessFor = (env: Env): (() => ClusterAccess) => {
  let access: ClusterAccess | undefined;
  return () => {
    access ??= eksClusterAccess({
      client: stepClients.eks(),
      region: env.AWS_REGION,
      credentials: defaultProvider(),
    });
    return access;
  };
};

/**
 * The step runners on AWS. Only the functions that run, undo or describe steps import this module (the
 * Kubernetes client is most of a bundle's size): ExecuteStep, Rollback and CreatePlan.
 */
export const awsStepRunners = (env: Env): StepRunners => {
  const invalidations = lazy(
    () => new CloudFrontInvalidationStepRunner({ client: stepClients.cloudfront() }),
  );
  // one EKS access for both Kubernetes runners: they share the cluster lookups and the cached tokens
  const eksAccess = eksAccessFor(env);
  return {
    // EKS with the function role's credentials; no manifests (only the configuration is bundled) and no
    // command runner here: kubernetes steps deploy an image, migrations run as Jobs
    kubernetes: lazy(() => new KubernetesStepRunner({ access: eksAccess() })),
    migration: lazy(() => new MigrationStepRunner({ access: eksAccess() })),
    // no local folder on AWS: a site is synced from a build artifact (s3://), read with the role's grants
    's3-sync': lazy(() => new S3SyncStepRunner({ client: s3Client(), invalidator: invalidations })),
    'cloudfront-invalidation': invalidations,
  };
};

/** The rollout check on AWS (EKS), for the Verify function only: it bundles the Kubernetes client. */
export const awsRolloutChecks = (env: Env): CheckRunners => ({
  rollout: lazy(() => new RolloutCheckRunner({ access: eksAccessFor(env)() })),
});
