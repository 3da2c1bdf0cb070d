import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadRequestError } from '../../../functions/shared/errors.js';
import { LocalArtifactStore } from '../../../local/adapters/local-artifact-store.js';

describe('LocalArtifactStore', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devops-agent-artifacts-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a document under its key and reads it back', async () => {
    // Prepare
    const store = new LocalArtifactStore(join(dir, 'artifacts'), 'http://127.0.0.1:4000');

    // Act
    await store.put('plans/dep-1.md', '# Deployment Plan', 'text/markdown');
    const body = await store.get('plans/dep-1.md');

    // Assess
    expect(body).toBe('# Deployment Plan');
    expect(readFileSync(join(dir, 'artifacts', 'plans', 'dep-1.md'), 'utf8')).toBe('# Deployment Plan');
  });

  it('answers undefined for a document that does not exist', async () => {
    // Prepare
    const store = new LocalArtifactStore(dir);

    // Act
    const body = await store.get('records/missing.md');

    // Assess
    expect(body).toBeUndefined();
  });

  it('links a key under the base URL, taken from a function when the port is known late', () => {
    // Prepare
    let base = 'http://127.0.0.1';
    const store = new LocalArtifactStore(dir, () => base);
    base = 'http://127.0.0.1:4000/';

    // Act
    const link = store.link('records/dep 1.md');

    // Assess
    expect(link).toBe('http://127.0.0.1:4000/artifacts/records/dep%201.md');
  });

  it.each([
    ['../outside.md'],
    ['plans/../../etc/passwd'],
    ['plans/..'],
    ['/etc/passwd'],
    ['\\windows\\system32'],
    ['C:/windows'],
    ['plans/\0evil.md'],
    [''],
    ['plans//double.md'],
  ])('refuses the key %j with BadRequestError', async (key) => {
    // Prepare
    const store = new LocalArtifactStore(dir, 'http://127.0.0.1:4000');

    // Act
    const [put, get] = await Promise.allSettled([store.put(key, 'x', 'text/plain'), store.get(key)]);

    // Assess
    expect(put).toMatchObject({ status: 'rejected', reason: expect.any(BadRequestError) });
    expect(get).toMatchObject({ status: 'rejected', reason: expect.any(BadRequestError) });
    expect(() => store.link(key)).toThrow(BadRequestError);
  });
});
