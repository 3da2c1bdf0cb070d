import { readFileSync } from 'node:fs';
import { renderCommentsDoc } from './comment-scenarios.js';

describe('the comments on the task', () => {
  it('are exactly what docs/comments.md shows (run npm run docs:comments after changing a text)', async () => {
    // Prepare
    const committed = readFileSync(new URL('../../docs/comments.md', import.meta.url), 'utf8');

    // Act
    const rendered = await renderCommentsDoc();

    // Assess
    expect(rendered).toBe(committed);
  });

  it('keep each line short enough to read on a phone, except plan lines and links', async () => {
    // Act
    const doc = await renderCommentsDoc();
    const long = doc
      .split('\n')
      .filter((line) => line.length > 160 && !/https?:\/\//.test(line) && !line.startsWith('|'));

    // Assess
    expect(long).toEqual([]);
  });
});
