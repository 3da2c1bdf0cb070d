import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseConfig } from '../../../functions/shared/config/load.js';
import { embeddedTracker, type LocalRuntime, startLocalRuntime } from '../../../local/runtime.js';
import { quiet, ROOT } from '../webhook/helpers.js';
import { type LocalS3, newBucket, putObjects, snapshot, startS3, writeTree } from './helpers.js';

/** A site deploy followed by a step that fails, so the workflow rolls the site back. */
const config = (bucket: string) => `
services:
  - name: web
    tracker: { list_id: L1 }
    approval: { required: false }
    gates: { ci: false, pr_merged: false, protected_branch: false, sign_off: [], alarms_clear: false }
    steps:
      - { name: Deploy frontend, kind: s3-sync, source: "file://build/{{deploymentId}}", bucket: ${bucket}, prefix: www }
      - { name: Smoke test, kind: command, run: [node, -e, "console.error('smoke test failed'); process.exit(1)"] }
`;

describe('an s3-sync step in the local workflow', () => {
  let s3: LocalS3;
  let admin: S3Client;
  let base: string;
  let runtime: LocalRuntime | undefined;

  beforeAll(async () => {
    s3 = await startS3();
    admin = s3.client();
  });

  afterAll(async () => {
    await s3.stop();
  });

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'devops-agent-web-'));
  });

  afterEach(async () => {
    await runtime?.stop();
    rmSync(base, { recursive: true, force: true });
  });

  it('is undone by the rollback after a later step fails, back to the same bytes and headers', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    await putObjects(admin, bucket, {
      'www/index.html': { body: '<title>v1</title>', ContentType: 'text/html', CacheControl: 'no-cache' },
      'www/app.1a2b3c.js': { body: 'v1()', ContentType: 'text/javascript', Metadata: { release: 'v1' } },
    });
    const before = await snapshot(admin, bucket);
    runtime = await startLocalRuntime({
      config: parseConfig(config(bucket), 'web.yaml'),
      dataDir: join(base, '.devops-agent'),
      baseDir: base,
      sourceControlFixture: join(ROOT, 'examples/demo/fixtures/source-control.json'),
      logger: quiet,
      retryIntervalMs: 0,
      lockRetryMs: 5,
      timers: false,
      variables: {
        DEVOPS_AGENT_S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_REGION: 'eu-west-1',
      },
    });
    const task = await embeddedTracker(runtime).createTask({
      name: 'Web 2',
      listId: 'L1',
      status: 'Ready to Deploy',
    });
    writeTree(join(base, 'build', `${task.id}-1`), {
      'index.html': '<title>v2</title>',
      'app.7c2e9d.js': 'v2()',
    });

    // Act
    await runtime.poll();
    const record = await (async () => {
      for (let i = 0; i < 500; i++) {
        const [found] = await runtime.store.listDeployments({ taskId: task.id });
        if (found && ['rolled-back', 'rollback-failed', 'succeeded'].includes(found.status)) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('the deployment did not finish');
    })();

    // Assess
    expect(record.status).toBe('rolled-back');
    const synced = record.steps.find((s) => s.name === 'Deploy frontend');
    expect(synced).toMatchObject({
      status: 'succeeded',
      undo: {
        bucket,
        prefix: 'www/',
        backup: `.devops-agent-backups/${task.id}-1/deploy-frontend/`,
        backedUp: '2',
      },
    });
    expect(record.rollback?.steps.map((s) => [s.name, s.status])).toEqual([
      ['Smoke test', 'kept'],
      ['Deploy frontend', 'rolled-back'],
    ]);
    expect(record.rollback?.steps[1]?.summary).toMatch(
      /^restored 2 files from .*, deleted 1 the release added$/,
    );
    expect(await snapshot(admin, bucket)).toEqual(before);
  });
});
