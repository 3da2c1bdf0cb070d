import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROJECT_ROOT } from './constructs/node-function.js';
import { buildStack, CONFIG_CONTEXT_KEY } from './stack.js';

const app = new App();
// A new AwsSolutions finding without an acknowledgement (and its reason) fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
const configPath = app.node.tryGetContext(CONFIG_CONTEXT_KEY) as string | undefined;
if (!configPath)
  throw new Error(`set the "${CONFIG_CONTEXT_KEY}" context (cdk.json or -c) to your devops-agent.yaml`);
const mailFrom = app.node.tryGetContext('devops-agent:mail-from') as string | undefined;
buildStack(app, resolve(PROJECT_ROOT, configPath), {
  ...(mailFrom ? { mailFrom } : {}),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
