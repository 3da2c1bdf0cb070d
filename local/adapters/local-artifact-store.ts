import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { assertArtifactKey } from '../../functions/shared/artifact-keys.js';
import { BadRequestError } from '../../functions/shared/errors.js';
import type { ArtifactStore } from '../../functions/shared/ports/artifact-store.js';

/** Plans and deployment records as files under one folder; the local server serves them at `/artifacts/<key>`. */
export class LocalArtifactStore implements ArtifactStore {
  private readonly root: string;

  /**
   * @param dir the folder (default `.devops-agent/artifacts`)
   * @param baseUrl the local server's URL, or a function returning it (it is known only once the server listens)
   */
  constructor(
    dir = '.devops-agent/artifacts',
    private readonly baseUrl: string | (() => string) = 'http://127.0.0.1',
  ) {
    this.root = resolve(dir);
  }

  async put(key: string, body: string, _contentType: string): Promise<void> {
    const file = this.pathOf(key);
    // Write then rename, so a reader never sees half a document.
    const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(temporary, body, 'utf8');
      await rename(temporary, file);
    } catch (error) {
      // No temporary file is left behind; when its folder could not be made there is none to remove.
      await rm(temporary, { force: true }).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      // `plans` and `plans/x.md` cannot both be documents: one would have to be a file and a folder.
      if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw new BadRequestError(
          `artifact key "${key}" names a folder of other documents, or lies under a document; use another key`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.pathOf(key), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
      throw error;
    }
  }

  link(key: string): string {
    this.pathOf(key);
    const base = typeof this.baseUrl === 'function' ? this.baseUrl() : this.baseUrl;
    return `${base.replace(/\/+$/, '')}/artifacts/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** The file for a key; a key that could leave the folder is refused. */
  private pathOf(key: string): string {
    assertArtifactKey(key);
    const file = resolve(this.root, key);
    const rel = relative(this.root, file);
    if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
      throw new BadRequestError(`artifact key "${key}" leaves the artifact folder`);
    }
    return file;
  }
}
