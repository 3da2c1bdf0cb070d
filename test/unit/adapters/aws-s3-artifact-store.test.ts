import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { S3ArtifactStore } from '../../../functions/shared/adapters/s3-artifact-store.js';

describe('S3ArtifactStore', () => {
  const s3 = mockClient(S3Client);
  const store = new S3ArtifactStore({
    client: new S3Client({ region: 'eu-west-1' }),
    bucket: 'artifacts',
    prefix: 'agent/',
    region: 'eu-west-1',
  });

  afterEach(() => {
    s3.reset();
  });

  it.each([
    '../records/x.md',
    '/etc/passwd',
    'plans/../../x',
    'C:\\x',
    'plans//x.md',
    'plans/./x.md',
    'a\0b',
  ])(
    'refuses the key %j that could leave its prefix, with BadRequestError, and calls S3 for nothing',
    async (key) => {
      // Act
      const attempts = [
        store.put(key, 'x', 'text/plain'),
        store.get(key),
        Promise.resolve().then(() => store.link(key)),
      ];

      // Assess
      for (const attempt of attempts)
        await expect(attempt).rejects.toMatchObject({ name: 'BadRequestError' });
      expect(s3.calls()).toHaveLength(0);
    },
  );

  it('puts a document under the prefix with its content type', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({});

    // Act
    await store.put('plans/dep-1.md', '# Plan', 'text/markdown; charset=utf-8');

    // Assess
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'artifacts',
      Key: 'agent/plans/dep-1.md',
      Body: '# Plan',
      ContentType: 'text/markdown; charset=utf-8',
    });
  });

  it('reads a document as text', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({
      Body: {
        transformToString: async (encoding?: string) =>
          Buffer.from('# Record ✓').toString(encoding as BufferEncoding),
      } as never,
    });

    // Act
    const body = await store.get('records/dep-1.md');

    // Assess
    expect(body).toBe('# Record ✓');
  });

  it('answers undefined for a missing document and passes other errors on', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: 'agent/missing.md' })
      .rejects(new NoSuchKey({ message: 'no such key', $metadata: {} }))
      .on(GetObjectCommand, { Key: 'agent/denied.md' })
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));

    // Act
    const missing = await store.get('missing.md');
    const denied = store.get('denied.md');

    // Assess
    expect(missing).toBeUndefined();
    await expect(denied).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('links to the object in the S3 console, never to a public URL', () => {
    // Act
    const link = store.link('records/dep-1.md');

    // Assess
    expect(link).toBe(
      'https://console.aws.amazon.com/s3/object/artifacts?region=eu-west-1&prefix=agent%2Frecords%2Fdep-1.md',
    );
  });
});
