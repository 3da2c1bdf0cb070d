import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { KubernetesStepRunner } from '../../../functions/shared/adapters/kubernetes-step-runner.js';
import { testCertificate } from '../../fixtures/fake-kubernetes.js';
import { CONTEXT, FAST, type KubeFixture, startKubeFixture, step } from './helpers.js';

const run = promisify(execFile);

const onPath = (program: string): boolean =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

const hasKubectl = onPath('kubectl');
// client-go sends no credentials to a plain-HTTP server, so kubectl needs the fake over TLS
const certificate = hasKubectl ? testCertificate() : undefined;
if (!hasKubectl) {
  console.warn(
    '⚠️  NOT RUN: the kubectl test needs kubectl on PATH (Debian: apt-get install kubernetes-client; .ci/run installs it)',
  );
} else if (!certificate) {
  console.warn('⚠️  NOT RUN: the kubectl test needs openssl to make the fake API server’s certificate');
}

(hasKubectl && certificate ? describe : describe.skip)(
  'the fake Kubernetes API driven by the real kubectl',
  () => {
    let k8s: KubeFixture;
    const kubectl = async (...args: string[]): Promise<string> => {
      const { stdout } = await run(
        'kubectl',
        ['--kubeconfig', k8s.kubeconfig, '-n', 'notifications', ...args],
        {
          timeout: 60_000,
          env: { ...process.env, KUBECONFIG: '' },
        },
      );
      return stdout.trim();
    };
    const image = () =>
      kubectl('get', 'deployment', 'api', '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
    /**
     * `rollout status` as kubectl ends it: its last line. Before it, kubectl prints a "Waiting for …" line
     * for each state it sees mid-rollout, and how many it sees depends on how fast the fake's controller
     * ticks against kubectl's first read; every earlier line must be such a line.
     */
    const rolloutStatus = async () => {
      const lines = (await kubectl('rollout', 'status', 'deployment/api', '--timeout=30s')).split('\n');
      const waiting = lines
        .slice(0, -1)
        .filter((l) => !l.startsWith('Waiting for deployment "api" rollout to finish'));
      expect(waiting).toEqual([]);
      return lines.at(-1);
    };
    const revision = () =>
      kubectl(
        'get',
        'deployment',
        'api',
        '-o',
        'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}',
      );

    beforeAll(async () => {
      k8s = await startKubeFixture({ tls: certificate });
    });
    afterAll(async () => {
      await k8s.stop();
    });

    it('agrees with the runners: get, set image, rollout status, rollout undo, and the runner’s undo', async () => {
      // Prepare
      k8s.fake.addDeployment({
        name: 'api',
        namespace: 'notifications',
        image: 'registry.example.com/api:1.41.0',
      });
      const runner = new KubernetesStepRunner({ access: k8s.access, baseDir: k8s.dir, ...FAST });
      const deploy = step({
        name: 'Deploy backend',
        kind: 'kubernetes',
        namespace: 'notifications',
        deployment: 'api',
        image: 'registry.example.com/api:{{release}}',
      });

      // Act
      const before = await image();
      const outcome = await runner.run(deploy, CONTEXT);
      const afterRunner = [await image(), await revision()];
      const setImage = await kubectl('set', 'image', 'deployment/api', 'api=registry.example.com/api:1.43.0');
      const status = await rolloutStatus();
      const afterKubectl = [await image(), await revision()];
      const undo = await kubectl('rollout', 'undo', 'deployment/api');
      const statusAfterUndo = await rolloutStatus();
      const afterKubectlUndo = [await runner.current(deploy, CONTEXT), await revision()];
      await runner.undo(deploy, outcome.undo, CONTEXT);
      const afterRunnerUndo = [await image(), await revision()];

      // Assess
      expect(before).toBe('registry.example.com/api:1.41.0');
      expect(afterRunner).toEqual(['registry.example.com/api:1.42.0', '2']);
      expect(setImage).toBe('deployment.apps/api image updated');
      expect(status).toBe('deployment "api" successfully rolled out');
      expect(afterKubectl).toEqual(['registry.example.com/api:1.43.0', '3']);
      expect(undo).toBe('deployment.apps/api rolled back');
      expect(statusAfterUndo).toBe('deployment "api" successfully rolled out');
      expect(afterKubectlUndo).toEqual(['registry.example.com/api:1.42.0', '4']);
      expect(afterRunnerUndo).toEqual(['registry.example.com/api:1.41.0', '5']);
      // kubectl needed discovery only: no OpenAPI document was asked for
      expect(k8s.fake.requestsTo('/openapi')).toEqual([]);
      expect(
        k8s.fake
          .requestsTo('/apis/apps/v1/namespaces/notifications/deployments', 'GET')
          .some((r) => r.query.get('watch') === 'true'),
      ).toBe(true);
    });
  },
);
