import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { PROJECT_ROOT } from '../infra/constructs/node-function.js';
import { buildStack, CONFIG_CONTEXT_KEY } from '../infra/stack.js';
import { extractAsl } from './extract-asl.js';

/** The committed definition: what the stack synthesizes, placeholder ARNs, 2-space JSON, trailing newline. */
export const ASL_FILE = resolve(PROJECT_ROOT, 'statemachine/deploy-pipeline.asl.json');

export const synthesizedAsl = (configPath: string): string => {
  // No bundling: the definition does not depend on the function code.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return `${JSON.stringify(extractAsl(buildStack(app, configPath)), null, 2)}\n`;
};

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const cdkJson = (await import('../cdk.json', { with: { type: 'json' } })).default as {
    context: Record<string, string>;
  };
  const config = resolve(
    PROJECT_ROOT,
    cdkJson.context[CONFIG_CONTEXT_KEY] ?? 'examples/demo/devops-agent.yaml',
  );
  writeFileSync(ASL_FILE, synthesizedAsl(config));
  console.log(`wrote ${ASL_FILE}`);
}
