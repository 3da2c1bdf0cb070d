import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { newKeyring, StoredApprovalKeys } from '../../functions/shared/approval-links.js';

/**
 * The local runtime's approval signing keys: a keyring file under the data folder, written with one random
 * key (mode 0600) the first time it is needed. Rotate by editing it (add a key, make it `current`).
 * `DEVOPS_AGENT_APPROVAL_KEYS` in the environment wins over the file.
 */
export const fileApprovalKeys = (file: string, fromEnv?: string): StoredApprovalKeys => {
  if (fromEnv) return new StoredApprovalKeys(async () => fromEnv, 'DEVOPS_AGENT_APPROVAL_KEYS');
  const load = async (): Promise<string> => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      try {
        // `wx`: of two processes starting at once, one writes and the other reads its key
        writeFileSync(file, `${newKeyring()}\n`, { mode: 0o600, flag: 'wx' });
      } catch (raced) {
        if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      }
      return readFileSync(file, 'utf8');
    }
  };
  return new StoredApprovalKeys(load, file);
};
