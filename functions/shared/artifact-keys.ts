import { BadRequestError } from './errors.js';

/**
 * Refuses an artifact key that could leave its folder or prefix — `../`, an absolute or drive path, NUL,
 * `.` or empty segments — in every ArtifactStore, with what is wrong and what a key looks like. Keys are
 * built from deployment ids today; this keeps a future key from anywhere else from writing elsewhere.
 */
export const assertArtifactKey = (key: string): void => {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) {
    throw new BadRequestError('an artifact key must be 1 to 512 characters');
  }
  if (key.includes('\0')) throw new BadRequestError('an artifact key cannot contain NUL');
  if (key.startsWith('/') || key.startsWith('\\') || /^[a-zA-Z]:/.test(key)) {
    throw new BadRequestError(`artifact key "${key}" must be relative, like plans/<deployment>.md`);
  }
  if (key.includes('..')) throw new BadRequestError(`artifact key "${key}" cannot contain ".."`);
  if (key.split(/[\\/]/).some((segment) => segment === '.' || segment === '')) {
    throw new BadRequestError(`artifact key "${key}" cannot contain "." or empty path segments`);
  }
};
