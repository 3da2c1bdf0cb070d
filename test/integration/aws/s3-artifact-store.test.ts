import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { S3ArtifactStore } from '../../../functions/shared/adapters/s3-artifact-store.js';

let server: S3rver;
let client: S3Client;
let directory: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'devops-agent-s3rver-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = await server.run();
  client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
});

afterAll(async () => {
  client.destroy();
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('S3ArtifactStore on s3rver', () => {
  it('writes a document under the prefix and reads it back with its content type', async () => {
    // Prepare
    const store = new S3ArtifactStore({ client, bucket: 'artifacts', prefix: 'devops-agent/' });
    const markdown = '# Deployment plan\n\nRisk: **Low** · ✓ gates passed\n';

    // Act
    await store.put('plans/dep-1.md', markdown, 'text/markdown; charset=utf-8');
    const read = await store.get('plans/dep-1.md');
    const object = await client.send(
      new GetObjectCommand({ Bucket: 'artifacts', Key: 'devops-agent/plans/dep-1.md' }),
    );

    // Assess
    expect(read).toBe(markdown);
    expect(object.ContentType).toBe('text/markdown; charset=utf-8');
  });

  it('answers undefined for a document that does not exist', async () => {
    // Prepare
    const store = new S3ArtifactStore({ client, bucket: 'artifacts' });

    // Act
    const read = await store.get('records/missing.md');

    // Assess
    expect(read).toBeUndefined();
  });

  it('overwrites a document written twice', async () => {
    // Prepare
    const store = new S3ArtifactStore({ client, bucket: 'artifacts' });
    await store.put('records/dep-2.md', 'first', 'text/plain');

    // Act
    await store.put('records/dep-2.md', 'second', 'text/plain');

    // Assess
    expect(await store.get('records/dep-2.md')).toBe('second');
  });
});
