import { resolve } from 'node:path';
import { awsChecks } from '../../../functions/shared/aws-check-runners.js';
import { buildAwsPorts } from '../../../functions/shared/aws-ports.js';
import { configJson } from '../../../functions/shared/config/load.js';
import { parseEnv } from '../../../functions/shared/env.js';
import { PROJECT_ROOT } from '../../../infra/constructs/node-function.js';

/** The seed example: kubernetes and s3 steps, and http, sql and rollout checks. */
const SEED = configJson(resolve(PROJECT_ROOT, 'examples/seed-notifications/devops-agent.yaml'));
const env = parseEnv({ AWS_REGION: 'eu-west-1', CONFIG_JSON: SEED, TABLE_NAME: 'devops-agent' });

describe('the AWS ports of a function without the step and check runners', () => {
  it("knows every step and check kind the seed configuration uses, as CheckGates' runtime gate asks", () => {
    // Prepare
    const ports = buildAwsPorts(env, {});
    const service = ports.config.services[0];

    // Act
    const kinds = Object.keys(ports.checks).sort();
    const missing = [
      ...(service?.steps ?? []).filter((s) => !ports.steps[s.kind]).map((s) => s.kind),
      ...(service?.verification ?? []).filter((c) => !ports.checks[c.kind]).map((c) => c.kind),
    ];

    // Assess
    expect(kinds).toEqual(['http', 'rollout', 'sql']);
    expect(missing).toEqual([]);
  });

  it('fails clearly when a function without the check runners is asked to run a check', async () => {
    // Prepare
    const ports = buildAwsPorts(env, {});
    const check = ports.config.services[0]?.verification[0];
    if (!check) throw new Error('the seed example has checks');

    // Act
    const run = async () => ports.checks[check.kind]?.run(check);

    // Assess
    await expect(run()).rejects.toThrow('this function has no check runners');
  });

  it('gives the check functions real http and sql runners', () => {
    // Act
    const ports = buildAwsPorts(env, { checks: awsChecks });

    // Assess
    expect(ports.checks.http?.constructor.name).toBe('HttpCheckRunner');
    expect(ports.checks.sql?.constructor.name).toBe('SqlCheckRunner');
    expect(typeof ports.checks.sql?.baseline).toBe('function');
  });
});
