import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { DynamoDeploymentStore } from '../../../functions/shared/adapters/dynamo-deployment-store.js';
import { TABLE_KEYS } from '../../../functions/shared/adapters/dynamo-table.js';
import type { ApprovalVote } from '../../../functions/shared/ports/deployment-store.js';
import { FakeClock } from '../../fixtures/fakes.js';
import { anApproval } from '../../fixtures/records.js';
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
const newStore = async (clock: FakeClock): Promise<DynamoDeploymentStore> => {
  const tableName = `devops-agent-${++tableCount}`;
  await raw.send(
    new CreateTableCommand({ TableName: tableName, BillingMode: 'PAY_PER_REQUEST', ...TABLE_KEYS }),
  );
  return new DynamoDeploymentStore({ client: documents, tableName, clock });
};

describeStoreContract('DynamoDeploymentStore on dynalite', newStore);

describe('DynamoDeploymentStore on dynalite, with an approval item written before votes existed', () => {
  /** The item as the earlier adapter wrote it: no quorum, break-glass or votes attribute. */
  const storeWithOlderApproval = async () => {
    const store = await newStore(new FakeClock());
    const { quorum: _q, breakGlass: _b, votes: _v, ...older } = anApproval({ approvalId: 'apr-1' });
    await documents.send(
      new PutCommand({
        TableName: `devops-agent-${tableCount}`,
        Item: {
          ...older,
          pk: 'APPROVAL#apr-1',
          sk: 'ITEM',
          gsi1pk: `APPROVALS#${older.deploymentId}`,
          gsi1sk: `${older.createdAt}#apr-1`,
        },
      }),
    );
    return store;
  };
  const vote = (by: string, decision: 'approve' | 'hold' = 'approve'): ApprovalVote => ({
    by,
    decision,
    at: '2026-11-28T10:00:00.000Z',
    channel: 'clickup',
  });

  it('reads it with the defaults, then records a vote and refuses a second one by the same approver', async () => {
    // Prepare
    const store = await storeWithOlderApproval();

    // Act
    const read = await store.getApproval('apr-1');
    const first = await store.addApprovalVote('apr-1', vote('lead@example.com'));
    const second = await store.addApprovalVote('apr-1', vote('lead@example.com', 'hold'));

    // Assess
    expect(read).toEqual(anApproval({ approvalId: 'apr-1' }));
    expect(first).toEqual(anApproval({ approvalId: 'apr-1', votes: [vote('lead@example.com')] }));
    expect(second).toBeUndefined();
    expect((await store.getApproval('apr-1'))?.votes).toEqual([vote('lead@example.com')]);
  });

  it('records exactly one of two concurrent votes by the same approver and both of two approvers', async () => {
    // Prepare
    const store = await storeWithOlderApproval();

    // Act
    const results = await Promise.all([
      store.addApprovalVote('apr-1', vote('lead@example.com', 'approve')),
      store.addApprovalVote('apr-1', vote('lead@example.com', 'hold')),
      store.addApprovalVote('apr-1', vote('4242')),
    ]);

    // Assess
    expect(results.slice(0, 2).filter(Boolean)).toHaveLength(1);
    expect(results[2]).toBeDefined();
    const votes = (await store.getApproval('apr-1'))?.votes ?? [];
    expect(votes.map((v) => v.by).sort()).toEqual(['4242', 'lead@example.com']);
  });

  it('refuses a vote on an unknown approval without creating an item', async () => {
    // Prepare
    const store = await newStore(new FakeClock());

    // Act
    const voted = await store.addApprovalVote('apr-404', vote('lead@example.com'));

    // Assess
    expect(voted).toBeUndefined();
    const { Item } = await documents.send(
      new GetCommand({
        TableName: `devops-agent-${tableCount}`,
        Key: { pk: 'APPROVAL#apr-404', sk: 'ITEM' },
      }),
    );
    expect(Item).toBeUndefined();
  });
});
