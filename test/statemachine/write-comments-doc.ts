import { writeFileSync } from 'node:fs';
import { renderCommentsDoc } from './comment-scenarios.js';

const file = new URL('../../docs/comments.md', import.meta.url);
writeFileSync(file, await renderCommentsDoc());
process.stdout.write(`wrote ${file.pathname}\n`);
