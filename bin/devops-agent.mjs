#!/usr/bin/env node
// `npx devops-agent …`: runs the TypeScript CLI (cli/main.ts) through tsx, which is a dependency.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
