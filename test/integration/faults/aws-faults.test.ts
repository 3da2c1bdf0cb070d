import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { CloudWatchAlarmSource } from '../../../functions/shared/adapters/cloudwatch-alarm-source.js';
import { DynamoDeploymentStore } from '../../../functions/shared/adapters/dynamo-deployment-store.js';
import { TABLE_KEYS } from '../../../functions/shared/adapters/dynamo-table.js';
import { S3ArtifactStore } from '../../../functions/shared/adapters/s3-artifact-store.js';
import { parseConfig } from '../../../functions/shared/config/load.js';
import { settingsFor } from '../../../functions/shared/config/resolve.js';
import { TransientDependencyError } from '../../../functions/shared/errors.js';
import type { AlarmQuery } from '../../../functions/shared/ports/alarm-source.js';
import { CONFIG } from '../../fixtures/config.js';
import {
  answer,
  drop,
  type FaultProxy,
  hang,
  rejection,
  reset,
  startFaultProxy,
} from '../../fixtures/fault-proxy.js';
import { aDeployment } from '../../fixtures/records.js';

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const QUIET = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
/**
 * Three tries per call (the SDK's standard retry mode) and a bound on each request, so a hang is a
 * TimeoutError (without `throwOnRequestTimeout` the SDK only logs a warning and goes on waiting).
 */
const SDK = {
  region: 'eu-west-1',
  credentials: CREDENTIALS,
  maxAttempts: 3,
  requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
  logger: QUIET,
} as const;

const JSON_1_0 = { 'content-type': 'application/x-amz-json-1.0' };
const THROTTLED = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded.',
});

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

describe('S3 (s3rver) behind a faulty network', () => {
  let s3rver: S3rver;
  let directory: string;
  let proxy: FaultProxy;
  let client: S3Client;
  let bucket = '';
  const store = () => new S3ArtifactStore({ client, bucket, prefix: 'devops-agent/' });
  const PATH = () => `/${bucket}/devops-agent/records/t1-1.md`;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'devops-agent-faults-s3-'));
    s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
    const { port } = await s3rver.run();
    proxy = await startFaultProxy(`http://127.0.0.1:${port}`);
    client = new S3Client({
      ...SDK,
      endpoint: proxy.url,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      // s3rver stores an aws-chunked body (the SDK's default trailing checksum) as it is received
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  });
  beforeEach(async () => {
    bucket = `artifacts-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    proxy.requests.length = 0;
  });
  afterEach(() => proxy.clear());
  afterAll(async () => {
    client.destroy();
    await proxy.stop();
    await s3rver.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('writes the deployment record after a 503 SlowDown and a dropped connection, backing off', async () => {
    // Prepare
    const slowDown =
      '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';
    proxy.script([answer(503, { 'content-type': 'application/xml' }, slowDown), drop], { method: 'PUT' });

    // Act
    await store().put('records/t1-1.md', '# Deployment t1-1', 'text/markdown');
    const read = await store().get('records/t1-1.md');

    // Assess
    expect(read).toBe('# Deployment t1-1');
    expect(proxy.seen({ method: 'PUT', path: PATH() }).map((r) => r.kind)).toEqual([
      'status',
      'drop',
      'pass',
    ]);
    expect(proxy.gaps({ method: 'PUT', path: PATH() }).every((gap) => gap > 0)).toBe(true);
  });

  it('reads the plan after a request that hung past the timeout', async () => {
    // Prepare
    await store().put('plans/t1-1.md', '# Plan', 'text/markdown');
    proxy.script([hang], { method: 'GET' });

    // Act
    const read = await store().get('plans/t1-1.md');

    // Assess
    expect(read).toBe('# Plan');
    expect(proxy.seen({ method: 'GET' }).map((r) => r.kind)).toEqual(['hang', 'pass']);
  });

  it('gives up on an S3 that keeps answering 503 after the SDK’s tries, with TransientDependencyError naming the object', async () => {
    // Prepare
    proxy.always(answer(503, { 'content-type': 'application/xml' }, '<Error><Code>SlowDown</Code></Error>'), {
      method: 'PUT',
    });

    // Act
    const error = await rejection(store().put('records/t1-1.md', '# Deployment t1-1', 'text/markdown'));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toMatch(
      new RegExp(
        `^S3 PutObject s3://${bucket}/devops-agent/records/t1-1.md failed after the SDK's retries: SlowDown \\(HTTP 503\\)`,
      ),
    );
    expect(proxy.seen({ method: 'PUT', path: PATH() })).toHaveLength(3);
  });

  it('gives up on an S3 that never answers after the SDK’s tries, with TransientDependencyError', async () => {
    // Prepare
    proxy.always(hang, { method: 'GET' });

    // Act
    const error = await rejection(store().get('plans/t1-1.md'));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toMatch(
      /^S3 GetObject s3:\/\/.+\/devops-agent\/plans\/t1-1.md failed after the SDK's retries: TimeoutError: /,
    );
    expect(proxy.count('hang')).toBe(3);
  });
});

describe('DynamoDB (dynalite) behind a faulty network', () => {
  let server: Server;
  let proxy: FaultProxy;
  let raw: DynamoDBClient;
  let tables = 0;
  let store: DynamoDeploymentStore;
  /** DynamoDB speaks JSON 1.0: every call is a POST to /, the operation in `X-Amz-Target` */
  const operation = (name: string) => ({
    where: ({ headers }: { headers: Record<string, string | string[] | undefined> }) =>
      headers['x-amz-target'] === `DynamoDB_20120810.${name}`,
  });
  const byTarget = (name: string) => proxy.seen(operation(name));

  beforeAll(async () => {
    server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    proxy = await startFaultProxy(await listen(server));
    raw = new DynamoDBClient({ ...SDK, endpoint: proxy.url });
  });
  beforeEach(async () => {
    const tableName = `faults-${++tables}`;
    await raw.send(
      new CreateTableCommand({ TableName: tableName, BillingMode: 'PAY_PER_REQUEST', ...TABLE_KEYS }),
    );
    store = new DynamoDeploymentStore({
      client: DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }),
      tableName,
    });
    proxy.requests.length = 0;
  });
  afterEach(() => proxy.clear());
  afterAll(async () => {
    raw.destroy();
    await proxy.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reads the deployment record after a throttling answer and a reset mid-answer, backing off', async () => {
    // Prepare
    await store.createDeployment(aDeployment());
    proxy.script([answer(400, JSON_1_0, THROTTLED), reset], operation('GetItem'));

    // Act
    const read = await store.getDeployment(aDeployment().deploymentId);

    // Assess
    expect(read).toEqual(aDeployment());
    expect(byTarget('GetItem').map((r) => r.kind)).toEqual(['status', 'reset', 'pass']);
    expect(proxy.gaps(operation('GetItem')).every((gap) => gap > 0)).toBe(true);
  });

  it('gives up on a DynamoDB that keeps throttling with TransientDependencyError, writing nothing', async () => {
    // Prepare
    proxy.always(answer(400, JSON_1_0, THROTTLED), operation('PutItem'));

    // Act
    const error = await rejection(store.createDeployment(aDeployment()));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toBe('DynamoDB answered ProvisionedThroughputExceededException');
    expect(byTarget('PutItem')).toHaveLength(3);
    expect(await store.getDeployment(aDeployment().deploymentId)).toBeUndefined();
  });

  it('gives up on a DynamoDB that keeps answering 500 with TransientDependencyError', async () => {
    // Prepare
    const failure = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError' });
    proxy.always(
      answer(500, { 'content-type': 'application/x-amz-json-1.0' }, failure),
      operation('GetItem'),
    );

    // Act
    const error = await rejection(store.getDeployment('t1-1'));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toBe('DynamoDB answered InternalServerError');
    expect(byTarget('GetItem')).toHaveLength(3);
  });

  it('gives up on a DynamoDB that never answers with TransientDependencyError saying it could not be reached', async () => {
    // Prepare
    proxy.always(hang, operation('GetItem'));

    // Act
    const error = await rejection(store.getDeployment('t1-1'));

    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect(error.message).toMatch(/^DynamoDB could not be reached: TimeoutError/);
    expect(byTarget('GetItem').map((r) => r.kind)).toEqual(['hang', 'hang', 'hang']);
  });
});

describe('CloudWatch (a fake speaking its JSON 1.0 protocol) behind a faulty network', () => {
  let fake: Server;
  let proxy: FaultProxy;
  let client: CloudWatchClient;
  const described: string[] = [];
  const config = parseConfig(CONFIG, 'test.yaml');
  const [service] = config.services;
  if (!service) throw new Error('the test config has no service');
  const query = (unreadable: AlarmQuery['unreadable'] = 'breaching'): AlarmQuery => ({
    service: 'notifications',
    environment: 'production',
    triggers: settingsFor(config, service).triggers,
    alarms: ['notifications-5xx'],
    since: '2026-11-28T09:00:00.000Z',
    firingAtStart: 'ignore',
    unreadable,
  });

  beforeAll(async () => {
    // DescribeAlarms as CloudWatch answers it over JSON 1.0 (the protocol @aws-sdk/client-cloudwatch sends)
    fake = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        const target = String(req.headers['x-amz-target']);
        if (target !== 'GraniteServiceVersion20100801.DescribeAlarms') {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'InvalidAction', message: `${target} is not faked` }));
          return;
        }
        const names = (JSON.parse(body) as { AlarmNames?: string[] }).AlarmNames ?? [];
        described.push(...names);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            MetricAlarms: names.map((name) => ({
              AlarmName: name,
              StateValue: 'OK',
              StateReason: 'Threshold Crossed: no datapoints were breaching',
              StateUpdatedTimestamp: Date.parse('2026-11-28T08:00:00.000Z') / 1000,
            })),
            CompositeAlarms: [],
          }),
        );
      });
    });
    proxy = await startFaultProxy(await listen(fake));
    client = new CloudWatchClient({ ...SDK, endpoint: proxy.url });
  });
  beforeEach(() => {
    proxy.requests.length = 0;
    described.length = 0;
  });
  afterEach(() => proxy.clear());
  afterAll(async () => {
    client.destroy();
    await proxy.stop();
    await new Promise<void>((resolve) => fake.close(() => resolve()));
  });

  it('reads the alarms after a 503, a throttling answer and a reset, backing off, and finds no breach', async () => {
    // Prepare
    const throttled = JSON.stringify({ __type: 'Throttling', message: 'Rate exceeded' });
    const jsonHeaders = { 'content-type': 'application/x-amz-json-1.0' };
    proxy.script([answer(503, jsonHeaders, '{}'), answer(400, jsonHeaders, throttled)]);
    const source = new CloudWatchAlarmSource({ client });

    // Act
    const first = await source.check(query());
    proxy.script([reset]);
    const second = await source.check(query());

    // Assess
    expect(first).toMatchObject({
      breached: false,
      metrics: { alarms: [{ name: 'notifications-5xx', state: 'OK' }] },
    });
    expect(second.breached).toBe(false);
    expect(proxy.requests.map((r) => r.kind)).toEqual(['status', 'status', 'pass', 'reset', 'pass']);
    expect(
      proxy
        .gaps()
        .slice(0, 2)
        .every((gap) => gap > 0),
    ).toBe(true);
  });

  it('treats alarms it cannot read as breached, naming the alarm and the error, when CloudWatch keeps answering 503', async () => {
    // Prepare
    proxy.always(
      answer(503, JSON_1_0, JSON.stringify({ __type: 'ServiceUnavailable', message: 'Service Unavailable' })),
    );

    // Act
    const check = await new CloudWatchAlarmSource({ client }).check(query());

    // Assess
    expect(check.breached).toBe(true);
    expect(check.reasons).toEqual([
      'alarm notifications-5xx could not be read (ServiceUnavailable); treated as breached',
    ]);
    expect(check.metrics.alarms).toEqual([{ name: 'notifications-5xx', state: 'UNREADABLE' }]);
    expect(proxy.requests).toHaveLength(3);
    expect(described).toEqual([]);
  });

  it('reports alarms it cannot read as a warning, not a breach, when CloudWatch never answers and unreadable_alarms is notBreaching', async () => {
    // Prepare
    proxy.always(hang);

    // Act
    const check = await new CloudWatchAlarmSource({ client }).check(query('notBreaching'));

    // Assess
    expect(check.breached).toBe(false);
    expect(check.warnings).toEqual([
      'alarm notifications-5xx could not be read (TimeoutError); ignored (unreadable_alarms: notBreaching)',
    ]);
    expect(proxy.count('hang')).toBe(3);
  });
});
