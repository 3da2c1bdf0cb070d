import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newKeyring } from '../../../functions/shared/approval-links.js';
import { fileApprovalKeys } from '../../../local/adapters/file-approval-keys.js';

describe('fileApprovalKeys', () => {
  it('writes one random keyring, mode 0600, at the first use and keeps using it', async () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'devops-agent-keys-')), 'data', 'approval-keys.json');

    // Act
    const [first, second] = await Promise.all([
      fileApprovalKeys(file).current(),
      fileApprovalKeys(file).current(),
    ]);
    const again = await fileApprovalKeys(file).all();

    // Assess
    expect(first.secret.equals(second.secret)).toBe(true);
    expect(again).toEqual([first]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ current: 'k1' });
  });

  it('uses the keyring from the environment instead of the file, and writes none', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-keys-'));
    const ring = newKeyring('env1');

    // Act
    const key = await fileApprovalKeys(join(dir, 'approval-keys.json'), ring).current();

    // Assess
    expect(key.id).toBe('env1');
    expect(() => statSync(join(dir, 'approval-keys.json'))).toThrow();
  });
});
