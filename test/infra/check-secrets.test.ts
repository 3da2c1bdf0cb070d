import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PROJECT_ROOT } from '../../infra/constructs/node-function.js';
import { buildStack, type DevopsAgentStack } from '../../infra/stack.js';
import { unacknowledgedNagFindings } from './nag.js';
import { type Statement, templateText } from './template-text.js';

/**
 * The secrets verification checks name (an http check's `auth.secret`, a sql check's `url_secret`): the
 * functions that run the checks may read exactly those, and a sql check the stack could never connect with
 * (only `url_env`) fails the synth.
 */

const CHECKS_CONFIG = resolve(PROJECT_ROOT, 'test/infra/fixtures/check-secrets-config.yaml');
const URL_ENV_ONLY_CONFIG = resolve(PROJECT_ROOT, 'test/infra/fixtures/url-env-only-config.yaml');
const DEMO_CONFIG = resolve(PROJECT_ROOT, 'examples/demo/devops-agent.yaml');

/** No esbuild bundling in tests: the template does not depend on the code. */
const newApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

const text = templateText;

/** Every statement allowing secretsmanager:GetSecretValue, by function, its resources as text. */
const secretReads = (template: Template) =>
  Object.entries(template.findResources('AWS::IAM::Policy'))
    .flatMap(([id, p]) =>
      (p.Properties.PolicyDocument.Statement as Statement[])
        .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
        .map((s) => ({
          fn: id.replace(/Role.*$/, ''),
          actions: [s.Action].flat(),
          resources: [s.Resource].flat().map(text),
        })),
    )
    .sort((a, b) => a.fn.localeCompare(b.fn));

const CHECK_SECRET = /prod\/(smoke-token|api-db-url|orders-db-url|reports-db)/;

describe('the secrets of the verification checks', () => {
  let stack: DevopsAgentStack;
  let template: Template;

  beforeAll(() => {
    stack = buildStack(newApp(), CHECKS_CONFIG);
    template = Template.fromStack(stack);
  });

  it('lets Verify and VerifyRollback read every secret the checks name, ExecuteStep those of the baseline checks, and no other function any', () => {
    // Act
    const readers = secretReads(template)
      .filter((g) => g.resources.some((r) => CHECK_SECRET.test(r)))
      .map((g) => ({ fn: g.fn, secrets: g.resources.map((r) => CHECK_SECRET.exec(r)?.[0]) }));

    // Assess
    const all = ['prod/orders-db-url', 'prod/reports-db', 'prod/api-db-url', 'prod/smoke-token'];
    expect(readers).toEqual([
      // only the sql checks with expect_not_less_than_before are read before the first step
      { fn: 'ExecuteStepFunction', secrets: ['prod/orders-db-url', 'prod/reports-db'] },
      { fn: 'VerifyFunction', secrets: all },
      { fn: 'VerifyRollbackFunction', secrets: all },
    ]);
  });

  it('grants GetSecretValue only, on "<name>-??????" for a name or a partial ARN and on a complete ARN as given', () => {
    // Act
    const verify = secretReads(template).filter(
      (g) => g.fn === 'VerifyFunction' && g.resources.some((r) => CHECK_SECRET.test(r)),
    );

    // Assess
    const inAccount = 'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:';
    expect(verify).toEqual([
      {
        fn: 'VerifyFunction',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders-db-url-AbC123',
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/reports-db-??????',
          `${inAccount}prod/api-db-url-??????`,
          `${inAccount}prod/smoke-token-??????`,
        ],
      },
    ]);
  });

  it('grants no check secret when no check names one', () => {
    // Prepare: the demo's checks read no credential
    const demo = Template.fromStack(buildStack(newApp(), DEMO_CONFIG));

    // Act
    const checkers = secretReads(demo).filter((g) =>
      ['ExecuteStepFunction', 'VerifyFunction', 'VerifyRollbackFunction'].includes(g.fn),
    );

    // Assess: what they read is the ClickUp token the tracker needs, nothing else
    expect(checkers.map((g) => g.fn)).toEqual([
      'ExecuteStepFunction',
      'VerifyFunction',
      'VerifyRollbackFunction',
    ]);
    for (const g of checkers) {
      expect(g.resources).toEqual([expect.stringContaining('secret:devops-agent/clickup-token')]);
    }
  });

  it('has no AwsSolutions findings left unacknowledged', () => {
    // Act
    const findings = unacknowledgedNagFindings(stack);

    // Assess
    expect(findings).toEqual([]);
  });

  it('fails the synth naming the file, line, service and check when a sql check gives only url_env', () => {
    // Act
    const build = () => buildStack(newApp(), URL_ENV_ONLY_CONFIG);

    // Assess
    expect(build).toThrow(
      /invalid configuration:\n {2}\S*url-env-only-config\.yaml:13:\d+ {2}services\[0\]\.verification\[1\]: services api\/production, check "Latest migration applied": url_env API_DB_URL has no value in a Lambda, .*add url_secret .* for AWS/,
    );
  });
});
