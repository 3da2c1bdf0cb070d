import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { PROJECT_ROOT } from './constructs/node-function.js';
import { buildStack, CONFIG_CONTEXT_KEY } from './stack.js';

const app = new App();
const configPath = app.node.tryGetContext(CONFIG_CONTEXT_KEY) as string | undefined;
if (!configPath)
  throw new Error(`set the "${CONFIG_CONTEXT_KEY}" context (cdk.json or -c) to your devops-agent.yaml`);
const mailFrom = app.node.tryGetContext('devops-agent:mail-from') as string | undefined;
buildStack(app, resolve(PROJECT_ROOT, configPath), {
  ...(mailFrom ? { mailFrom } : {}),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
