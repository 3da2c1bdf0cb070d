import { KubernetesStepRunner } from '../../../functions/shared/adapters/kubernetes-step-runner.js';
import { RolloutCheckRunner } from '../../../functions/shared/adapters/rollout-check-runner.js';
import { type Check, CheckSchema } from '../../../functions/shared/config/schema.js';
import { CONTEXT, FAST, type KubeFixture, REGISTRY, startKubeFixture, step } from './helpers.js';

const API = `${REGISTRY}/notifications-api`;
const check = (extra: Record<string, unknown> = {}): Check =>
  CheckSchema.parse({
    name: 'Backend rolled out',
    kind: 'rollout',
    namespace: 'notifications',
    deployment: 'api',
    image: `${API}:{{release}}`,
    ...extra,
  });

describe('RolloutCheckRunner against the fake Kubernetes API', () => {
  let k8s: KubeFixture;
  const checks = () => new RolloutCheckRunner({ access: k8s.access, retry: FAST.retry });

  beforeEach(async () => {
    k8s = await startKubeFixture();
  });
  afterEach(async () => {
    await k8s.stop();
  });

  it('passes when the release image runs everywhere after the rollout', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0`, replicas: 3 });
    await new KubernetesStepRunner({ access: k8s.access, ...FAST }).run(
      step({
        name: 'Deploy',
        kind: 'kubernetes',
        namespace: 'notifications',
        deployment: 'api',
        image: `${API}:{{release}}`,
      }),
      CONTEXT,
    );

    // Act
    const result = await checks().run(check(), { vars: CONTEXT.vars });

    // Assess
    expect(result).toMatchObject({ passed: true, detail: `${API}:1.42.0 everywhere (3/3 available)` });
  });

  it('fails naming the image that runs when it is not the release', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.41.0` });

    // Act
    const result = await checks().run(check(), { vars: CONTEXT.vars });

    // Assess
    expect(result.passed).toBe(false);
    expect(result.detail).toBe(`deployment notifications/api runs ${API}:1.41.0, expected ${API}:1.42.0`);
  });

  it('fails for a missing deployment, a missing container and an unknown {{var}}, without throwing', async () => {
    // Prepare
    k8s.fake.addDeployment({ name: 'api', namespace: 'notifications', image: `${API}:1.42.0` });

    // Act
    const [missing, container, variable] = await Promise.all([
      checks().run(check({ deployment: 'web' }), { vars: CONTEXT.vars }),
      checks().run(check({ container: 'sidecar' }), { vars: CONTEXT.vars }),
      checks().run(check({ image: `${API}:{{nope}}` }), { vars: CONTEXT.vars }),
    ]);

    // Assess
    expect(missing).toMatchObject({ passed: false, detail: 'deployment notifications/web not found' });
    expect(container.detail).toMatch(/has no container "sidecar"/);
    expect(variable.detail).toMatch(/\{\{nope\}\}, which has no value/);
  });
});
