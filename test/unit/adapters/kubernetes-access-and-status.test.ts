import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigFileAccess } from '../../../functions/shared/adapters/kubernetes/cluster-access.js';
import {
  type Deployment,
  podProblems,
  rolloutState,
} from '../../../functions/shared/adapters/kubernetes/kube-api.js';
import { StepFailedError } from '../../../functions/shared/errors.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.never-in-a-message';

const kubeconfig = (contexts: { name: string; cluster: string }[], current?: string) =>
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    ...[...new Set(contexts.map((c) => c.cluster))].flatMap((c) => [
      `- name: ${c}`,
      '  cluster:',
      `    server: https://${c}.example.com`,
    ]),
    'users:',
    '- name: dev',
    '  user:',
    `    token: ${TOKEN}`,
    'contexts:',
    ...contexts.flatMap((c) => [
      `- name: ${c.name}`,
      '  context:',
      `    cluster: ${c.cluster}`,
      '    user: dev',
    ]),
    ...(current ? [`current-context: ${current}`] : []),
    '',
  ].join('\n');

describe('kubeconfigFileAccess', () => {
  let dir: string;
  const write = (text: string, name = 'config') => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devops-agent-kubeconfig-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('picks the context named like the step’s cluster, or the context of a cluster of that name', async () => {
    // Prepare
    const access = kubeconfigFileAccess(
      write(
        kubeconfig(
          [
            { name: 'staging', cluster: 'eks-staging' },
            { name: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu', cluster: 'prod-eu' },
          ],
          'staging',
        ),
      ),
    );

    // Act
    const byContext = await access('staging');
    const byCluster = await access('prod-eu');
    const current = await access(undefined);

    // Assess
    expect(byContext.getCurrentCluster()?.server).toBe('https://eks-staging.example.com');
    expect(byCluster.getCurrentCluster()?.server).toBe('https://prod-eu.example.com');
    expect(current.getCurrentContext()).toBe('staging');
  });

  it('merges a KUBECONFIG list like kubectl does', async () => {
    // Prepare
    const first = write(kubeconfig([{ name: 'staging', cluster: 'eks-staging' }], 'staging'), 'a');
    const second = write(
      kubeconfig([{ name: 'prod', cluster: 'eks-prod' }])
        .replace('- name: dev', '- name: dev2')
        .replace('user: dev', 'user: dev2'),
      'b',
    );

    // Act
    const config = await kubeconfigFileAccess(`${first}:${second}`)('prod');

    // Assess
    expect(config.getCurrentCluster()?.server).toBe('https://eks-prod.example.com');
  });

  it('names the contexts there are when none matches the step’s cluster', async () => {
    // Prepare
    const path = write(kubeconfig([{ name: 'staging', cluster: 'eks-staging' }]));

    // Act
    const attempt = kubeconfigFileAccess(path)('prod-eu');

    // Assess
    await expect(attempt).rejects.toThrow(
      new StepFailedError(
        `the kubeconfig ${path} has no context or cluster named "prod-eu" (contexts: staging); fix the step's cluster or the kubeconfig`,
      ),
    );
  });

  it('says where a broken kubeconfig is broken without quoting it', async () => {
    // Prepare
    const path = write(`users:\n- name: dev\n  user:\n    token: ${TOKEN}\n   oops: [unclosed\n`);

    // Act
    const error = await kubeconfigFileAccess(path)(undefined).catch((e: Error) => e);

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toMatch(
      new RegExp(`^cannot read the kubeconfig ${path}: YAML error at line \\d+`),
    );
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('says a missing kubeconfig file is missing', async () => {
    // Act
    const attempt = kubeconfigFileAccess(join(dir, 'nope'))(undefined);

    // Assess
    await expect(attempt).rejects.toThrow(`cannot read the kubeconfig ${join(dir, 'nope')} (ENOENT)`);
  });
});

const deployment = (status: Deployment['status'], generation = 2, replicas = 3): Deployment => ({
  metadata: { name: 'api', generation },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'api' } },
    template: { spec: { containers: [{ name: 'api', image: 'api:1' }] } },
  },
  status,
});

describe('rolloutState, as kubectl rollout status decides', () => {
  it.each([
    [{ observedGeneration: 1 }, 'waiting', 'waiting for the deployment spec update to be observed'],
    [
      {
        observedGeneration: 2,
        updatedReplicas: 1,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "api-5d4" has timed out progressing.',
          },
        ],
      },
      'failed',
      'exceeded its progress deadline (ReplicaSet "api-5d4" has timed out progressing.)',
    ],
    [
      { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 },
      'waiting',
      '1 of 3 new replicas updated',
    ],
    [
      { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 },
      'waiting',
      '1 old replicas pending termination',
    ],
    [
      { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 },
      'waiting',
      '2 of 3 updated replicas available',
    ],
    [
      { observedGeneration: 3, replicas: 3, updatedReplicas: 3, availableReplicas: 3 },
      'done',
      '3/3 available',
    ],
  ] as const)('reads %j as %s (%s)', (status, state, message) => {
    // Act
    const result = rolloutState(deployment(status as Deployment['status']));

    // Assess
    expect(result).toEqual({ state, message });
  });
});

describe('podProblems', () => {
  it('names waiting reasons, last exits and unschedulable pods once each, with how many pods show them', () => {
    // Prepare
    const waiting = (reason: string, message?: string) => ({
      metadata: { name: 'p' },
      status: {
        containerStatuses: [{ name: 'api', state: { waiting: { reason, ...(message ? { message } : {}) } } }],
      },
    });

    // Act
    const text = podProblems([
      waiting('ImagePullBackOff', 'Back-off pulling image "api:2"'),
      waiting('ImagePullBackOff', 'Back-off pulling image "api:2"'),
      waiting('ContainerCreating'),
      {
        metadata: { name: 'q' },
        status: {
          containerStatuses: [
            {
              name: 'api',
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
            },
          ],
        },
      },
      {
        metadata: { name: 'r' },
        status: {
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/3 nodes are available',
            },
          ],
        },
      },
    ]);

    // Assess
    expect(text).toBe(
      'api: ImagePullBackOff (Back-off pulling image "api:2") ×2; api: CrashLoopBackOff, last exit 137 OOMKilled; Unschedulable (0/3 nodes are available)',
    );
  });
});
