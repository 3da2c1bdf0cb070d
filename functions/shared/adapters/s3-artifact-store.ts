import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { assertArtifactKey } from '../artifact-keys.js';
import { TransientDependencyError } from '../errors.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { describeAwsError, isTransientAwsError } from './aws-transient.js';

export interface S3ArtifactStoreOptions {
  client: S3Client;
  bucket: string;
  /** prepended to every key, e.g. `devops-agent/` */
  prefix?: string;
  /** for `link`: the bucket's Region (console link) */
  region?: string;
}

/**
 * The production `ArtifactStore`: plans and deployment records as S3 objects (server-side encrypted by the
 * bucket's default). `link` points at the object in the S3 console, which needs an AWS sign-in, never a
 * public URL.
 *
 * @example
 * const artifacts = new S3ArtifactStore({ client: new S3Client({}), bucket: 'devops-agent-artifacts' });
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly prefix: string;

  constructor(private readonly options: S3ArtifactStoreOptions) {
    this.prefix = options.prefix ?? '';
  }

  async put(key: string, body: string, contentType: string): Promise<void> {
    assertArtifactKey(key);
    try {
      await this.options.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: `${this.prefix}${key}`,
          Body: body,
          ContentType: contentType,
        }),
      );
    } catch (error) {
      throw this.transient('PutObject', key, error);
    }
  }

  async get(key: string): Promise<string | undefined> {
    assertArtifactKey(key);
    try {
      const object = await this.options.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: `${this.prefix}${key}` }),
      );
      return (await object.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
      throw this.transient('GetObject', key, error);
    }
  }

  /**
   * What the SDK's own retries did not get through (503 SlowDown, a reset, a timeout) as the named error the
   * workflow's Retry matches; anything else (AccessDenied, NoSuchBucket) as the SDK threw it.
   */
  private transient(operation: string, key: string, error: unknown): unknown {
    if (!isTransientAwsError(error)) return error;
    return new TransientDependencyError(
      `S3 ${operation} s3://${this.options.bucket}/${this.prefix}${key} failed after the SDK's retries: ${describeAwsError(error)}`,
      { cause: error },
    );
  }

  link(key: string): string {
    assertArtifactKey(key);
    const region = this.options.region ? `?region=${encodeURIComponent(this.options.region)}&` : '?';
    return `https://console.aws.amazon.com/s3/object/${encodeURIComponent(this.options.bucket)}${region}prefix=${encodeURIComponent(`${this.prefix}${key}`)}`;
  }
}
