import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MigrationStepRunner,
  migrationJobName,
} from '../../../functions/shared/adapters/migration-step-runner.js';
import { StepFailedError } from '../../../functions/shared/errors.js';
import { CommandStepRunner } from '../../../local/adapters/command-step-runner.js';
import { CONTEXT, FAST, type KubeFixture, REGISTRY, startKubeFixture, step, thrown } from './helpers.js';

const IMAGE = `${REGISTRY}/notifications-api`;
const JOBS = '/apis/batch/v1/namespaces/notifications/jobs';

const migrationStep = (extra: Record<string, unknown> = {}) =>
  step({
    name: 'Database migration',
    kind: 'migration',
    image: `${IMAGE}:{{release}}`,
    run: ['npm', 'run', 'migrate:up', '--', '--tag={{release}}'],
    down: ['npm', 'run', 'migrate:down'],
    namespace: 'notifications',
    env: { RELEASE: '{{release}}', LOG_FORMAT: 'json' },
    env_from_secrets: ['notifications-db'],
    timeout: '2m',
    ...extra,
  });

type JobJson = {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: {
    backoffLimit: number;
    activeDeadlineSeconds: number;
    ttlSecondsAfterFinished: number;
    template: { spec: { restartPolicy: string; containers: Record<string, unknown>[] } };
  };
};

describe('MigrationStepRunner as a Kubernetes Job against the fake API', () => {
  let k8s: KubeFixture;
  const runner = () => new MigrationStepRunner({ access: k8s.access, ...FAST });

  beforeEach(async () => {
    k8s = await startKubeFixture();
  });
  afterEach(async () => {
    await k8s.stop();
  });

  it('runs the migration as a Job that never retries by itself and puts the log tail in the summary', async () => {
    // Prepare
    k8s.fake.scriptJob({
      image: `${IMAGE}:1.42.0`,
      outcome: 'succeed',
      logs: `${Array.from({ length: 60 }, (_, i) => `noise line ${i}`).join('\n')}\napplying 0042_notifications.sql\nmigrations done (1 applied)\n`,
    });

    // Act
    const outcome = await runner().run(migrationStep(), CONTEXT);

    // Assess
    const name = migrationJobName(CONTEXT.deploymentId, 'Database migration');
    expect(name).toMatch(/^86b1xk7qz-1-database-migration-[0-9a-f]{6}$/);
    const [job] = k8s.fake.jobs('notifications') as unknown as JobJson[];
    expect(job?.metadata.name).toBe(name);
    expect(job?.metadata.annotations).toEqual({
      'devops-agent/deployment-id': '86b1xk7qz-1',
      'devops-agent/step': 'Database migration',
    });
    expect(job?.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 120,
      ttlSecondsAfterFinished: 86400,
    });
    expect(job?.spec.template.spec.restartPolicy).toBe('Never');
    expect(job?.spec.template.spec.containers).toEqual([
      {
        name: 'migration',
        image: `${IMAGE}:1.42.0`,
        command: ['npm', 'run', 'migrate:up', '--', '--tag=1.42.0'],
        env: [
          { name: 'RELEASE', value: '1.42.0' },
          { name: 'LOG_FORMAT', value: 'json' },
        ],
        envFrom: [{ secretRef: { name: 'notifications-db' } }],
      },
    ]);
    expect(outcome.summary).toMatch(
      new RegExp(`^migration Job notifications/${name} \\(.+:1\\.42\\.0\\) succeeded after .+; log: `),
    );
    expect(outcome.summary).toContain('applying 0042_notifications.sql\nmigrations done (1 applied)');
    expect(outcome.summary).not.toContain('noise line 19');
    expect(outcome.undo).toEqual({ image: `${IMAGE}:1.42.0`, job: name });
    const [logRead] = k8s.fake.requestsTo(/\/pods\/[^/]+\/log$/);
    expect(logRead?.query.get('container')).toBe('migration');
    expect(logRead?.query.get('tailLines')).toBe('40');
  });

  it('fails with the log tail when the Job fails, and hands rollback the image it ran', async () => {
    // Prepare
    k8s.fake.scriptJob({
      outcome: 'fail',
      logs: 'applying 0042_notifications.sql\nERROR: relation "notifications" already exists\n',
    });

    // Act
    const error = await thrown(runner().run(migrationStep(), CONTEXT));

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.message).toMatch(
      /^Database migration: migration Job notifications\/\S+ failed \(BackoffLimitExceeded: Job has reached the specified backoff limit\); pods: migration: exited 1 \(Error\); log: applying 0042_notifications\.sql\nERROR: relation "notifications" already exists$/,
    );
    expect(error.undo).toMatchObject({ image: `${IMAGE}:1.42.0` });
  });

  it('waits for the Job a retried invocation already started instead of migrating twice', async () => {
    // Prepare
    k8s.fake.scriptJob({ outcome: 'succeed', logs: 'done\n' });
    await runner().run(migrationStep(), CONTEXT);

    // Act
    const again = await runner().run(migrationStep(), CONTEXT);

    // Assess
    expect(k8s.fake.jobs('notifications')).toHaveLength(1);
    expect(k8s.fake.requestsTo(JOBS, 'POST')).toHaveLength(2);
    expect(again.summary).toContain('succeeded');
  });

  it('fails when the cluster stops the Job at the step’s timeout, naming why its pod never started', async () => {
    // Prepare
    k8s.fake.failImage({ image: /:1\.42\.0$/ });

    // Act
    const error = await thrown(runner().run(migrationStep({ timeout: '3s' }), CONTEXT));

    // Assess
    expect(error.message).toMatch(
      /failed \(DeadlineExceeded: Job was active longer than specified deadline\); pods: migration: ImagePullBackOff \(Back-off pulling image ".+:1\.42\.0"\); no log$/,
    );
  });

  it('stops waiting at the step’s timeout when the Job has not ended, naming why its pod does not start', async () => {
    // Prepare
    const manual = await startKubeFixture({ tickMs: 0 });
    manual.fake.failImage({ image: /:1\.42\.0$/ });
    const tick = setTimeout(() => manual.fake.tick(), 100);

    try {
      // Act
      const error = await thrown(
        new MigrationStepRunner({ access: manual.access, ...FAST }).run(
          migrationStep({ timeout: '1s' }),
          CONTEXT,
        ),
      );

      // Assess
      expect(error.message).toMatch(
        /did not finish within 1 s; pods: migration: ImagePullBackOff \(Back-off pulling image ".+:1\.42\.0"\) \(the cluster stops it at activeDeadlineSeconds\)$/,
      );
    } finally {
      clearTimeout(tick);
      await manual.stop();
    }
  });

  it('undoes with the down command as a Job of the image the migration ran', async () => {
    // Prepare
    k8s.fake.scriptJob({ outcome: 'succeed', logs: 'reverted 0042_notifications.sql\n' });

    // Act
    const undone = await runner().undo(
      migrationStep(),
      { image: `${IMAGE}:1.42.0`, job: 'x' },
      { ...CONTEXT, vars: { ...CONTEXT.vars, release: '1.43.0' }, keepDatabase: false },
    );

    // Assess
    const [job] = k8s.fake.jobs('notifications') as unknown as JobJson[];
    expect(job?.metadata.name).toBe(migrationJobName(CONTEXT.deploymentId, 'Database migration', 'down'));
    expect(job?.spec.template.spec.containers[0]).toMatchObject({
      image: `${IMAGE}:1.42.0`,
      command: ['npm', 'run', 'migrate:down'],
    });
    expect(undone.summary).toMatch(
      /^down migration Job .+ succeeded after .+; log: reverted 0042_notifications\.sql$/,
    );
  });

  it('keeps the database when the policy says so, and never runs down', async () => {
    // Act
    const undone = await runner().undo(
      migrationStep(),
      { image: `${IMAGE}:1.42.0` },
      { ...CONTEXT, keepDatabase: true },
    );

    // Assess
    expect(undone).toEqual({
      summary: 'keep database: the migration stays (rollback.keep_database)',
      kept: true,
    });
    expect(k8s.fake.requests).toEqual([]);
  });

  it('keeps an irreversible migration instead of running down after it', async () => {
    // Act
    const undone = await runner().undo(
      migrationStep(),
      { image: `${IMAGE}:1.42.0` },
      {
        ...CONTEXT,
        keepDatabase: false,
        migrations: [
          {
            path: 'db/migrations/0042_drop_legacy.sql',
            kind: 'destructive',
            irreversible: true,
            reasons: ['drops a table'],
          },
        ],
      },
    );

    // Assess
    expect(undone.kept).toBe(true);
    expect(undone.summary).toContain(
      'irreversible migration (db/migrations/0042_drop_legacy.sql): no automatic database rollback',
    );
    expect(k8s.fake.requests).toEqual([]);
  });

  it('refuses to undo without a down command: irreversible', async () => {
    // Act
    const error = await thrown(
      runner().undo(
        migrationStep({ down: undefined }),
        { image: `${IMAGE}:1.42.0` },
        { ...CONTEXT, keepDatabase: false },
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.message).toBe(
      'Database migration: irreversible: no automatic database rollback (the step has no down command and rollback.keep_database is false); restore the database by hand',
    );
  });
});

describe('MigrationStepRunner without a cluster', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devops-agent-migration-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a migration without an image as a command, through the command runner', async () => {
    // Prepare
    const runner = new MigrationStepRunner({ commands: new CommandStepRunner(dir) });
    const local = step({
      name: 'Database migration',
      kind: 'migration',
      run: ['node', '-e', 'console.log("migrated to " + process.env.RELEASE)'],
      down: ['node', '-e', 'console.log("reverted " + process.env.RELEASE)'],
      env: { RELEASE: '{{release}}' },
    });

    // Act
    const outcome = await runner.run(local, CONTEXT);
    const undone = await runner.undo(local, outcome.undo, { ...CONTEXT, keepDatabase: false });

    // Assess
    expect(outcome.summary).toMatch(/^migrated to 1\.42\.0 \(exit 0, /);
    expect(undone.summary).toMatch(/^reverted 1\.42\.0 \(exit 0, /);
  });

  it('fails clearly with an image but no cluster to run it on', async () => {
    // Prepare
    const runner = new MigrationStepRunner({ commands: new CommandStepRunner(dir) });

    // Act
    const error = await thrown(runner.run(migrationStep(), CONTEXT));

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.message).toBe(
      `Database migration: runs ${IMAGE}:{{release}} as a Kubernetes Job, but no cluster is configured here (locally: set KUBECONFIG)`,
    );
  });
});
