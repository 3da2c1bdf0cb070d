import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { build } from 'esbuild';
import { DynamoDeploymentStore } from '../../../functions/shared/adapters/dynamo-deployment-store.js';
import { TABLE_KEYS } from '../../../functions/shared/adapters/dynamo-table.js';
import { configJson } from '../../../functions/shared/config/load.js';
import { lockKey } from '../../../functions/shared/deployment.js';
import { PROJECT_ROOT } from '../../../infra/constructs/node-function.js';
import { FUNCTION_BUNDLE_OPTIONS } from '../../fixtures/function-bundle.js';

const TABLE = 'devops-agent';
const CONFIG = resolve(PROJECT_ROOT, 'examples/demo/devops-agent.yaml');

/** Invokes the bundle's handler once in a fresh Node process, as a Lambda would; prints the outcome. */
const INVOKE = `
const { handler } = await import(process.env.BUNDLE);
const context = { functionName: 'release-lock', awsRequestId: 'r-1', getRemainingTimeInMillis: () => 30000 };
try {
  const result = await handler(JSON.parse(process.env.EVENT), context);
  process.stdout.write(JSON.stringify({ ok: true, result }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, name: error.name, message: error.message }));
}
`;

type Outcome = { ok: true; result: unknown } | { ok: false; name: string; message: string };

let server: ReturnType<typeof dynalite>;
let endpoint: string;
let store: DynamoDeploymentStore;
let dir: string;
let bundle: string;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await client.send(
    new CreateTableCommand({ TableName: TABLE, BillingMode: 'PAY_PER_REQUEST', ...TABLE_KEYS }),
  );
  store = new DynamoDeploymentStore({ client: DynamoDBDocumentClient.from(client), tableName: TABLE });
  dir = mkdtempSync(join(tmpdir(), 'devops-agent-bundle-run-'));
  bundle = join(dir, 'index.mjs');
  await build({
    ...FUNCTION_BUNDLE_OPTIONS,
    entryPoints: [resolve(PROJECT_ROOT, 'functions/release-lock/handler.ts')],
    outfile: bundle,
  });
  // what the stack's bundling hook copies next to every function
  writeFileSync(join(dir, 'devops-agent.json'), configJson(CONFIG));
}, 120_000);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((done) => server.close(() => done()));
});

const invoke = (event: unknown, configPath: string) =>
  new Promise<Outcome>((done, fail) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', INVOKE],
      {
        env: {
          PATH: process.env.PATH,
          BUNDLE: bundle,
          EVENT: JSON.stringify(event),
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_ENDPOINT_URL_DYNAMODB: endpoint,
          CONFIG_PATH: configPath,
          TABLE_NAME: TABLE,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_DISABLED: 'true',
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        if (!stdout.startsWith('{'))
          fail(new Error(`no outcome: ${error?.message ?? ''} ${stderr.slice(0, 800)}`));
        else done(JSON.parse(stdout) as Outcome);
      },
    );
  });

const state = {
  deploymentId: 'dep-1',
  taskId: 'task-1',
  service: 'web',
  environment: 'production',
  trigger: 'status',
  requestedAt: '2026-11-29T06:00:00.000Z',
};

describe('a function bundle as Lambda runs it', () => {
  it('loads its bundled JSON configuration and releases the lock in DynamoDB', async () => {
    // Prepare: dep-1 holds the lock
    const key = lockKey('web', 'production');
    const held = await store.acquireLock(
      key,
      'dep-1',
      '2026-11-29T07:00:00.000Z',
      '2026-11-29T06:00:00.000Z',
    );
    expect(held.acquired).toBe(true);

    // Act
    const outcome = await invoke(state, join(dir, 'devops-agent.json'));

    // Assess: another deployment now gets the lock
    expect(outcome).toEqual({ ok: true, result: null });
    const next = await store.acquireLock(
      key,
      'dep-2',
      '2026-11-29T07:00:00.000Z',
      '2026-11-29T06:01:00.000Z',
    );
    expect(next.acquired).toBe(true);
  }, 90_000);

  it('fails its first invocation naming the file when the bundled configuration is not the JSON synth writes', async () => {
    // Act: the YAML itself instead of its JSON
    const outcome = await invoke(state, CONFIG);

    // Assess
    expect(outcome).toMatchObject({ ok: false, name: 'ConfigError' });
    expect(outcome.ok === false && outcome.message).toContain(`${CONFIG}  (root): not JSON`);
  }, 90_000);
});
