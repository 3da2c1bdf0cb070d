import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type {
  InvalidationRequest,
  Invalidator,
} from '../../../functions/shared/adapters/cloudfront-invalidation-step-runner.js';
import { S3SyncStepRunner } from '../../../functions/shared/adapters/s3-sync-step-runner.js';
import { S3SyncStepSchema, type Step } from '../../../functions/shared/config/schema.js';
import { BadRequestError, StepFailedError } from '../../../functions/shared/errors.js';
import type { StepContext } from '../../../functions/shared/ports/step-runner.js';
import {
  inject,
  keysOf,
  type LocalS3,
  newBucket,
  putObjects,
  record,
  s3Error,
  snapshot,
  startS3,
  text,
  writeTree,
} from './helpers.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

const syncStep = (fields: Record<string, unknown>): Step =>
  S3SyncStepSchema.parse({ name: 'Deploy frontend', kind: 's3-sync', source: 'dist', ...fields });

const context = (deploymentId = 'dep-1', vars: Record<string, string> = {}): StepContext => ({
  deploymentId,
  service: 'notifications',
  environment: 'production',
  vars: { deploymentId, release: 'v2', ...vars },
});

/** The release being deployed: a new page, a new fingerprinted bundle, an unchanged image. */
const NEW_BUILD = {
  'index.html': '<!doctype html><title>v2</title><script src="/assets/app.7c2e9d.js"></script>',
  'assets/app.7c2e9d.js': 'console.log("v2");',
  'assets/app.css': 'body { color: #222; }',
  'img/my logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3]),
  'robots.txt': 'User-agent: *\n',
};

/** The live v1 site under `site/`: headers and metadata the sync does not write, to see them come back. */
const OLD_SITE = {
  'site/index.html': {
    body: '<!doctype html><title>v1</title><script src="/assets/app.1a2b3c.js"></script>',
    ContentType: 'text/html; charset=utf-8',
    CacheControl: 'no-cache',
    Metadata: { release: 'v1' },
  },
  'site/assets/app.1a2b3c.js': {
    body: 'console.log("v1");',
    ContentType: 'application/javascript',
    CacheControl: IMMUTABLE,
    ContentEncoding: 'identity',
  },
  'site/assets/app.css': {
    body: 'body { color: #000; }',
    ContentType: 'text/css',
    CacheControl: 'max-age=60',
  },
  'site/img/my logo.png': {
    body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 3]),
    ContentType: 'image/png',
    CacheControl: 'public, max-age=300',
  },
  'site/old-page.html': {
    body: '<p>gone in v2</p>',
    ContentType: 'text/html',
    ContentDisposition: 'inline',
    ContentLanguage: 'en',
    Metadata: { owner: 'web-team' },
  },
  'other/keep.txt': { body: 'not part of the site', ContentType: 'text/plain' },
};

describe('S3SyncStepRunner on s3rver', () => {
  let s3: LocalS3;
  let admin: S3Client;
  let base: string;

  beforeAll(async () => {
    s3 = await startS3();
    admin = s3.client();
  });

  afterAll(async () => {
    await s3.stop();
  });

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'devops-agent-build-'));
    writeTree(join(base, 'dist'), NEW_BUILD);
  });

  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  const runner = (client: S3Client, extra: Partial<ConstructorParameters<typeof S3SyncStepRunner>[0]> = {}) =>
    new S3SyncStepRunner({ client, localBaseDir: base, retryDelayMs: 10, ...extra });

  it('uploads a fresh build with each file’s content type and cache header', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    const step = syncStep({
      bucket,
      cache_control: [{ match: 'robots.txt', value: 'public, max-age=3600' }],
    });

    // Act
    const outcome = await runner(s3.client()).run(step, context());

    // Assess
    const site = await snapshot(admin, bucket);
    expect(Object.keys(site).sort()).toEqual(Object.keys(NEW_BUILD).sort());
    expect(
      Object.fromEntries(Object.entries(site).map(([key, o]) => [key, [o.contentType, o.cacheControl]])),
    ).toEqual({
      'index.html': ['text/html; charset=utf-8', 'no-cache'],
      'assets/app.7c2e9d.js': ['text/javascript; charset=utf-8', IMMUTABLE],
      'assets/app.css': ['text/css; charset=utf-8', 'public, max-age=300'],
      'img/my logo.png': ['image/png', 'public, max-age=300'],
      'robots.txt': ['text/plain; charset=utf-8', 'public, max-age=3600'],
    });
    expect(await text(admin, bucket, 'assets/app.7c2e9d.js')).toBe(NEW_BUILD['assets/app.7c2e9d.js']);
    expect(Buffer.from(site['img/my logo.png']?.body ?? '', 'base64')).toEqual(NEW_BUILD['img/my logo.png']);
    expect(outcome.summary).toMatch(
      /^dist → s3:\/\/.*\/: 5 uploaded, 0 unchanged, 0 deleted; the previous 0 files/,
    );
    expect(outcome.undo).toEqual({
      bucket,
      prefix: '',
      backup: '.devops-agent-backups/dep-1/deploy-frontend/',
      backedUp: '0',
      uploaded: '5',
      deleted: '0',
    });
  });

  it('syncs a local folder over a live site and undoes it to the same bytes and headers', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    await putObjects(admin, bucket, OLD_SITE);
    const before = await snapshot(admin, bucket);
    const step = syncStep({ bucket, prefix: 'site', source: 'file://dist' });
    const sync = runner(s3.client());

    // Act
    const outcome = await sync.run(step, context());
    const during = await snapshot(admin, bucket);
    const undone = await sync.undo(step, outcome.undo, context());

    // Assess
    expect(Object.keys(during).sort()).toEqual(
      ['other/keep.txt', ...Object.keys(NEW_BUILD).map((k) => `site/${k}`)].sort(),
    );
    expect(during['site/index.html']?.metadata).toEqual({});
    expect(outcome.summary).toMatch(/4 uploaded, 1 unchanged, 2 deleted; the previous 5 files backed up/);
    expect(await snapshot(admin, bucket)).toEqual(before);
    expect(undone.summary).toMatch(
      /^restored 4 files from s3:\/\/.*, deleted 2 the release added, 1 unchanged$/,
    );
    expect(undone.kept).toBeUndefined();
  });

  it('syncs from an artifact prefix over a live site and undoes it to the same bytes and headers', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    const artifacts = await newBucket(admin, 'artifacts');
    await putObjects(admin, bucket, OLD_SITE);
    await putObjects(
      admin,
      artifacts,
      Object.fromEntries(
        Object.entries(NEW_BUILD).map(([key, body]) => [
          `frontend/v2/${key}`,
          { body, ContentType: 'binary/octet-stream', Metadata: { build: '812' } },
        ]),
      ),
    );
    await putObjects(admin, artifacts, {
      'frontend/v2/': { body: '' },
      'frontend/v1/index.html': { body: 'v1' },
    });
    const before = await snapshot(admin, bucket);
    const step = syncStep({ bucket, prefix: 'site/', source: `s3://${artifacts}/frontend/{{release}}` });
    const sync = runner(s3.client());

    // Act
    const outcome = await sync.run(step, context());
    const during = await snapshot(admin, bucket);
    await sync.undo(step, outcome.undo, context());

    // Assess
    expect(Object.keys(during).sort()).toEqual(
      ['other/keep.txt', ...Object.keys(NEW_BUILD).map((k) => `site/${k}`)].sort(),
    );
    expect(Buffer.from(during['site/index.html']?.body ?? '', 'base64').toString()).toBe(
      NEW_BUILD['index.html'],
    );
    expect([during['site/index.html']?.contentType, during['site/index.html']?.cacheControl]).toEqual([
      'text/html; charset=utf-8',
      'no-cache',
    ]);
    expect(during['site/assets/app.7c2e9d.js']?.cacheControl).toBe(IMMUTABLE);
    expect(during['site/robots.txt']?.metadata).toEqual({});
    expect(outcome.summary).toMatch(new RegExp(`^s3://${artifacts}/frontend/v2/ → s3://${bucket}/site/`));
    expect(await snapshot(admin, bucket)).toEqual(before);
  });

  it('backs up every object first, uploads next and deletes last, never touching the backup', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    await putObjects(admin, bucket, OLD_SITE);
    const client = s3.client();
    const calls = record(client);
    const step = syncStep({ bucket, prefix: 'site' });

    // Act
    await runner(client).run(step, context());

    // Assess
    const index = (predicate: (c: (typeof calls)[number]) => boolean, last = false) =>
      last ? calls.findLastIndex(predicate) : calls.findIndex(predicate);
    const isBackup = (c: (typeof calls)[number]) =>
      c.command === 'CopyObjectCommand' && !!c.key?.startsWith('.devops');
    const isUpload = (c: (typeof calls)[number]) =>
      c.command === 'PutObjectCommand' && !!c.key?.startsWith('site/');
    expect(calls.filter(isBackup)).toHaveLength(5);
    const isManifest = (c: (typeof calls)[number]) =>
      c.command === 'PutObjectCommand' && !!c.key?.endsWith('manifest.json');
    expect(index(isBackup, true)).toBeLessThan(index(isManifest));
    expect(index(isManifest)).toBeLessThan(index(isUpload));
    expect(index(isUpload, true)).toBeLessThan(index((c) => c.command === 'DeleteObjectsCommand'));
    expect(
      calls.filter((c) => c.command !== 'CopyObjectCommand' && c.key?.startsWith('.devops-agent-backups/')),
    ).toEqual([
      {
        command: 'GetObjectCommand',
        bucket,
        key: '.devops-agent-backups/dep-1/deploy-frontend/manifest.json',
      },
      {
        command: 'PutObjectCommand',
        bucket,
        key: '.devops-agent-backups/dep-1/deploy-frontend/manifest.json',
      },
    ]);
    expect(await keysOf(admin, bucket, '.devops-agent-backups/')).toEqual(
      [
        'manifest.json',
        'files/index.html',
        'files/assets/app.1a2b3c.js',
        'files/assets/app.css',
        'files/img/my logo.png',
        'files/old-page.html',
      ]
        .map((k) => `.devops-agent-backups/dep-1/deploy-frontend/${k}`)
        .sort(),
    );
  });

  it('deletes nothing when an upload fails midway, and undo restores the site from the backup', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    await putObjects(admin, bucket, OLD_SITE);
    const before = await snapshot(admin, bucket);
    const client = s3.client();
    let uploads = 0;
    inject(
      client,
      (command, input) =>
        command === 'PutObjectCommand' && !!input.Key?.startsWith('site/') && ++uploads === 3,
      () => s3Error('AccessDenied', 403, 'Access Denied'),
    );
    const step = syncStep({ bucket, prefix: 'site' });
    const sync = runner(client, { concurrency: 1 });

    // Act
    const error = await sync.run(step, context()).catch((e: unknown) => e);
    const during = await snapshot(admin, bucket);
    const undone = await sync.undo(step, (error as { undo?: Record<string, string> }).undo, context());

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toMatch(
      /^Deploy frontend: uploading the build failed \(5 backed up, 2 uploaded, nothing deleted\): AccessDenied \(HTTP 403\)/,
    );
    expect((error as { undo?: Record<string, string> }).undo).toMatchObject({
      backup: '.devops-agent-backups/dep-1/deploy-frontend/',
      backedUp: '5',
      uploaded: '2',
    });
    expect(during['site/old-page.html']).toEqual(before['site/old-page.html']);
    expect(during['site/assets/app.1a2b3c.js']).toEqual(before['site/assets/app.1a2b3c.js']);
    expect(Object.keys(during).filter((k) => !(k in before))).toEqual(['site/assets/app.7c2e9d.js']);
    expect(during['site/assets/app.css']).not.toEqual(before['site/assets/app.css']);
    expect(await snapshot(admin, bucket)).toEqual(before);
    expect(undone.summary).toMatch(/deleted 1 the release added/);
  });

  it('keeps the first backup when the step runs again after a half-done sync', async () => {
    // Prepare: the first try stops after two uploads (a Lambda that died); the second finishes
    const bucket = await newBucket(admin);
    await putObjects(admin, bucket, OLD_SITE);
    const before = await snapshot(admin, bucket);
    const failing = s3.client();
    let uploads = 0;
    inject(
      failing,
      (command, input) =>
        command === 'PutObjectCommand' && !!input.Key?.startsWith('site/') && ++uploads === 3,
      () => s3Error('AccessDenied', 403),
    );
    const step = syncStep({ bucket, prefix: 'site' });
    await runner(failing, { concurrency: 1 })
      .run(step, context())
      .catch(() => undefined);
    const sync = runner(s3.client());

    // Act
    const outcome = await sync.run(step, context());
    await sync.undo(step, outcome.undo, context());

    // Assess
    expect(outcome.undo?.backedUp).toBe('5');
    expect(await snapshot(admin, bucket)).toEqual(before);
  });

  it('leaves files alone that already have their bytes and headers', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    const step = syncStep({ bucket });
    await runner(s3.client()).run(step, context('dep-1'));
    const client = s3.client();
    const calls = record(client);

    // Act
    const outcome = await runner(client).run(step, context('dep-2'));

    // Assess
    expect(outcome.summary).toMatch(/: 0 uploaded, 5 unchanged, 0 deleted; the previous 5 files/);
    expect(calls.filter((c) => c.command === 'PutObjectCommand' && !c.key?.startsWith('.devops'))).toEqual(
      [],
    );
  });

  it('uploads a file again when only its cache rule changed, and undo brings the old header back', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    await runner(s3.client()).run(syncStep({ bucket }), context('dep-1'));
    const before = await snapshot(admin, bucket);
    const step = syncStep({ bucket, cache_control: [{ match: 'robots.txt', value: 'no-store' }] });
    const sync = runner(s3.client());

    // Act
    const outcome = await sync.run(step, context('dep-2'));
    const during = await snapshot(admin, bucket);
    await sync.undo(step, outcome.undo, context('dep-2'));

    // Assess
    expect(outcome.summary).toMatch(/: 1 uploaded, 4 unchanged, 0 deleted/);
    expect(during['robots.txt']?.cacheControl).toBe('no-store');
    expect(await snapshot(admin, bucket)).toEqual(before);
  });

  it('tries an upload again after 503 SlowDown answers, a streamed one included', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    const artifacts = await newBucket(admin, 'artifacts');
    await putObjects(admin, artifacts, { 'build/index.html': { body: '<p>from the artifact</p>' } });
    const client = s3.client();
    const slowDowns = { PutObjectCommand: 0, CopyObjectCommand: 0 };
    inject(
      client,
      (command, input) => {
        if (!(command in slowDowns) || input.Key !== 'index.html') return false;
        return ++slowDowns[command as keyof typeof slowDowns] <= 2;
      },
      () => s3Error('SlowDown', 503, 'Please reduce your request rate.'),
      { inside: true },
    );
    const sync = runner(client);

    // Act
    await sync.run(syncStep({ bucket }), context('dep-1'));
    await sync.run(syncStep({ bucket, source: `s3://${artifacts}/build/` }), context('dep-2'));

    // Assess
    expect(slowDowns).toEqual({ PutObjectCommand: 3, CopyObjectCommand: 3 });
    expect(await text(admin, bucket, 'index.html')).toBe('<p>from the artifact</p>');
  });

  it('invalidates the CDN after restoring, when the step asks for it', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    await putObjects(admin, bucket, OLD_SITE);
    const client = s3.client();
    const calls = record(client);
    const requests: InvalidationRequest[] = [];
    const invalidator: Invalidator = {
      invalidate: async (request) => {
        requests.push(request);
        calls.push({ command: 'CreateInvalidation' });
        return { id: 'I2J0EXAMPLE', seconds: 41 };
      },
    };
    const step = syncStep({
      bucket,
      prefix: 'site',
      invalidate_after_restore: { distribution_id: 'E2EXAMPLE12345', paths: ['/index.html', '/*'] },
    });
    const sync = runner(client, { invalidator });
    const outcome = await sync.run(step, context());

    // Act
    const undone = await sync.undo(step, outcome.undo, context());

    // Assess
    expect(requests).toEqual([
      {
        distributionId: 'E2EXAMPLE12345',
        paths: ['/index.html', '/*'],
        callerReference: 'dep-1/Deploy frontend (restore)',
        timeoutSeconds: 300,
      },
    ]);
    expect(calls.at(-1)?.command).toBe('CreateInvalidation');
    expect(calls.findLastIndex((c) => c.command === 'CopyObjectCommand')).toBeLessThan(calls.length - 1);
    expect(undone.summary).toMatch(/; invalidated \/index.html, \/\* on E2EXAMPLE12345 \(I2J0EXAMPLE\)$/);
  });

  it('refuses invalidate_after_restore without CloudFront before changing anything', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    const step = syncStep({ bucket, invalidate_after_restore: { distribution_id: 'E2EXAMPLE12345' } });

    // Act
    const run = runner(s3.client()).run(step, context());

    // Assess
    await expect(run).rejects.toThrow(BadRequestError);
    expect(await keysOf(admin, bucket)).toEqual([]);
  });

  it('says there is nothing to restore when the sync stopped before its backup', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    await putObjects(admin, bucket, OLD_SITE);
    const before = await snapshot(admin, bucket);
    const step = syncStep({ bucket, prefix: 'site', source: 'missing-build' });
    const sync = runner(s3.client());
    const error = await sync.run(step, context()).catch((e: unknown) => e);

    // Act
    const undone = await sync.undo(step, undefined, context());

    // Assess
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as Error).message).toMatch(
      /build folder .*missing-build does not exist; nothing was changed/,
    );
    expect(undone.summary).toMatch(/^nothing to restore: there is no complete backup at s3:\/\//);
    expect(await snapshot(admin, bucket)).toEqual(before);
  });

  it('refuses an empty build rather than deleting the site', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    await putObjects(admin, bucket, OLD_SITE);
    mkdirSync(join(base, 'empty'));

    // Act
    const run = runner(s3.client()).run(syncStep({ bucket, prefix: 'site', source: 'empty' }), context());

    // Assess
    await expect(run).rejects.toThrow(/empty has no files; an empty build would delete the whole site/);
    expect(await keysOf(admin, bucket, 'site/')).toHaveLength(5);
  });

  describe('a source outside the base directory', () => {
    let outside: string;

    beforeEach(() => {
      outside = mkdtempSync(join(tmpdir(), 'devops-agent-outside-'));
      writeTree(outside, { 'secret.txt': 'not for the web' });
    });

    afterEach(() => {
      rmSync(outside, { recursive: true, force: true });
    });

    it.each([
      ['a relative path up and out', () => '../outside'],
      ['a placeholder filled with ../', () => 'dist/{{release}}'],
      ['an absolute path', () => outside],
      ['a file:// URL to an absolute path', () => `file://${outside}`],
    ])('refuses %s and changes nothing', async (_what, source) => {
      // Prepare
      const bucket = await newBucket(admin);
      const step = syncStep({ bucket, source: source() });

      // Act
      const run = runner(s3.client()).run(step, context('dep-1', { release: '../..' }));

      // Assess
      await expect(run).rejects.toThrow(BadRequestError);
      await expect(run).rejects.toThrow(/is outside .*; the build must be a folder inside it/);
      expect(await keysOf(admin, bucket)).toEqual([]);
    });

    it('refuses a build folder that is a symbolic link to a folder outside', async () => {
      // Prepare
      const bucket = await newBucket(admin);
      symlinkSync(outside, join(base, 'linked'));

      // Act
      const run = runner(s3.client()).run(syncStep({ bucket, source: 'linked' }), context());

      // Assess
      await expect(run).rejects.toThrow(/source "linked" \(through a symbolic link to .*\) is outside/);
      expect(await keysOf(admin, bucket)).toEqual([]);
    });

    it('refuses a symbolic link in the build that points outside, before uploading anything', async () => {
      // Prepare
      const bucket = await newBucket(admin);
      symlinkSync(join(outside, 'secret.txt'), join(base, 'dist', 'assets', 'z-secret.txt'));

      // Act
      const run = runner(s3.client()).run(syncStep({ bucket }), context());

      // Assess
      await expect(run).rejects.toThrow(
        /assets\/z-secret.txt \(a symbolic link to .*secret.txt\) is outside/,
      );
      expect(await keysOf(admin, bucket)).toEqual([]);
    });

    it('follows a symbolic link that stays inside the base directory', async () => {
      // Prepare
      const bucket = await newBucket(admin);
      writeTree(base, { 'shared/fonts/inter.woff2': 'wOF2' });
      symlinkSync(join(base, 'shared', 'fonts'), join(base, 'dist', 'fonts'));

      // Act
      await runner(s3.client()).run(syncStep({ bucket }), context());

      // Assess
      const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: 'fonts/inter.woff2' }));
      expect(head.ContentType).toBe('font/woff2');
    });
  });

  it('refuses a local folder where the runtime has no base directory (on AWS)', async () => {
    // Prepare
    const bucket = await newBucket(admin);

    // Act
    const run = new S3SyncStepRunner({ client: s3.client() }).run(syncStep({ bucket }), context());

    // Assess
    await expect(run).rejects.toThrow(/is a local folder, which this runtime cannot read; use s3:\/\//);
  });

  it('tells what is live: the version file, else the files and the newest upload', async () => {
    // Prepare
    const bucket = await newBucket(admin);
    const empty = await newBucket(admin);
    await putObjects(admin, bucket, { ...OLD_SITE, 'site/version.txt': { body: 'v1.4.2\n' } });
    const sync = runner(s3.client());

    // Act
    const version = await sync.current(
      syncStep({ bucket, prefix: 'site', version_file: 'version.txt' }),
      context(),
    );
    const files = await sync.current(syncStep({ bucket, prefix: 'site' }), context());
    const missing = await sync.current(
      syncStep({ bucket, prefix: 'site', version_file: 'nope.txt' }),
      context(),
    );
    const nothing = await sync.current(syncStep({ bucket: empty }), context());

    // Assess
    expect(version).toBe('v1.4.2');
    expect(files).toMatch(/^6 files, newest \d{4}-\d\d-\d\dT/);
    expect(missing).toBe(files);
    expect(nothing).toBe(`nothing deployed (s3://${empty}/ is empty)`);
  });
});
