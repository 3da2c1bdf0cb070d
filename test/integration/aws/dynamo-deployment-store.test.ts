import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { DynamoDeploymentStore } from '../../../functions/shared/adapters/dynamo-deployment-store.js';
import { TABLE_KEYS } from '../../../functions/shared/adapters/dynamo-table.js';
import type { ApprovalRecord, DeploymentRecord } from '../../../functions/shared/ports/deployment-store.js';
import { FakeClock } from '../../fixtures/fakes.js';
import { describeStoreContract } from '../../fixtures/store-contract.js';

type Server = ReturnType<typeof dynalite>;

let server: Server;
let raw: DynamoDBClient;
let documents: DynamoDBDocumentClient;
let tableCount = 0;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  raw = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  documents = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  raw.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A fresh table per test: no state leaks between cases. */
const newStore = async (clock = new FakeClock()): Promise<DynamoDeploymentStore> => {
  const tableName = `devops-agent-${++tableCount}`;
  await raw.send(
    new CreateTableCommand({ TableName: tableName, BillingMode: 'PAY_PER_REQUEST', ...TABLE_KEYS }),
  );
  return new DynamoDeploymentStore({ client: documents, tableName, clock });
};

const deployment = (overrides: Partial<DeploymentRecord> = {}): DeploymentRecord => ({
  deploymentId: 'dep-1',
  taskId: 'abc123',
  taskName: 'User Notifications',
  service: 'user-notifications',
  environment: 'production',
  trigger: 'status',
  status: 'queued',
  stage: 'Acknowledge',
  createdAt: '2026-11-28T10:00:00.000Z',
  updatedAt: '2026-11-28T10:00:00.000Z',
  steps: [],
  ...overrides,
});

const approval = (overrides: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  approvalId: 'apr-1',
  deploymentId: 'dep-1',
  taskId: 'abc123',
  taskToken: 'token-1',
  planHash: 'abc',
  approvers: ['demo@example.com'],
  status: 'pending',
  createdAt: '2026-11-28T10:00:00.000Z',
  expiresAt: '2026-11-29T10:00:00.000Z',
  ...overrides,
});

describeStoreContract('DynamoDeploymentStore on dynalite', () => newStore());

describe('DynamoDeploymentStore on dynalite', () => {
  it('keeps a record exactly as written and sets updatedAt from the clock on update', async () => {
    // Prepare
    const clock = new FakeClock();
    const store = await newStore(clock);
    const record = deployment({
      plan: { hash: 'h', key: 'plans/dep-1.md', risk: 'low', markdown: '# Plan' },
    });
    await store.createDeployment(record);
    clock.advance(60);

    // Act
    const read = await store.getDeployment('dep-1');
    const updated = await store.updateDeployment('dep-1', {
      status: 'deploying',
      deploymentId: 'ignored',
      finishedAt: undefined,
    });

    // Assess
    expect(read).toEqual(record);
    expect(updated).toEqual({ ...record, status: 'deploying', updatedAt: '2026-11-28T10:01:00.000Z' });
    expect(await store.getDeployment('ignored')).toBeUndefined();
  });

  it('removes a field patched to undefined', async () => {
    // Prepare
    const store = await newStore();
    await store.createDeployment(deployment({ finishedAt: '2026-11-28T11:00:00.000Z' }));

    // Act
    const updated = await store.updateDeployment('dep-1', { finishedAt: undefined });

    // Assess
    expect(updated).not.toHaveProperty('finishedAt');
  });

  it('lists deployments oldest first and from a start time', async () => {
    // Prepare
    const store = await newStore();
    await store.createDeployment(deployment({ deploymentId: 'b', createdAt: '2026-11-28T11:00:00.000Z' }));
    await store.createDeployment(deployment({ deploymentId: 'a', createdAt: '2026-11-28T10:00:00.000Z' }));
    await store.createDeployment(deployment({ deploymentId: 'c', createdAt: '2026-11-28T12:00:00.000Z' }));

    // Act
    const all = await store.listDeployments();
    const since = await store.listDeployments({ since: '2026-11-28T10:30:00.000Z' });

    // Assess
    expect(all.map((d) => d.deploymentId)).toEqual(['a', 'b', 'c']);
    expect(since.map((d) => d.deploymentId)).toEqual(['b', 'c']);
  });

  it('queues waiters in arrival order and keeps a waiter its place when it asks again', async () => {
    // Prepare
    const store = await newStore();
    const now = '2026-11-28T10:00:00.000Z';
    const until = '2026-11-28T11:00:00.000Z';

    // Act
    const first = await store.acquireLock('svc/production', 'dep-1', until, now);
    const second = await store.acquireLock('svc/production', 'dep-2', until, now);
    const third = await store.acquireLock('svc/production', 'dep-3', until, now);
    const secondAgain = await store.acquireLock('svc/production', 'dep-2', until, now);
    await store.releaseLock('svc/production', 'dep-1');
    const handedOn = await store.acquireLock('svc/production', 'dep-2', until, now);
    const thirdNow = await store.acquireLock('svc/production', 'dep-3', until, now);

    // Assess
    expect(first).toEqual({ acquired: true, position: 0 });
    expect(second).toEqual({ acquired: false, holder: 'dep-1', position: 1 });
    expect(third).toEqual({ acquired: false, holder: 'dep-1', position: 2 });
    expect(secondAgain).toEqual({ acquired: false, holder: 'dep-1', position: 1 });
    expect(handedOn).toEqual({ acquired: true, position: 0 });
    expect(thirdNow).toEqual({ acquired: false, holder: 'dep-2', position: 1 });
  });

  it('lets a waiter take over a lock whose lease expired, and not before', async () => {
    // Prepare
    const store = await newStore();
    await store.acquireLock('k', 'crashed', '2026-11-28T10:05:00.000Z', '2026-11-28T10:00:00.000Z');

    // Act
    const before = await store.acquireLock(
      'k',
      'dep-2',
      '2026-11-28T11:00:00.000Z',
      '2026-11-28T10:04:59.000Z',
    );
    const after = await store.acquireLock(
      'k',
      'dep-2',
      '2026-11-28T11:05:00.000Z',
      '2026-11-28T10:05:00.000Z',
    );

    // Assess
    expect(before).toEqual({ acquired: false, holder: 'crashed', position: 1 });
    expect(after).toEqual({ acquired: true, position: 0 });
  });

  it('gives a lock to exactly one of many concurrent callers', async () => {
    // Prepare
    const store = await newStore();
    const owners = ['a', 'b', 'c', 'd', 'e'];

    // Act
    const results = await Promise.all(
      owners.map((o) => store.acquireLock('k', o, '2026-11-28T11:00:00.000Z', '2026-11-28T10:00:00.000Z')),
    );

    // Assess
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    expect(
      results
        .filter((r) => !r.acquired)
        .map((r) => r.position)
        .sort(),
    ).toEqual([1, 2, 3, 4]);
  });

  it('finds the newest approval of a deployment and lets exactly one concurrent decision win', async () => {
    // Prepare
    const store = await newStore();
    await store.putApproval(approval({ approvalId: 'old', createdAt: '2026-11-28T09:00:00.000Z' }));
    await store.putApproval(approval({ approvalId: 'new', createdAt: '2026-11-28T10:00:00.000Z' }));

    // Act
    const found = await store.findApprovalByDeployment('dep-1');
    const results = await Promise.all(
      (['approved', 'held', 'expired'] as const).map((status, i) =>
        store.decideApproval('new', {
          status,
          decidedBy: `person-${i}`,
          decidedAt: '2026-11-28T10:05:00.000Z',
        }),
      ),
    );
    const unknown = await store.decideApproval('missing', {
      status: 'approved',
      decidedBy: 'x',
      decidedAt: '2026-11-28T10:05:00.000Z',
    });

    // Assess
    expect(found?.approvalId).toBe('new');
    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.getApproval('new'))?.status).not.toBe('pending');
    expect(unknown).toBe(false);
    expect(await store.getApproval('missing')).toBeUndefined();
  });

  it('stores a decision comment with the approval and keeps the token out of nothing else', async () => {
    // Prepare
    const store = await newStore();
    await store.putApproval(approval());

    // Act
    await store.decideApproval('apr-1', {
      status: 'held',
      decidedBy: 'demo@example.com',
      decidedAt: '2026-11-28T10:05:00.000Z',
      comment: 'wait for the freeze to end',
    });

    // Assess
    expect(await store.getApproval('apr-1')).toEqual(
      approval({
        status: 'held',
        decidedBy: 'demo@example.com',
        decidedAt: '2026-11-28T10:05:00.000Z',
        comment: 'wait for the freeze to end',
      }),
    );
  });

  it('lists the audit entries of a deployment in the order they were written', async () => {
    // Prepare
    const store = await newStore();
    const entry = (action: string) => ({
      at: '2026-11-28T10:00:00.000Z',
      deploymentId: 'dep-1',
      action,
      actor: 'devops-agent',
      channel: 'workflow',
    });

    // Act
    for (const action of ['a', 'b', 'c', 'd']) await store.appendAudit(entry(action));
    await store.createDeployment(deployment());
    await store.setMonitorToken('dep-1', 'token');

    // Assess
    expect((await store.listAudit('dep-1')).map((a) => a.action)).toEqual(['a', 'b', 'c', 'd']);
    expect(await store.listDeployments()).toHaveLength(1);
  });
});
