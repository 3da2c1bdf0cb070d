import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import * as z from 'zod';
import type { Step } from '../config/schema.js';
import { BadRequestError, StepFailedError, StepKindUnsupportedError } from '../errors.js';
import type { StepContext, StepOutcome, StepRunner } from '../ports/step-runner.js';
import { type CacheRule, cacheControlFor, contentTypeFor } from '../site-headers.js';
import { describeAwsError, isTransientAwsError } from './aws-transient.js';
import { callerReference, type Invalidator } from './cloudfront-invalidation-step-runner.js';

type S3SyncStep = Extract<Step, { kind: 's3-sync' }>;

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;
const DELETE_BATCH = 1000;
const DEPLOYMENT_ID = /^[A-Za-z0-9_-]{1,80}$/;

export interface S3SyncStepRunnerOptions {
  client: S3Client;
  /**
   * Where local folder sources (`file://dist`, `dist`) are read; they may not leave it, through `..`, an
   * absolute path or a symbolic link. Without it only `s3://` sources are accepted (on AWS).
   */
  localBaseDir?: string;
  /** CloudFront, for `invalidate_after_restore`; a step asking for it is refused without one */
  invalidator?: Invalidator;
  /** requests in flight at once (copies, uploads); default 8 */
  concurrency?: number;
  /** tries of one streamed upload, which the SDK cannot retry itself (the stream is used up); default 4 */
  uploadAttempts?: number;
  /** the first wait before an upload is tried again (ms), doubled each time; default 200 */
  retryDelayMs?: number;
}

/** One object of a listing: its full key. */
interface Listed {
  key: string;
  etag?: string;
  size: number;
  lastModified?: Date;
}

/** One file of the build, by its key relative to the site's prefix. */
interface BuildFile {
  rel: string;
  /** a local file (its real path, checked to be inside the base directory) */
  path?: string;
  /** an object of the artifact prefix */
  sourceKey?: string;
  /** the artifact object's ETag */
  etag?: string;
}

interface Build {
  /** how messages name it */
  describe: string;
  /** the artifact bucket of an `s3://` source */
  bucket?: string;
  /** the real base directory of a folder build: each file is checked against it again before it is read */
  realBase?: string;
  files: BuildFile[];
}

interface Site {
  bucket: string;
  /** '' or ending in `/` */
  prefix: string;
  /** `<backup_prefix><deployment id>/<step>/`, from the bucket's root */
  backupRoot: string;
  /** never listed as part of the site, never synced or deleted */
  backupPrefix: string;
}

/**
 * What the backup holds, written once the copies are complete and before anything of the site changes:
 * its presence is how `undo` knows there is something to restore.
 */
const ManifestSchema = z.object({
  version: z.literal(1),
  bucket: z.string(),
  prefix: z.string(),
  deploymentId: z.string(),
  step: z.string(),
  createdAt: z.string(),
  /** the site before the sync, by key relative to `prefix` */
  objects: z.array(z.object({ key: z.string(), etag: z.string().optional(), size: z.number() })),
  /** what the sync writes (or wrote): restored even when its bytes are unchanged, as its headers may not be */
  uploads: z.array(z.string()),
});
type Manifest = z.infer<typeof ManifestSchema>;

interface Progress {
  backedUp: number;
  uploaded: number;
  unchanged: number;
  deleted: number;
}

const normalizePrefix = (prefix: string): string => (prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix);

const slug = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'step';

/** `x-amz-copy-source`: the key URL-encoded segment by segment, as S3 expects it. */
const copySource = (bucket: string, key: string): string =>
  `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

const inside = (base: string, path: string): boolean => {
  const rel = relative(base, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
};

const md5Of = async (path: string): Promise<string> => {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return `"${hash.digest('hex')}"`;
};

/** Runs `work` on every item, `limit` at a time; after the first failure starts no more, then throws it. */
const forEachLimit = async <T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) => {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
};

const isNoSuchKey = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound');

const PHASES = {
  'back up': 'backing up the site',
  compare: 'comparing the build with the site',
  upload: 'uploading the build',
  delete: 'deleting the files the build no longer has',
} as const;

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/**
 * Runs `s3-sync` steps: a build (an artifact prefix `s3://bucket/prefix/`, or a local folder under
 * `localBaseDir`) to the site's bucket and prefix, with each file's Content-Type (mime-types, utf-8 for
 * text) and Cache-Control (the step's `cache_control` rules, then the defaults of site-headers.ts).
 *
 * In this order, so that a failure at any point can be undone exactly:
 * 1. **Back up**: every object of the site is copied (bytes and metadata) to
 *    `<backup_prefix><deployment id>/<step>/files/…`, then a manifest lists them. A backup prefix rather than
 *    object versions: it works on any bucket, versioned or not, and on S3-compatible stores.
 * 2. **Upload** new and changed files (an object whose ETag is the file's MD5 and whose headers are already
 *    right is left alone): CopyObject with `MetadataDirective: REPLACE` from an artifact prefix, a streamed
 *    PutObject from a folder.
 * 3. **Delete** what the build no longer has, only once every upload succeeded (and `delete` is on).
 *
 * The backup prefix is never part of the site: not listed, not synced, not deleted. `undo` copies the
 * backed-up objects back (metadata included) and deletes what did not exist before, then, with
 * `invalidate_after_restore`, invalidates the CDN. Transient S3 errors are retried by the SDK (give the
 * client `maxAttempts`); streamed uploads, which it cannot retry, are tried again here.
 *
 * @example
 * const runner = new S3SyncStepRunner({ client: new S3Client({ maxAttempts: 5 }), localBaseDir: process.cwd() });
 */
export class S3SyncStepRunner implements StepRunner {
  private readonly baseDir: string | undefined;
  private readonly concurrency: number;
  private readonly uploadAttempts: number;
  private readonly retryDelayMs: number;

  constructor(private readonly options: S3SyncStepRunnerOptions) {
    this.baseDir = options.localBaseDir === undefined ? undefined : resolve(options.localBaseDir);
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.uploadAttempts = Math.max(1, options.uploadAttempts ?? 4);
    this.retryDelayMs = options.retryDelayMs ?? 200;
  }

  private get client(): S3Client {
    return this.options.client;
  }

  async run(step: Step, context: StepContext): Promise<StepOutcome> {
    const sync = this.syncStep(step);
    if (sync.invalidate_after_restore && !this.options.invalidator) {
      throw new BadRequestError(
        `${sync.name}: invalidate_after_restore needs CloudFront, which this runtime has no client for; nothing was changed`,
      );
    }
    const site = this.siteOf(sync, context);
    const signal = AbortSignal.timeout(sync.timeout * 1000);
    const build = await this.buildOf(sync, context, site, signal);
    const progress: Progress = { backedUp: 0, uploaded: 0, unchanged: 0, deleted: 0 };
    const undo = () => ({
      bucket: site.bucket,
      prefix: site.prefix,
      backup: site.backupRoot,
      backedUp: String(progress.backedUp),
      uploaded: String(progress.uploaded),
      deleted: String(progress.deleted),
    });
    let phase: 'back up' | 'compare' | 'upload' | 'delete' = 'back up';
    try {
      const current = await this.listSite(site, signal);
      // A manifest already there means an earlier try of this very step backed up the site as it was
      // before; backing up again would save the half-synced site over it.
      const earlier = await this.readManifest(site, signal);
      const objects = earlier?.objects ?? (await this.backUp(site, current, progress, signal));
      progress.backedUp = objects.length;
      phase = 'compare';
      const uploads = await this.changed(build, current, site, sync.cache_control, progress, signal);
      await this.writeManifest(
        site,
        {
          version: 1,
          bucket: site.bucket,
          prefix: site.prefix,
          deploymentId: context.deploymentId,
          step: sync.name,
          createdAt: earlier?.createdAt ?? new Date().toISOString(),
          objects,
          uploads: [...new Set([...(earlier?.uploads ?? []), ...uploads.map((u) => u.file.rel)])],
        },
        signal,
      );
      phase = 'upload';
      await forEachLimit(uploads, this.concurrency, async (upload) => {
        await this.upload(build, site, upload, signal);
        progress.uploaded++;
      });
      if (sync.delete) {
        phase = 'delete';
        const keep = new Set(build.files.map((f) => `${site.prefix}${f.rel}`));
        const stale = current.map((o) => o.key).filter((key) => !keep.has(key));
        await this.deleteKeys(site.bucket, stale, signal);
        progress.deleted = stale.length;
      }
    } catch (error) {
      const why = signal.aborted ? `timed out after ${sync.timeout} s` : describeAwsError(error);
      const done = `${progress.backedUp} backed up, ${progress.uploaded} uploaded, ${phase === 'delete' ? 'some deletions may be done' : 'nothing deleted'}`;
      // The backup location goes with the error: the site may be half synced, and rollback restores it.
      throw Object.assign(
        new StepFailedError(`${sync.name}: ${PHASES[phase]} failed (${done}): ${why}`, { cause: error }),
        {
          undo: undo(),
        },
      );
    }
    return {
      summary: `${build.describe} → s3://${site.bucket}/${site.prefix}: ${progress.uploaded} uploaded, ${progress.unchanged} unchanged, ${progress.deleted} deleted; the previous ${plural(progress.backedUp, 'file')} backed up under s3://${site.bucket}/${site.backupRoot}`,
      undo: undo(),
    };
  }

  async undo(
    step: Step,
    undo: Record<string, string> | undefined,
    context: StepContext,
  ): Promise<{ summary: string; kept?: boolean }> {
    const sync = this.syncStep(step);
    const derived = this.siteOf(sync, context);
    // What `run` recorded wins (it is where the backup was written); without a record (the step failed
    // before recording it) the backup is found where `run` puts it.
    const located: Site = {
      ...derived,
      bucket: undo?.bucket ?? derived.bucket,
      backupRoot: undo?.backup ?? derived.backupRoot,
    };
    const signal = AbortSignal.timeout(sync.timeout * 1000);
    const where = `s3://${located.bucket}/${located.backupRoot}`;
    let manifest: Manifest | undefined;
    try {
      manifest = await this.readManifest(located, signal);
    } catch (error) {
      throw new StepFailedError(
        `${sync.name}: cannot read the backup at ${where}: ${describeAwsError(error)}`,
        {
          cause: error,
        },
      );
    }
    if (!manifest) {
      return {
        summary: `nothing to restore: there is no complete backup at ${where}, so the sync stopped before it changed the site`,
      };
    }
    const site: Site = { ...located, bucket: manifest.bucket, prefix: manifest.prefix };
    let restored = 0;
    let removed = 0;
    let phase = 'restoring the backed-up files';
    try {
      const current = new Map((await this.listSite(site, signal)).map((o) => [o.key, o]));
      const before = new Set(manifest.objects.map((o) => `${site.prefix}${o.key}`));
      const written = new Set(manifest.uploads.map((rel) => `${site.prefix}${rel}`));
      const restore = manifest.objects.filter((o) => {
        const key = `${site.prefix}${o.key}`;
        const now = current.get(key);
        return !now || written.has(key) || now.etag !== o.etag;
      });
      await forEachLimit(restore, this.concurrency, async (o) => {
        await this.client.send(
          new CopyObjectCommand({
            Bucket: site.bucket,
            Key: `${site.prefix}${o.key}`,
            CopySource: copySource(site.bucket, `${site.backupRoot}files/${o.key}`),
            MetadataDirective: 'COPY',
          }),
          { abortSignal: signal },
        );
        restored++;
      });
      phase = 'deleting the files the release added';
      const added = [...current.keys()].filter((key) => !before.has(key));
      await this.deleteKeys(site.bucket, added, signal);
      removed = added.length;
    } catch (error) {
      const why = signal.aborted ? `timed out after ${sync.timeout} s` : describeAwsError(error);
      throw new StepFailedError(
        `${sync.name}: ${phase} from ${where} failed after ${restored} restored (the backup is intact, so restoring again finishes it): ${why}`,
        { cause: error },
      );
    }
    const unchanged = manifest.objects.length - restored;
    let summary = `restored ${plural(restored, 'file')} from ${where}, deleted ${removed} the release added${unchanged ? `, ${unchanged} unchanged` : ''}`;
    const invalidate = sync.invalidate_after_restore;
    if (invalidate) {
      if (!this.options.invalidator) {
        throw new StepFailedError(
          `${summary}; but the CDN was not invalidated: this runtime has no CloudFront client for invalidate_after_restore`,
        );
      }
      try {
        const { id } = await this.options.invalidator.invalidate({
          distributionId: invalidate.distribution_id,
          paths: [...new Set(invalidate.paths)],
          callerReference: callerReference(context.deploymentId, `${sync.name} (restore)`),
          timeoutSeconds: invalidate.timeout,
        });
        summary += `; invalidated ${invalidate.paths.join(', ')} on ${invalidate.distribution_id} (${id})`;
      } catch (error) {
        throw new StepFailedError(
          `${summary}; but invalidating the CDN failed, so it may serve the release's files until they expire: ${describeAwsError(error)}`,
          { cause: error },
        );
      }
    }
    return { summary };
  }

  /**
   * What is live: the `version_file`'s text when there is one, else how many files and the newest
   * upload. Only reads.
   */
  async current(step: Step, context: StepContext): Promise<string | undefined> {
    const sync = this.syncStep(step);
    const site = this.siteOf(sync, context);
    const signal = AbortSignal.timeout(sync.timeout * 1000);
    if (sync.version_file) {
      try {
        const object = await this.client.send(
          new GetObjectCommand({ Bucket: site.bucket, Key: `${site.prefix}${sync.version_file}` }),
          { abortSignal: signal },
        );
        const text = ((await object.Body?.transformToString('utf-8')) ?? '').trim();
        if (text) return text.length > 200 ? `${text.slice(0, 199)}…` : text;
      } catch (error) {
        if (!isNoSuchKey(error)) throw error;
      }
    }
    const listed = await this.listSite(site, signal);
    if (listed.length === 0) return `nothing deployed (s3://${site.bucket}/${site.prefix} is empty)`;
    const newest = listed.reduce((max, o) => Math.max(max, o.lastModified?.getTime() ?? 0), 0);
    return `${plural(listed.length, 'file')}, newest ${newest ? new Date(newest).toISOString() : 'unknown'}`;
  }

  private syncStep(step: Step): S3SyncStep {
    if (step.kind !== 's3-sync') {
      throw new StepKindUnsupportedError(
        `S3SyncStepRunner runs s3-sync steps, not ${step.kind} ("${step.name}")`,
      );
    }
    return step;
  }

  private siteOf(step: S3SyncStep, context: StepContext): Site {
    if (!DEPLOYMENT_ID.test(context.deploymentId)) {
      throw new BadRequestError(
        `${step.name}: deployment id ${JSON.stringify(context.deploymentId)} cannot name a backup`,
      );
    }
    return {
      bucket: step.bucket,
      prefix: normalizePrefix(step.prefix),
      backupRoot: `${step.backup_prefix}${context.deploymentId}/${slug(step.name)}/`,
      backupPrefix: step.backup_prefix,
    };
  }

  /** The build's files, read before anything changes: a refused or missing source changes nothing. */
  private async buildOf(
    step: S3SyncStep,
    context: StepContext,
    site: Site,
    signal: AbortSignal,
  ): Promise<Build> {
    const source = step.source.replace(PLACEHOLDER, (_match, name: string) => {
      const value = Object.hasOwn(context.vars, name) ? context.vars[name] : undefined;
      if (value === undefined) {
        throw new BadRequestError(
          `${step.name}: source uses {{${name}}}, which has no value; known: ${Object.keys(context.vars).sort().join(', ') || 'none'}`,
        );
      }
      return value;
    });
    let build: Build;
    if (source.startsWith('s3://')) build = await this.artifactBuild(step, source, site, signal);
    else if (source.startsWith('file://'))
      build = await this.folderBuild(step, source.slice('file://'.length));
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
      throw new BadRequestError(
        `${step.name}: source ${JSON.stringify(source)} is neither s3://<bucket>/<prefix>/ nor a folder (file://dist or dist)`,
      );
    } else build = await this.folderBuild(step, source);
    if (build.files.length === 0) {
      throw new StepFailedError(
        `${step.name}: ${build.describe} has no files; an empty build would delete the whole site, so nothing was changed`,
      );
    }
    const inBackup = build.files.find((f) => `${site.prefix}${f.rel}`.startsWith(site.backupPrefix));
    if (inBackup) {
      throw new BadRequestError(
        `${step.name}: the build has ${inBackup.rel}, which would land in the backup prefix ${site.backupPrefix}; rename it or choose another backup_prefix`,
      );
    }
    return build;
  }

  private async artifactBuild(
    step: S3SyncStep,
    source: string,
    site: Site,
    signal: AbortSignal,
  ): Promise<Build> {
    const [bucket = '', ...rest] = source.slice('s3://'.length).split('/');
    const prefix = normalizePrefix(rest.join('/'));
    if (!bucket) throw new BadRequestError(`${step.name}: source ${source} names no bucket`);
    if (bucket === site.bucket && (prefix.startsWith(site.prefix) || site.prefix.startsWith(prefix))) {
      throw new BadRequestError(
        `${step.name}: source ${source} overlaps the site s3://${site.bucket}/${site.prefix}; sync from another prefix`,
      );
    }
    let listed: Listed[];
    try {
      listed = await this.list(bucket, prefix, signal);
    } catch (error) {
      throw new StepFailedError(
        `${step.name}: cannot list ${source}: ${describeAwsError(error)}; nothing was changed`,
        {
          cause: error,
        },
      );
    }
    const files = listed
      // a zero-byte "folder/" object is how consoles show folders, not a file of the build
      .filter((o) => o.key !== prefix && !(o.key.endsWith('/') && o.size === 0))
      .map((o) => ({
        rel: o.key.slice(prefix.length),
        sourceKey: o.key,
        ...(o.etag ? { etag: o.etag } : {}),
      }));
    return { describe: `s3://${bucket}/${prefix}`, bucket, files };
  }

  private async folderBuild(step: S3SyncStep, folder: string): Promise<Build> {
    if (this.baseDir === undefined) {
      throw new BadRequestError(
        `${step.name}: source ${JSON.stringify(folder)} is a local folder, which this runtime cannot read; use s3://<bucket>/<prefix>/ (a build artifact)`,
      );
    }
    const base = this.baseDir;
    const root = resolve(base, folder || '.');
    const outside = (what: string) =>
      new BadRequestError(`${step.name}: ${what} is outside ${base}; the build must be a folder inside it`);
    if (!inside(base, root)) throw outside(`source "${folder}"`);
    let realBase: string;
    let realRoot: string;
    try {
      realBase = await realpath(base);
      realRoot = await realpath(root);
    } catch (error) {
      throw new StepFailedError(
        `${step.name}: the build folder ${root} does not exist; nothing was changed`,
        {
          cause: error,
        },
      );
    }
    if (!inside(realBase, realRoot))
      throw outside(`source "${folder}" (through a symbolic link to ${realRoot})`);
    if (!(await stat(realRoot)).isDirectory()) {
      throw new BadRequestError(`${step.name}: source ${root} is not a folder`);
    }
    const files: BuildFile[] = [];
    const visited = new Set<string>();
    const walk = async (dir: string, relDir: string): Promise<void> => {
      visited.add(dir);
      const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
        a.name.localeCompare(b.name),
      );
      for (const entry of entries) {
        const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
        let real = join(dir, entry.name);
        if (entry.isSymbolicLink()) {
          try {
            real = await realpath(real);
          } catch (error) {
            throw new StepFailedError(`${step.name}: ${rel} is a broken symbolic link; nothing was changed`, {
              cause: error,
            });
          }
          if (!inside(realBase, real)) throw outside(`${rel} (a symbolic link to ${real})`);
        }
        const stats = await stat(real);
        if (stats.isDirectory()) {
          // a link back up the tree would walk forever
          if (!visited.has(real)) await walk(real, rel);
        } else if (stats.isFile()) files.push({ rel, path: real });
        else throw new BadRequestError(`${step.name}: ${rel} is not a regular file or folder`);
      }
    };
    await walk(realRoot, '');
    return { describe: relative(base, root) || '.', realBase, files };
  }

  /** Every object under a prefix, the backup prefix left out. */
  private async listSite(site: Site, signal: AbortSignal): Promise<Listed[]> {
    return (await this.list(site.bucket, site.prefix, signal)).filter(
      (o) => !o.key.startsWith(site.backupPrefix),
    );
  }

  private async list(bucket: string, prefix: string, signal: AbortSignal): Promise<Listed[]> {
    const listed: Listed[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          ...(prefix ? { Prefix: prefix } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
        { abortSignal: signal },
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        listed.push({
          key: object.Key,
          size: object.Size ?? 0,
          ...(object.ETag ? { etag: object.ETag } : {}),
          ...(object.LastModified ? { lastModified: object.LastModified } : {}),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return listed;
  }

  private async readManifest(site: Site, signal: AbortSignal): Promise<Manifest | undefined> {
    let text: string;
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: site.bucket, Key: `${site.backupRoot}manifest.json` }),
        { abortSignal: signal },
      );
      text = (await object.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw error;
    }
    const parsed = ManifestSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new StepFailedError(
        `the backup manifest s3://${site.bucket}/${site.backupRoot}manifest.json is not one this agent wrote: ${parsed.error.issues[0]?.message}`,
      );
    }
    return parsed.data;
  }

  private async writeManifest(site: Site, manifest: Manifest, signal: AbortSignal): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: site.bucket,
        Key: `${site.backupRoot}manifest.json`,
        Body: JSON.stringify(manifest),
        ContentType: 'application/json',
      }),
      { abortSignal: signal },
    );
  }

  /** Copies every object of the site, metadata and all, into the backup; answers what the manifest lists. */
  private async backUp(
    site: Site,
    current: Listed[],
    progress: Progress,
    signal: AbortSignal,
  ): Promise<Manifest['objects']> {
    await forEachLimit(current, this.concurrency, async (object) => {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: site.bucket,
          Key: `${site.backupRoot}files/${object.key.slice(site.prefix.length)}`,
          CopySource: copySource(site.bucket, object.key),
          MetadataDirective: 'COPY',
        }),
        { abortSignal: signal },
      );
      progress.backedUp++;
    });
    return current.map((o) => ({
      key: o.key.slice(site.prefix.length),
      size: o.size,
      ...(o.etag ? { etag: o.etag } : {}),
    }));
  }

  /**
   * The files to upload, with their headers. A file is left alone when the object already has its bytes
   * (a single-part ETag is the MD5) and exactly the headers the sync would write.
   */
  private async changed(
    build: Build,
    current: Listed[],
    site: Site,
    rules: readonly CacheRule[],
    progress: Progress,
    signal: AbortSignal,
  ): Promise<Upload[]> {
    const existing = new Map(current.map((o) => [o.key, o]));
    const uploads: Upload[] = [];
    await forEachLimit(build.files, this.concurrency, async (file) => {
      const key = `${site.prefix}${file.rel}`;
      const upload: Upload = {
        file,
        key,
        contentType: contentTypeFor(file.rel),
        cacheControl: cacheControlFor(file.rel, rules),
      };
      const object = existing.get(key);
      if (object?.etag && !object.etag.includes('-') && (await this.sameBytes(build, file, object.etag))) {
        const head = await this.client.send(new HeadObjectCommand({ Bucket: site.bucket, Key: key }), {
          abortSignal: signal,
        });
        const same =
          head.ContentType === upload.contentType &&
          head.CacheControl === upload.cacheControl &&
          !head.ContentEncoding &&
          !head.ContentDisposition &&
          !head.ContentLanguage &&
          !head.WebsiteRedirectLocation &&
          Object.keys(head.Metadata ?? {}).length === 0;
        if (same) {
          progress.unchanged++;
          return;
        }
      }
      uploads.push(upload);
    });
    return uploads.sort((a, b) => a.key.localeCompare(b.key));
  }

  private async sameBytes(build: Build, file: BuildFile, etag: string): Promise<boolean> {
    if (file.etag !== undefined) return !file.etag.includes('-') && file.etag === etag;
    if (file.path !== undefined) return (await md5Of(await this.checked(build, file.path))) === etag;
    return false;
  }

  /** A local file's path, checked again just before it is read: the tree may have changed since the walk. */
  private async checked(build: Build, path: string): Promise<string> {
    const real = await realpath(path);
    if (build.realBase === undefined || !inside(build.realBase, real)) {
      throw new BadRequestError(`${path} now resolves to ${real}, outside ${this.baseDir}`);
    }
    return real;
  }

  private async upload(build: Build, site: Site, upload: Upload, signal: AbortSignal): Promise<void> {
    const { file } = upload;
    if (file.sourceKey !== undefined && build.bucket !== undefined) {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: site.bucket,
          Key: upload.key,
          CopySource: copySource(build.bucket, file.sourceKey),
          MetadataDirective: 'REPLACE',
          // the artifact's tags are not the site's (and copying them needs s3:GetObjectTagging on the artifact)
          TaggingDirective: 'REPLACE',
          ContentType: upload.contentType,
          CacheControl: upload.cacheControl,
        }),
        { abortSignal: signal },
      );
      return;
    }
    if (file.path === undefined)
      throw new StepFailedError(`${file.rel}: neither a file nor an artifact object`);
    for (let attempt = 1; ; attempt++) {
      const path = await this.checked(build, file.path);
      const { size } = await stat(path);
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: site.bucket,
            Key: upload.key,
            Body: createReadStream(path),
            ContentLength: size,
            ContentType: upload.contentType,
            CacheControl: upload.cacheControl,
          }),
          { abortSignal: signal },
        );
        return;
      } catch (error) {
        if (attempt >= this.uploadAttempts || signal.aborted || !isTransientAwsError(error)) throw error;
        const delay = this.retryDelayMs * 2 ** (attempt - 1);
        await new Promise((done) => setTimeout(done, delay * (0.5 + Math.random() / 2)));
      }
    }
  }

  private async deleteKeys(bucket: string, keys: string[], signal: AbortSignal): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const result = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
        { abortSignal: signal },
      );
      const errors = result.Errors ?? [];
      if (errors.length > 0) {
        throw new StepFailedError(
          `S3 did not delete ${plural(errors.length, 'object')}: ${errors
            .slice(0, 3)
            .map((e) => `${e.Key} (${e.Code})`)
            .join(', ')}`,
        );
      }
    }
  }
}

interface Upload {
  file: BuildFile;
  key: string;
  contentType: string;
  cacheControl: string;
}
