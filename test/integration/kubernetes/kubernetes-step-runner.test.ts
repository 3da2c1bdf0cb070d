import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { eksClusterAccess } from '../../../functions/shared/adapters/kubernetes/cluster-access.js';
import { KubernetesStepRunner } from '../../../functions/shared/adapters/kubernetes-step-runner.js';
import {
  BadRequestError,
  StepFailedError,
  TransientDependencyError,
} from '../../../functions/shared/errors.js';
import { startFakeKubernetes, testCertificate } from '../../fixtures/fake-kubernetes.js';
import { CONTEXT, FAST, type KubeFixture, REGISTRY, startKubeFixture, step, thrown } from './helpers.js';

const API = `${REGISTRY}/notifications-api`;
const PATH = '/apis/apps/v1/namespaces/notifications/deployments/api';

const deployStep = (extra: Record<string, unknown> = {}) =>
  step({
    name: 'Deploy backend',
    kind: 'kubernetes',
    namespace: 'notifications',
    deployment: 'api',
    container: 'api',
    image: `${API}:{{release}}`,
    timeout: '30s',
    ...extra,
  });

type Template = { metadata: { labels: Record<string, string> }; spec: { containers: { image: string }[] } };
const templateOf = (fixture: KubeFixture): Template => {
  const deployment = fixture.fake.deployment('notifications', 'api');
  if (!deployment) throw new Error('no deployment notifications/api');
  return (deployment.spec as { template: Template }).template;
};
const annotations = (object: Record<string, unknown> | undefined): Record<string, string> => {
  const metadata = object?.metadata as { annotations?: Record<string, string> } | undefined;
  return metadata?.annotations ?? {};
};

describe('KubernetesStepRunner against the fake Kubernetes API', () => {
  let k8s: KubeFixture;
  const runner = () => new KubernetesStepRunner({ access: k8s.access, baseDir: k8s.dir, ...FAST });

  beforeEach(async () => {
    k8s = await startKubeFixture();
  });
  afterEach(async () => {
    await k8s.stop();
  });

  it('records the revision and images, sets the image and waits until every replica is available', async () => {
    // Prepare
    k8s.fake.addDeployment({
      name: 'api',
      namespace: 'notifications',
      containers: [
        { name: 'api', image: `${API}:1.41.0` },
        { name: 'envoy', image: 'envoyproxy/envoy:v1.31' },
      ],
      replicas: 3,
      history: [`${API}:1.40.0`],
    });

    // Act
    const outcome = await runner().run(deployStep(), CONTEXT);

    // Assess
    expect(outcome.undo).toEqual({
      revision: '2',
      images: JSON.stringify({ api: `${API}:1.41.0`, envoy: 'envoyproxy/envoy:v1.31' }),
    });
    expect(outcome.summary).toMatch(
      /^deployment notifications\/api: api: .+:1\.41\.0 → .+:1\.42\.0; revision 3 \(was 2\), 3\/3 available after /,
    );
    const deployment = k8s.fake.deployment('notifications', 'api') as {
      metadata: { generation: number; annotations: Record<string, string> };
      status: Record<string, number>;
    };
    expect(templateOf(k8s).spec.containers.map((c) => c.image)).toEqual([
      `${API}:1.42.0`,
      'envoyproxy/envoy:v1.31',
    ]);
    expect(deployment.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    expect(deployment.status).toMatchObject({
      observedGeneration: deployment.metadata.generation,
      replicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
    });
    const [patch] = k8s.fake.requestsTo(PATH, 'PATCH');
    expect(patch?.contentType).toBe('application/strategic-merge-patch+json');
    expect(patch?.query.get('fieldManager')).toBe('devops-agent');
    expect(patch?.body).toEqual({
      metadata: {
        annotations: {
          'devops-agent/deployment-id': CONTEXT.deploymentId,
          'devops-agent/previous-revision': '2',
          'devops-agent/previous-images': outcome.undo?.images,
        },
      },
      spec: { template: { spec: { containers: [{ name: 'api', image: `${API}:1.42.0` }] } } },
    });
    // it read the status more than once: the rollout took several controller ticks
    expect(k8s.fake.requestsTo(PATH, 'GET').length).toBeGreaterThan(2);
  });

  it('fails at once when the deployment exceeds its progress deadline, with the pods’ waiting reason', async () => {
    // Prepare
    k8s.fake.addDeployment({
      name: 'api',
      namespace: 'notifications',
      image: `${API}:1.41.0`,
      progressDeadlineSeconds: 3,
    });
    k8s.fake.failImage({ image: `${API}:1.42.0` });
    const started = Date.now();

    // Act
    const error = await thrown(runner().run(deployStep({ timeout: '10m' }), CONTEXT));

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.message).toMatch(
      /rollout of deployment notifications\/api exceeded its progress deadline \(ReplicaSet "api-\w+" has timed out progressing\.\); new pods: api: ImagePullBackOff \(Back-off pulling image ".+:1\.42\.0"\)/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error.undo).toEqual({ revision: '1', images: JSON.stringify({ api: `${API}:1.41.0` }) });
  });

  it('fails at the step’s timeout while the new pods cannot pull their image, and undo restores the old one', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });
    k8s.fake.failImage({ image: /:1\.42\.0$/ });
    const before = templateOf(k8s);

    // Act
    const error = await thrown(runner().run(deployStep({ timeout: '1s' }), CONTEXT));
    const undone = await runner().undo(deployStep(), error.undo, CONTEXT);

    // Assess
    expect(error.message).toMatch(
      /did not finish within 1 s \(1 of 3 new replicas updated\); new pods: api: ImagePullBackOff \(Back-off pulling image "[^"]+:1\.42\.0"\)/,
    );
    expect(undone.summary).toMatch(
      /^deployment notifications\/api back to revision 1's template \(api=.+:1\.41\.0\) as revision 3, 3\/3 available/,
    );
    expect(templateOf(k8s)).toEqual(before);
  });

  it('undoes to the recorded revision: the template exactly as it was, without pod-template-hash', async () => {
    // Prepare
    k8s.fake.addDeployment({
      name: 'api',
      namespace: 'notifications',
      image: `${API}:1.41.0`,
      templateAnnotations: { 'prometheus.io/scrape': 'true' },
    });
    const original = templateOf(k8s);
    const first = await runner().run(deployStep(), CONTEXT);
    await runner().run(deployStep(), { ...CONTEXT, vars: { ...CONTEXT.vars, release: '1.43.0' } });

    // Act
    const undone = await runner().undo(deployStep(), first.undo, CONTEXT);

    // Assess
    expect(templateOf(k8s)).toEqual(original);
    expect(templateOf(k8s).metadata.labels).not.toHaveProperty('pod-template-hash');
    const [restore] = k8s.fake.requestsTo(PATH, 'PATCH').slice(-1);
    expect(restore?.contentType).toBe('application/json-patch+json');
    expect(restore?.body).toEqual([{ op: 'replace', path: '/spec/template', value: original }]);
    // the controller re-used the old ReplicaSet and gave it the next revision, as the real one does
    const reused = k8s.fake
      .replicaSets('notifications')
      .find((rs) => annotations(rs)['deployment.kubernetes.io/revision-history'] === '1');
    expect(annotations(reused)['deployment.kubernetes.io/revision']).toBe('4');
    expect(undone.summary).toContain('back to revision 1');
  });

  it('undoes a run stopped before it could hand back its record, from the mark it left on the Deployment', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });
    const original = templateOf(k8s);
    await runner().run(deployStep(), CONTEXT);

    // Act
    const undone = await runner().undo(deployStep(), undefined, CONTEXT);
    const otherDeployment = await runner().undo(deployStep(), undefined, {
      ...CONTEXT,
      deploymentId: '86b1xk7qz-2',
    });

    // Assess
    expect(undone.summary).toContain("back to revision 1's template");
    expect(templateOf(k8s)).toEqual(original);
    expect(otherDeployment).toEqual({
      summary: 'nothing to undo: deployment notifications/api was not changed by this deployment',
      kept: true,
    });
  });

  it('keeps the revision from before the first run when a retried run finds its own change', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });
    const first = await runner().run(deployStep(), CONTEXT);

    // Act
    const again = await runner().run(deployStep(), CONTEXT);

    // Assess
    expect(again.undo).toEqual(first.undo);
    expect(again.undo?.revision).toBe('1');
  });

  it('has nothing to undo when the deployment it could not find does not exist', async () => {
    // Act
    const undone = await runner().undo(deployStep({ deployment: 'apii' }), undefined, CONTEXT);

    // Assess
    expect(undone).toEqual({
      summary: 'nothing to undo: deployment notifications/apii does not exist',
      kept: true,
    });
  });

  it('refuses to undo, naming what to restore, when the recorded revision’s ReplicaSet is gone', async () => {
    // Prepare
    k8s.fake.addDeployment({
      name: 'api',
      namespace: 'notifications',
      image: `${API}:1.41.0`,
      revisionHistoryLimit: 0,
    });
    const outcome = await runner().run(deployStep(), CONTEXT);

    // Act
    const error = await thrown(runner().undo(deployStep(), outcome.undo, CONTEXT));

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.message).toBe(
      `Deploy backend: the ReplicaSet of revision 1 of deployment notifications/api is gone (revisionHistoryLimit 0; revisions kept: 2), so it cannot be restored automatically; the images then were api=${API}:1.41.0`,
    );
  });

  it('reads the running image of the step’s container, or of the first one, for the plan', async () => {
    // Prepare
    k8s.fake.addDeployment({
      name: 'api',
      namespace: 'notifications',
      containers: [
        { name: 'api', image: `${API}:1.41.0` },
        { name: 'envoy', image: 'envoyproxy/envoy:v1.31' },
      ],
    });

    // Act
    const named = await runner().current(deployStep({ container: 'envoy' }), CONTEXT);
    const first = await runner().current(deployStep({ container: undefined }), CONTEXT);

    // Assess
    expect(named).toBe('envoyproxy/envoy:v1.31');
    expect(first).toBe(`${API}:1.41.0`);
    expect(k8s.fake.requestsTo(PATH).every((r) => r.method === 'GET')).toBe(true);
  });

  it('retries 503s and a reset connection with backoff', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });
    k8s.fake.fail({ method: 'GET', path: PATH, status: 503, times: 2, body: { kind: 'Status', code: 503 } });
    k8s.fake.dropConnections({ path: PATH, times: 1 });

    // Act
    const image = await runner().current(deployStep(), CONTEXT);

    // Assess
    expect(image).toBe(`${API}:1.41.0`);
    expect(k8s.fake.requestsTo(PATH, 'GET')).toHaveLength(4);
  });

  it('gives up after four tries with TransientDependencyError, for the workflow to retry later', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });
    k8s.fake.fail({
      path: PATH,
      status: 429,
      times: 10,
      headers: { 'retry-after': '0' },
      body: {
        kind: 'Status',
        status: 'Failure',
        reason: 'TooManyRequests',
        message: 'too many requests',
        code: 429,
      },
    });

    // Act
    const error = await thrown(runner().current(deployStep(), CONTEXT));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toBe(
      'Kubernetes API: read deployment notifications/api failed 4 times, last with 429 TooManyRequests: too many requests',
    );
  });

  it('names namespace and deployment when the deployment does not exist, and changes nothing', async () => {
    // Act
    const error = await thrown(runner().run(deployStep({ deployment: 'apii' }), CONTEXT));

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.message).toBe(
      'Deploy backend: deployment notifications/apii not found (namespace "notifications", deployment "apii"); check the step\'s namespace and deployment',
    );
    expect(error.undo).toBeUndefined();
    expect(k8s.fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('says the credentials were refused without showing them', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });
    k8s.fake.fail({
      path: PATH,
      status: 401,
      body: { kind: 'Status', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 },
    });

    // Act
    const error = await thrown(runner().run(deployStep(), CONTEXT));

    // Assess
    expect(error.message).toContain('401');
    expect(error.message).toContain('EKS access entry');
    expect(error.message).not.toContain(k8s.fake.token);
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain(k8s.fake.token);
  });

  it('server-side applies a manifest as devops-agent, forcing conflicts, {{vars}} filled in values only', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });
    mkdirSync(join(k8s.dir, 'k8s'));
    writeFileSync(
      join(k8s.dir, 'k8s', 'api.yaml'),
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata:',
        '  name: api',
        '  labels: { app: api }',
        'spec:',
        '  replicas: 4',
        '  selector: { matchLabels: { app: api } }',
        '  template:',
        '    metadata: { labels: { app: api } }',
        '    spec:',
        '      containers:',
        '        - name: api',
        `          image: "${API}:{{release}}"`,
        '          env: [{ name: RELEASE, value: "{{release}}" }]',
        '',
      ].join('\n'),
    );
    const manifestStep = deployStep({ image: undefined, manifest: 'k8s/api.yaml' });

    // Act
    const outcome = await runner().run(manifestStep, CONTEXT);

    // Assess
    const [apply] = k8s.fake.requestsTo(PATH, 'PATCH');
    expect(apply?.contentType).toBe('application/apply-patch+yaml');
    expect(apply?.query.get('fieldManager')).toBe('devops-agent');
    expect(apply?.query.get('force')).toBe('true');
    expect(apply?.body).toMatchObject({ metadata: { name: 'api', namespace: 'notifications' } });
    expect(templateOf(k8s).spec.containers[0]).toMatchObject({
      image: `${API}:1.42.0`,
      env: [{ name: 'RELEASE', value: '1.42.0' }],
    });
    expect(outcome.summary).toMatch(/applied k8s\/api\.yaml; revision 2 \(was 1\), 4\/4 available/);
  });

  it('refuses a manifest outside its folder or holding other objects before changing anything', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });
    writeFileSync(
      join(k8s.dir, 'two.yaml'),
      'kind: Service\nmetadata: { name: api }\n---\nkind: Deployment\nmetadata: { name: api }\n',
    );

    // Act
    const outside = await thrown(
      runner().run(deployStep({ image: undefined, manifest: '../etc/api.yaml' }), CONTEXT),
    );
    const two = await thrown(runner().run(deployStep({ image: undefined, manifest: 'two.yaml' }), CONTEXT));

    // Assess
    expect(outside).toBeInstanceOf(BadRequestError);
    expect(outside.message).toContain('is outside');
    expect(two.message).toContain(
      'must hold exactly the Deployment api (it holds Service/api, Deployment/api)',
    );
    expect(k8s.fake.requests).toEqual([]);
  });
});

const certificate = testCertificate();
if (!certificate)
  console.warn('⚠️  NOT RUN: the EKS access test needs openssl to make the fake’s certificate');

(certificate ? describe : describe.skip)('KubernetesStepRunner through EKS access', () => {
  const eks = mockClient(EKSClient);
  afterEach(() => {
    eks.reset();
  });

  it('reaches the cluster at DescribeCluster’s endpoint, trusting its CA, with a presigned token per cluster', async () => {
    // Prepare
    const tokens: string[] = [];
    const fake = await startFakeKubernetes({
      tls: certificate,
      acceptToken: (token) => {
        tokens.push(token);
        const url = new URL(Buffer.from(token.replace(/^k8s-aws-v1\./, ''), 'base64url').toString('utf8'));
        return (
          url.host === 'sts.eu-west-1.amazonaws.com' &&
          url.searchParams.get('X-Amz-SignedHeaders') === 'host;x-k8s-aws-id'
        );
      },
    });
    fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });
    eks.on(DescribeClusterCommand, { name: 'prod-eu' }).resolves({
      cluster: {
        name: 'prod-eu',
        status: 'ACTIVE',
        endpoint: fake.url,
        certificateAuthority: { data: Buffer.from(certificate?.cert ?? '').toString('base64') },
      },
    });
    let now = new Date('2026-11-28T09:00:00Z');
    const access = eksClusterAccess({
      client: new EKSClient({ region: 'eu-west-1' }),
      region: 'eu-west-1',
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
      now: () => now,
    });
    const runner = new KubernetesStepRunner({ access, baseDir: '.', ...FAST });
    const eksStep = deployStep({ cluster: 'prod-eu' });

    try {
      // Act
      const first = await runner.current(eksStep, CONTEXT);
      await runner.current(eksStep, CONTEXT);
      now = new Date('2026-11-28T09:14:30Z');
      await runner.current(eksStep, CONTEXT);
      const withoutCluster = await thrown(runner.current(deployStep(), CONTEXT));

      // Assess
      expect(first).toBe(`${API}:1.41.0`);
      expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
      expect(new Set(tokens).size).toBe(2);
      expect(withoutCluster.message).toContain('names its EKS cluster in `cluster`');
    } finally {
      await fake.stop();
    }
  });
});
