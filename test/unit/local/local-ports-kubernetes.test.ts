import { checkGates } from '../../../functions/check-gates/check-gates.js';
import { KubernetesStepRunner } from '../../../functions/shared/adapters/kubernetes-step-runner.js';
import { MigrationStepRunner } from '../../../functions/shared/adapters/migration-step-runner.js';
import { localRunners } from '../../../local/local-ports.js';
import { RELEASE_FIELDS } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, T1_STATE } from '../../fixtures/records.js';

const CLUSTER_CONFIG = `
services:
  - name: notifications
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: L1 }
    gates: { ci: false, pr_merged: false, protected_branch: false, sign_off: [], alarms_clear: false }
    steps:
      - { name: Database migration, kind: migration, run: [npm, run, migrate] }
      - { name: Deploy backend, kind: kubernetes, namespace: notifications, deployment: api, image: "api:{{release}}" }
`;

describe('localRunners for Kubernetes', () => {
  it('registers the kubernetes runner only with a kubeconfig, and the migration runner always', () => {
    // Act
    const without = localRunners('/srv/app', {}).steps;
    const withKubeconfig = localRunners('/srv/app', { KUBECONFIG: '/home/dev/.kube/config' }).steps;

    // Assess
    expect(without.kubernetes).toBeUndefined();
    expect(without.migration).toBeInstanceOf(MigrationStepRunner);
    expect(withKubeconfig.kubernetes).toBeInstanceOf(KubernetesStepRunner);
    expect(withKubeconfig.migration).toBeInstanceOf(MigrationStepRunner);
  });

  it('makes the runtime gate name the kubernetes step it cannot run, and pass with KUBECONFIG', async () => {
    // Prepare
    const without = fakePorts(CLUSTER_CONFIG);
    const withKubeconfig = fakePorts(CLUSTER_CONFIG);
    for (const f of [without, withKubeconfig]) {
      f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...RELEASE_FIELDS } });
      await f.store.createDeployment(aDeployment({ status: 'checking', stage: 'AcquireLock' }));
    }
    without.ports.steps = localRunners('/srv/app', {}).steps;
    withKubeconfig.ports.steps = localRunners('/srv/app', { KUBECONFIG: '/home/dev/.kube/config' }).steps;

    // Act
    const blocked = await checkGates(T1_STATE, without.ports);
    const runnable = await checkGates(T1_STATE, withKubeconfig.ports);

    // Assess
    expect(blocked.failed).toEqual(['Runtime can run every step']);
    const gate = (await without.store.getDeployment('t1-1'))?.gates?.[0];
    expect(gate?.reason).toContain('no runner for step "Deploy backend" (kubernetes);');
    expect(runnable.failed).toEqual([]);
  });
});
