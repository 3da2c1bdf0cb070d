import { statSync } from 'node:fs';
import { delimiter } from 'node:path';
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { KubeConfig } from '@kubernetes/client-node';
import * as z from 'zod';
import { StepFailedError, TransientDependencyError } from '../../errors.js';
import { type AwsCredentialProvider, eksToken } from './eks-token.js';

/**
 * How the Kubernetes runners reach a cluster: the step's `cluster` (a kubeconfig context locally, an EKS
 * cluster name on AWS; undefined = the default) → a ready `KubeConfig`. Called before each API call, so an
 * implementation caches and refreshes what expires.
 */
export type ClusterAccess = (cluster: string | undefined) => Promise<KubeConfig>;

/**
 * Why a kubeconfig could not be read, without its contents: js-yaml's message quotes the offending lines,
 * which may hold a token or a key.
 */
const unreadable = (error: unknown): string => {
  const e = error as { name?: string; code?: string; reason?: string; mark?: { line?: number } };
  if (e?.name === 'YAMLException')
    return `YAML error${e.mark?.line !== undefined ? ` at line ${e.mark.line + 1}` : ''}${e.reason ? ` (${e.reason})` : ''}`;
  if (typeof e?.code === 'string') return e.code;
  // client-node's own validation messages name fields only ("users[0].name is missing")
  const message = error instanceof Error ? error.message : String(error);
  return message.length <= 120 ? message : (e?.name ?? 'invalid');
};

/**
 * Cluster access from kubeconfig files (the `KUBECONFIG` list, `:`-separated, merged like kubectl does): the
 * step's `cluster` picks the context of that name, or else the context whose cluster has that name; without
 * one the file's current context is used. Re-read when a file changes, so a refreshed kubeconfig applies.
 */
export const kubeconfigFileAccess = (kubeconfig: string): ClusterAccess => {
  const files = kubeconfig.split(delimiter).filter(Boolean);
  const cache = new Map<string, { stamp: string; config: KubeConfig }>();
  return async (cluster) => {
    let stamp: string;
    try {
      stamp = files.map((f) => statSync(f).mtimeMs).join(',');
    } catch (error) {
      throw new StepFailedError(`cannot read the kubeconfig ${kubeconfig} (${unreadable(error)})`);
    }
    const key = cluster ?? '';
    const hit = cache.get(key);
    if (hit && hit.stamp === stamp) return hit.config;
    const config = new KubeConfig();
    for (const [index, file] of files.entries()) {
      try {
        if (index === 0) config.loadFromFile(file);
        else {
          const more = new KubeConfig();
          more.loadFromFile(file);
          config.mergeConfig(more);
        }
      } catch (error) {
        throw new StepFailedError(`cannot read the kubeconfig ${file}: ${unreadable(error)}`);
      }
    }
    const contexts = config.getContexts();
    if (cluster) {
      const context = contexts.find((c) => c.name === cluster) ?? contexts.find((c) => c.cluster === cluster);
      if (!context) {
        throw new StepFailedError(
          `the kubeconfig ${kubeconfig} has no context or cluster named "${cluster}" (contexts: ${contexts.map((c) => c.name).join(', ') || 'none'}); fix the step's cluster or the kubeconfig`,
        );
      }
      config.setCurrentContext(context.name);
    } else if (!config.getCurrentContext() || !config.getContextObject(config.getCurrentContext())) {
      throw new StepFailedError(
        `the kubeconfig ${kubeconfig} has no current context; name one in the step's cluster (contexts: ${contexts.map((c) => c.name).join(', ') || 'none'})`,
      );
    }
    cache.set(key, { stamp, config });
    return config;
  };
};

const DescribedClusterSchema = z.object({
  cluster: z
    .object({
      status: z.string().optional(),
      endpoint: z.string().url().optional(),
      certificateAuthority: z
        .object({ data: z.string().min(1).optional() })
        .loose()
        .optional(),
    })
    .loose(),
});

export interface EksClusterAccessOptions {
  client: Pick<EKSClient, 'send'>;
  region: string;
  /** the function's credentials (the SDK's default provider chain on Lambda) */
  credentials: AwsCredentialProvider;
  now?: () => Date;
  /** how long before a token expires a new one is made (default 60 s, as aws-iam-authenticator does) */
  refreshMarginMs?: number;
}

const awsErrorName = (error: unknown): string => (error as { name?: string })?.name ?? '';
const awsStatus = (error: unknown): number =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode ?? 0;

/**
 * Cluster access to EKS from the function's IAM role: `DescribeCluster` gives the endpoint and CA (cached for
 * the life of the execution environment), and a bearer token is presigned from the role's credentials (see
 * `eksToken`), reused until a minute before its 15 minutes run out. The role also needs an EKS access entry
 * (or an aws-auth mapping) with Kubernetes permissions; `eks:DescribeCluster` alone grants nothing inside.
 */
export const eksClusterAccess = (options: EksClusterAccessOptions): ClusterAccess => {
  const described = new Map<string, { endpoint: string; caData: string }>();
  const configs = new Map<string, { config: KubeConfig; refreshAt: number }>();
  const margin = options.refreshMarginMs ?? 60_000;
  const describe = async (name: string) => {
    const hit = described.get(name);
    if (hit) return hit;
    let output: unknown;
    try {
      output = await options.client.send(new DescribeClusterCommand({ name }));
    } catch (error) {
      const errorName = awsErrorName(error);
      if (errorName === 'ResourceNotFoundException')
        throw new StepFailedError(`EKS cluster "${name}" does not exist in ${options.region}`, {
          cause: error,
        });
      if (errorName === 'AccessDeniedException' || awsStatus(error) === 403)
        throw new StepFailedError(
          `not allowed to describe EKS cluster "${name}": the function role needs eks:DescribeCluster on it (the stack grants it for the clusters named in the configuration)`,
          { cause: error },
        );
      if (awsStatus(error) >= 500 || awsStatus(error) === 429 || /Throttl|TooManyRequests/.test(errorName))
        throw new TransientDependencyError(`EKS DescribeCluster ${name}: ${errorName || 'unavailable'}`, {
          cause: error,
        });
      throw new StepFailedError(`EKS DescribeCluster ${name} failed: ${errorName || 'error'}`, {
        cause: error,
      });
    }
    const parsed = DescribedClusterSchema.safeParse(output);
    const cluster = parsed.success ? parsed.data.cluster : undefined;
    const endpoint = cluster?.endpoint;
    const caData = cluster?.certificateAuthority?.data;
    if (!endpoint || !caData) {
      throw new StepFailedError(
        `EKS cluster "${name}" has no API endpoint or certificate yet (status ${cluster?.status ?? 'unknown'})`,
      );
    }
    const value = { endpoint, caData };
    described.set(name, value);
    return value;
  };

  return async (cluster) => {
    if (!cluster) {
      throw new StepFailedError(
        'on AWS a kubernetes or migration step names its EKS cluster in `cluster` (the cluster name, as in `aws eks describe-cluster --name`)',
      );
    }
    const now = options.now?.() ?? new Date();
    const hit = configs.get(cluster);
    if (hit && hit.refreshAt > now.getTime()) return hit.config;
    const { endpoint, caData } = await describe(cluster);
    const { token, expiresAt } = await eksToken({
      clusterName: cluster,
      region: options.region,
      credentials: options.credentials,
      now,
    });
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: cluster, server: endpoint, caData, skipTLSVerify: false }],
      users: [{ name: 'devops-agent', token }],
      contexts: [{ name: cluster, cluster, user: 'devops-agent' }],
      currentContext: cluster,
    });
    configs.set(cluster, { config, refreshAt: expiresAt.getTime() - margin });
    return config;
  };
};
