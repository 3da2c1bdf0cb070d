import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { S3SyncStepRunner } from '../../../functions/shared/adapters/s3-sync-step-runner.js';
import { S3SyncStepSchema, type Step } from '../../../functions/shared/config/schema.js';
import { StepFailedError, StepKindUnsupportedError } from '../../../functions/shared/errors.js';
import type { StepContext } from '../../../functions/shared/ports/step-runner.js';

const step = (fields: Record<string, unknown> = {}): Step =>
  S3SyncStepSchema.parse({
    name: 'Deploy frontend',
    kind: 's3-sync',
    source: 's3://artifacts/frontend/v2/',
    bucket: 'site',
    ...fields,
  });

const context: StepContext = {
  deploymentId: 'abc-1',
  service: 'notifications',
  environment: 'production',
  vars: { deploymentId: 'abc-1' },
};

const objects = (prefix: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({
    Key: `${prefix}file-${String(from + i).padStart(4, '0')}.txt`,
    ETag: `"${(from + i).toString(16).padStart(32, '0')}"`,
    Size: 1,
    LastModified: new Date(Date.UTC(2026, 10, 1 + ((from + i) % 20))),
  }));

describe('S3SyncStepRunner', () => {
  const s3 = mockClient(S3Client);
  const runner = () => new S3SyncStepRunner({ client: new S3Client({ region: 'eu-west-1' }) });

  afterEach(() => {
    s3.reset();
  });

  it('reads every page of a large listing for what is live', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Bucket: 'site' })
      .resolvesOnce({ Contents: objects('', 1000), IsTruncated: true, NextContinuationToken: 'page-2' })
      .resolvesOnce({
        Contents: [...objects('', 500, 1000), { Key: '.devops-agent-backups/x/manifest.json', Size: 2 }],
        IsTruncated: false,
      });

    // Act
    const live = await runner().current(step(), context);

    // Assess
    expect(live).toBe('1500 files, newest 2026-11-20T00:00:00.000Z');
    expect(s3).toHaveReceivedNthCommandWith(2, ListObjectsV2Command, {
      Bucket: 'site',
      ContinuationToken: 'page-2',
    });
  });

  it('deletes what the build no longer has in batches of 1000, after the uploads', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Bucket: 'artifacts' }).resolves({
      Contents: objects('frontend/v2/', 1, 5000),
    });
    s3.on(ListObjectsV2Command, { Bucket: 'site' })
      .resolvesOnce({ Contents: objects('', 1000), IsTruncated: true, NextContinuationToken: 'page-2' })
      .resolvesOnce({ Contents: objects('', 1001, 1000), IsTruncated: false });
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('missing'), { name: 'NoSuchKey' }));
    s3.on(CopyObjectCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    s3.on(DeleteObjectsCommand).resolves({});

    // Act
    const outcome = await runner().run(step(), context);

    // Assess
    const deletes = s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete?.Objects?.length);
    expect(deletes).toEqual([1000, 1000, 1]);
    expect(outcome.summary).toMatch(
      /1 uploaded, 0 unchanged, 2001 deleted; the previous 2001 files backed up/,
    );
    const order = s3.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
    expect(order.lastIndexOf('CopyObjectCommand')).toBeLessThan(order.indexOf('DeleteObjectsCommand'));
  });

  it('fails with the keys S3 did not delete, carrying the backup for the rollback', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Bucket: 'artifacts' }).resolves({ Contents: objects('frontend/v2/', 1) });
    s3.on(ListObjectsV2Command, { Bucket: 'site' }).resolves({ Contents: objects('', 3, 100) });
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('missing'), { name: 'NoSuchKey' }));
    s3.on(CopyObjectCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'file-0100.txt', Code: 'AccessDenied' }] });

    // Act
    const error = await runner()
      .run(step(), context)
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toMatch(
      /deleting the files the build no longer has failed \(3 backed up, 1 uploaded, some deletions may be done\): .*S3 did not delete 1 object: file-0100.txt \(AccessDenied\)/,
    );
    expect((error as { undo?: Record<string, string> }).undo).toMatchObject({
      bucket: 'site',
      backup: '.devops-agent-backups/abc-1/deploy-frontend/',
    });
  });

  it('refuses an artifact prefix that overlaps the site', async () => {
    // Act
    const run = runner().run(step({ source: 's3://site/releases/v2/', prefix: '' }), context);

    // Assess
    await expect(run).rejects.toThrow(/overlaps the site s3:\/\/site\//);
    expect(s3.calls()).toHaveLength(0);
  });

  it('refuses a step of another kind', async () => {
    // Prepare
    const other = { name: 'Invalidate', kind: 'cloudfront-invalidation', distribution_id: 'E1' } as Step;

    // Act
    const run = runner().run(other, context);

    // Assess
    await expect(run).rejects.toThrow(StepKindUnsupportedError);
  });
});
