import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ClusterAccess,
  kubeconfigFileAccess,
} from '../../../functions/shared/adapters/kubernetes/cluster-access.js';
import { type Step, StepSchema } from '../../../functions/shared/config/schema.js';
import type { StepContext } from '../../../functions/shared/ports/step-runner.js';
import {
  type FakeKubernetes,
  type FakeKubernetesOptions,
  startFakeKubernetes,
} from '../../fixtures/fake-kubernetes.js';

export const CONTEXT: StepContext = {
  deploymentId: '86b1xk7qz-1',
  service: 'notifications',
  environment: 'production',
  vars: { release: '1.42.0', deploymentId: '86b1xk7qz-1', taskId: '86b1xk7qz' },
};

export const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

/** A step as the configuration loader would give it (defaults filled). */
export const step = (input: Record<string, unknown>): Step => StepSchema.parse(input);

/** Polls and backoff in milliseconds, so a test waits for the simulated controllers, not for real delays. */
export const FAST = { pollIntervalMs: 10, retry: { baseDelayMs: 1 } } as const;

export interface KubeFixture {
  fake: FakeKubernetes;
  dir: string;
  kubeconfig: string;
  access: ClusterAccess;
  stop(): Promise<void>;
}

/** A started fake API server, a kubeconfig for it in a temporary folder, and access through that file. */
export const startKubeFixture = async (options?: FakeKubernetesOptions): Promise<KubeFixture> => {
  const fake = await startFakeKubernetes(options);
  const dir = mkdtempSync(join(tmpdir(), 'devops-agent-k8s-'));
  const kubeconfig = fake.writeKubeconfig(dir);
  return {
    fake,
    dir,
    kubeconfig,
    access: kubeconfigFileAccess(kubeconfig),
    stop: async () => {
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** What a rejected promise threw, for assertions on its fields (`undo`) as well as its message. */
export const thrown = async (
  promise: Promise<unknown>,
): Promise<Error & { undo?: Record<string, string> }> => {
  try {
    await promise;
  } catch (error) {
    return error as Error & { undo?: Record<string, string> };
  }
  throw new Error('expected a rejection');
};
