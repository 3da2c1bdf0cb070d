import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** One s3rver on 127.0.0.1 with its own folder. */
export interface LocalS3 {
  endpoint: string;
  /** a new client for it; each test that adds middleware takes its own */
  client(): S3Client;
  stop(): Promise<void>;
}

export const startS3 = async (): Promise<LocalS3> => {
  const directory = mkdtempSync(join(tmpdir(), 'devops-agent-s3-sync-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  return {
    endpoint,
    client: () => {
      const client = new S3Client({
        endpoint,
        region: 'eu-west-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        // s3rver stores an aws-chunked body (the SDK's default trailing checksum) as it is received
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 4,
        // the SDK warns on the console when a streamed upload fails (the runner tries it again itself)
        logger: {
          debug: () => undefined,
          info: () => undefined,
          warn: () => undefined,
          error: () => undefined,
        },
      });
      clients.push(client);
      return client;
    },
    stop: async () => {
      for (const client of clients) client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
};

let buckets = 0;
/** A new, empty bucket with a name of its own. */
export const newBucket = async (client: S3Client, stem = 'site'): Promise<string> => {
  const bucket = `${stem}-${++buckets}-${Date.now().toString(36)}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
};

export type SeedObject = Omit<PutObjectCommandInput, 'Bucket' | 'Key' | 'Body'> & { body: string | Buffer };

export const putObjects = async (client: S3Client, bucket: string, objects: Record<string, SeedObject>) => {
  for (const [key, { body, ...headers }] of Object.entries(objects)) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...headers }));
  }
};

/** What a reader of the bucket sees of one object: its bytes and every header the sync sets or keeps. */
export interface ObjectSnapshot {
  body: string;
  etag: string | undefined;
  contentType: string | undefined;
  cacheControl: string | undefined;
  contentEncoding: string | undefined;
  contentDisposition: string | undefined;
  contentLanguage: string | undefined;
  metadata: Record<string, string>;
}

/** Every object of the bucket (the backup prefix left out) with its body (base64) and headers, by key. */
export const snapshot = async (
  client: S3Client,
  bucket: string,
  exclude = '.devops-agent-backups/',
): Promise<Record<string, ObjectSnapshot>> => {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  const result: Record<string, ObjectSnapshot> = {};
  for (const { Key } of listed.Contents ?? []) {
    if (!Key || Key.startsWith(exclude)) continue;
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
    result[Key] = {
      body: Buffer.from((await object.Body?.transformToByteArray()) ?? []).toString('base64'),
      etag: object.ETag,
      contentType: object.ContentType,
      cacheControl: object.CacheControl,
      contentEncoding: object.ContentEncoding,
      contentDisposition: object.ContentDisposition,
      contentLanguage: object.ContentLanguage,
      metadata: object.Metadata ?? {},
    };
  }
  return result;
};

/** Every key of the bucket, the backups included. */
export const keysOf = async (client: S3Client, bucket: string, prefix?: string): Promise<string[]> => {
  const listed = await client.send(
    new ListObjectsV2Command({ Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) }),
  );
  return (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
};

export const text = async (client: S3Client, bucket: string, key: string): Promise<string> => {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString('utf-8')) ?? '';
};

/** Writes files (path → content) under a folder. */
export const writeTree = (root: string, files: Record<string, string | Buffer>) => {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
};

export interface Call {
  command: string;
  bucket?: string;
  key?: string;
}

/** Records every command the client sends (before the SDK's retries), in order. */
export const record = (client: S3Client): Call[] => {
  const calls: Call[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; Key?: string };
      calls.push({
        command: context.commandName ?? '?',
        ...(input.Bucket ? { bucket: input.Bucket } : {}),
        ...(input.Key ? { key: input.Key } : {}),
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordCalls' },
  );
  return calls;
};

/** An S3 error as the SDK throws it after reading the answer. */
export const s3Error = (name: string, status: number, message = name) =>
  Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

/**
 * Makes matching requests fail. `inside: true` fails each HTTP attempt (inside the SDK's retry loop, as a
 * real 503 would); otherwise the command fails once, before any retry.
 */
export const inject = (
  client: S3Client,
  when: (command: string, input: { Bucket?: string; Key?: string }) => boolean,
  error: () => Error,
  { inside = false }: { inside?: boolean } = {},
) => {
  const fails = (command: string | undefined, input: object) =>
    when(command ?? '', input as { Bucket?: string; Key?: string });
  if (inside) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (fails(context.commandName, args.input)) throw error();
        return next(args);
      },
      { step: 'deserialize', name: 'injectFailure', priority: 'high' },
    );
  } else {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (fails(context.commandName, args.input)) throw error();
        return next(args);
      },
      { step: 'initialize', name: 'injectFailure' },
    );
  }
};
