import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeconfigFileAccess } from '../../../functions/shared/adapters/kubernetes/cluster-access.js';
import { KubernetesStepRunner } from '../../../functions/shared/adapters/kubernetes-step-runner.js';
import { TransientDependencyError } from '../../../functions/shared/errors.js';
import { answer, drop, type FaultProxy, hang, reset, startFaultProxy } from '../../fixtures/fault-proxy.js';
import {
  CONTEXT,
  type KubeFixture,
  REGISTRY,
  startKubeFixture,
  step,
  thrown,
} from '../kubernetes/helpers.js';

const API = `${REGISTRY}/notifications-api`;
const PATH = '/apis/apps/v1/namespaces/notifications/deployments/api';

const deployStep = () =>
  step({
    name: 'Deploy backend',
    kind: 'kubernetes',
    namespace: 'notifications',
    deployment: 'api',
    container: 'api',
    image: `${API}:{{release}}`,
    timeout: '30s',
  });

const imageOf = (k8s: KubeFixture): string | undefined => {
  const deployment = k8s.fake.deployment('notifications', 'api') as
    | { spec: { template: { spec: { containers: { image: string }[] } } } }
    | undefined;
  return deployment?.spec.template.spec.containers[0]?.image;
};

describe('the Kubernetes API behind a faulty network', () => {
  let k8s: KubeFixture;
  let proxy: FaultProxy;
  let kubeconfig: string;
  /** a backoff of 2, 4, 8 ms: real waits the proxy's timestamps show, and a fast suite */
  const runner = () =>
    new KubernetesStepRunner({
      access: kubeconfigFileAccess(kubeconfig),
      baseDir: k8s.dir,
      pollIntervalMs: 10,
      retry: { baseDelayMs: 2, requestTimeoutMs: 200 },
    });

  beforeEach(async () => {
    k8s = await startKubeFixture();
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });
    proxy = await startFaultProxy(k8s.fake.url);
    // the runner talks to the cluster through the proxy: the kubeconfig's server is the proxy's address
    kubeconfig = join(k8s.dir, 'kubeconfig-proxy');
    writeFileSync(kubeconfig, k8s.fake.kubeconfig().replace(k8s.fake.url, proxy.url), { mode: 0o600 });
  });
  afterEach(async () => {
    await proxy.stop();
    await k8s.stop();
  });

  it('reads the current image after a 503, a reset mid-answer and a dropped connection, backing off', async () => {
    // Prepare
    proxy.script([answer(503), reset, drop], { method: 'GET', path: PATH });

    // Act
    const image = await runner().current(deployStep(), CONTEXT);

    // Assess
    expect(image).toBe(`${API}:1.41.0`);
    expect(proxy.seen({ method: 'GET', path: PATH }).map((r) => r.kind)).toEqual([
      'status',
      'reset',
      'drop',
      'pass',
    ]);
    expect(proxy.gaps({ method: 'GET', path: PATH }).every((gap) => gap > 0)).toBe(true);
  });

  it('waits out a 429 with Retry-After and rolls the new image out', async () => {
    // Prepare
    proxy.script([answer(429, { 'retry-after': '0' })], { method: 'PATCH', path: PATH });

    // Act
    await runner().run(deployStep(), CONTEXT);

    // Assess
    expect(proxy.seen({ method: 'PATCH', path: PATH }).map((r) => r.status)).toEqual([429, 200]);
    expect(imageOf(k8s)).toBe(`${API}:1.42.0`);
  });

  it('gives up on an API server that keeps answering 502 after four tries, with TransientDependencyError naming the call', async () => {
    // Prepare
    proxy.always(answer(502), { path: PATH });

    // Act
    const error = await thrown(runner().current(deployStep(), CONTEXT));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toBe(
      'Kubernetes API: read deployment notifications/api failed 4 times, last with 502: fault proxy answered 502',
    );
    expect(proxy.seen({ path: PATH })).toHaveLength(4);
  });

  it('gives up on connections that keep being reset, saying the API server could not be reached', async () => {
    // Prepare
    proxy.always(drop, { path: PATH });

    // Act
    const error = await thrown(runner().current(deployStep(), CONTEXT));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toBe(
      'Kubernetes API: read deployment notifications/api failed 4 times, last with ECONNRESET (the API server could not be reached)',
    );
    expect(proxy.count('drop')).toBe(4);
  });

  it('fails the step with TransientDependencyError and leaves the deployment as it was when every change is refused with 503', async () => {
    // Prepare
    proxy.always(answer(503), { method: 'PATCH', path: PATH });

    // Act
    const error = await thrown(runner().run(deployStep(), CONTEXT));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toMatch(/^Kubernetes API: .+ failed 4 times, last with 503/);
    expect(proxy.count('status', { method: 'PATCH', path: PATH })).toBe(4);
    expect(imageOf(k8s)).toBe(`${API}:1.41.0`);
  });

  it('reads the current image after a request that hung past the request timeout', async () => {
    // Prepare
    proxy.script([hang], { method: 'GET', path: PATH });

    // Act
    const image = await runner().current(deployStep(), CONTEXT);

    // Assess
    expect(image).toBe(`${API}:1.41.0`);
    expect(proxy.seen({ method: 'GET', path: PATH }).map((r) => r.kind)).toEqual(['hang', 'pass']);
  });

  it('gives up on an API server that never answers after four timed-out tries, with TransientDependencyError', async () => {
    // Prepare
    proxy.always(hang, { path: PATH });

    // Act
    const error = await thrown(runner().current(deployStep(), CONTEXT));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toBe(
      'Kubernetes API: read deployment notifications/api failed 4 times, last with ETIMEDOUT (the API server could not be reached)',
    );
    expect(proxy.count('hang')).toBe(4);
  });
});
