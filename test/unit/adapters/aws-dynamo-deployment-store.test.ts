import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDeploymentStore } from '../../../functions/shared/adapters/dynamo-deployment-store.js';
import { NotFoundError } from '../../../functions/shared/errors.js';
import type { ApprovalVote } from '../../../functions/shared/ports/deployment-store.js';
import { FakeClock } from '../../fixtures/fakes.js';
import { aDeployment, anApproval } from '../../fixtures/records.js';

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const record = aDeployment({ deploymentId: 'dep-1' });

describe('DynamoDeploymentStore', () => {
  const documents = mockClient(DynamoDBDocumentClient);
  const store = new DynamoDeploymentStore({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
    tableName: 'store',
    clock: new FakeClock(),
  });

  afterEach(() => {
    documents.reset();
  });

  it('creates a deployment with a condition that it does not exist yet, and indexes it by creation time', async () => {
    // Prepare
    documents.on(PutCommand).resolves({});

    // Act
    const created = await store.createDeployment(record);

    // Assess
    expect(created).toBe(true);
    expect(documents).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'store',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: expect.objectContaining({
        pk: 'DEPLOYMENT#dep-1',
        sk: 'ITEM',
        gsi1pk: 'DEPLOYMENTS',
        gsi1sk: '2026-11-28T10:00:00.000Z#dep-1',
        taskName: 'User Notifications',
      }),
    });
  });

  it('answers false to a duplicate create', async () => {
    // Prepare
    documents.on(PutCommand).rejects(conditionFailed());

    // Act
    const created = await store.createDeployment(record);

    // Assess
    expect(created).toBe(false);
  });

  it('names throttling that outlasted the SDK retries TransientDependencyError, so the workflow retries it', async () => {
    // Prepare
    documents
      .on(PutCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));

    // Act
    const create = store.createDeployment(record);

    // Assess
    await expect(create).rejects.toMatchObject({
      name: 'TransientDependencyError',
      message: 'DynamoDB answered ProvisionedThroughputExceededException',
    });
  });

  it('passes other errors on unchanged', async () => {
    // Prepare
    documents.on(PutCommand).rejects(Object.assign(new Error('bad key'), { name: 'ValidationException' }));

    // Act
    const create = store.createDeployment(record);

    // Assess
    await expect(create).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('updates only the patched fields plus updatedAt, in one conditional write, and strips the keys', async () => {
    // Prepare
    documents.on(UpdateCommand).resolves({
      Attributes: {
        ...record,
        status: 'deploying',
        pk: 'DEPLOYMENT#dep-1',
        sk: 'ITEM',
        gsi1pk: 'x',
        gsi1sk: 'y',
      },
    });

    // Act
    const updated = await store.updateDeployment('dep-1', { status: 'deploying', error: undefined });

    // Assess
    expect(updated).toEqual({ ...record, status: 'deploying' });
    const input = documents.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Key: { pk: 'DEPLOYMENT#dep-1', sk: 'ITEM' },
      ConditionExpression: 'attribute_exists(#pk)',
      UpdateExpression: 'SET #f0 = :v0, #f2 = :v2 REMOVE #f1',
      ExpressionAttributeNames: { '#pk': 'pk', '#f0': 'status', '#f1': 'error', '#f2': 'updatedAt' },
      ExpressionAttributeValues: { ':v0': 'deploying', ':v2': '2026-11-28T10:00:00.000Z' },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('throws NotFoundError when the deployment to update does not exist', async () => {
    // Prepare
    documents.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const update = store.updateDeployment('missing', { status: 'deployed' });

    // Assess
    await expect(update).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reads a deployment consistently', async () => {
    // Prepare
    documents.on(GetCommand).resolves({ Item: { ...record, pk: 'DEPLOYMENT#dep-1', sk: 'ITEM' } });

    // Act
    const read = await store.getDeployment('dep-1');

    // Assess
    expect(read).toEqual(record);
    expect(documents).toHaveReceivedCommandWith(GetCommand, { ConsistentRead: true });
  });

  it('follows every page when listing deployments', async () => {
    // Prepare
    documents
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ ...record, deploymentId: 'a' }], LastEvaluatedKey: { pk: 'a' } })
      .resolvesOnce({ Items: [{ ...record, deploymentId: 'b' }] });

    // Act
    const list = await store.listDeployments({ service: 'notifications' });

    // Assess
    expect(list.map((d) => d.deploymentId)).toEqual(['a', 'b']);
    expect(documents).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(documents).toHaveReceivedNthSpecificCommandWith(2, QueryCommand, {
      IndexName: 'gsi1',
      ExclusiveStartKey: { pk: 'a' },
      FilterExpression: '#service = :service',
    });
  });

  it('takes a lock that is free, its own, or past its lease in one conditional write', async () => {
    // Prepare: nobody holds it or waits for it (a consistent read of the lock's partition says so)
    documents.on(QueryCommand).resolves({ Items: [] });
    documents.on(PutCommand).resolves({});

    // Act
    const result = await store.acquireLock(
      'svc/production',
      'dep-1',
      '2026-11-28T11:00:00.000Z',
      '2026-11-28T10:00:00.000Z',
    );

    // Assess
    expect(result).toEqual({ acquired: true, position: 0 });
    expect(documents).toHaveReceivedCommandWith(PutCommand, {
      Item: { pk: 'LOCK#svc/production', sk: 'ITEM', owner: 'dep-1', expiresAt: '2026-11-28T11:00:00.000Z' },
      ConditionExpression: 'attribute_not_exists(#pk) OR #owner = :owner OR #expiresAt <= :now',
      ExpressionAttributeValues: { ':owner': 'dep-1', ':now': '2026-11-28T10:00:00.000Z' },
    });
    expect(documents).toHaveReceivedCommandWith(QueryCommand, { ConsistentRead: true });
  });

  it('decides an approval only while it is pending', async () => {
    // Prepare
    documents.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});

    // Act
    const late = await store.decideApproval('apr-1', {
      status: 'approved',
      decidedBy: 'a',
      decidedAt: 'now',
    });
    const first = await store.decideApproval('apr-2', {
      status: 'held',
      decidedBy: 'b',
      decidedAt: 'now',
      comment: 'wait',
    });

    // Assess
    expect({ late, first }).toEqual({ late: false, first: true });
    expect(documents).toHaveReceivedNthSpecificCommandWith(2, UpdateCommand, {
      Key: { pk: 'APPROVAL#apr-2', sk: 'ITEM' },
      ConditionExpression: 'attribute_exists(#pk) AND #status = :pending',
      ExpressionAttributeValues: expect.objectContaining({ ':pending': 'pending', ':comment': 'wait' }),
    });
  });

  describe('approval votes', () => {
    const vote = (by: string, at = '2026-11-28T10:00:00.000Z'): ApprovalVote => ({
      by,
      decision: 'approve',
      at,
      channel: 'link',
      linkId: `nonce-${by}`,
    });
    const item = (votes: Record<string, unknown>) => ({
      ...anApproval({ approvalId: 'apr-1' }),
      votes,
      pk: 'APPROVAL#apr-1',
      sk: 'ITEM',
      gsi1pk: 'APPROVALS#t1-1',
      gsi1sk: 'x',
    });

    it('adds a vote in one conditional update keyed by the voter, dots and @ passed as an attribute name', async () => {
      // Prepare
      const existing = { ...vote('lead@example.com'), seq: '0000000010000' };
      const added = { ...vote('b.ops@example.com'), seq: '0000000020000' };
      documents.on(UpdateCommand).resolves({
        Attributes: item({ 'b.ops@example.com': added, 'lead@example.com': existing }),
      });

      // Act
      const result = await store.addApprovalVote('apr-1', vote('b.ops@example.com'));

      // Assess
      expect(result).toEqual(
        anApproval({ approvalId: 'apr-1', votes: [vote('lead@example.com'), vote('b.ops@example.com')] }),
      );
      expect(documents).toHaveReceivedCommandTimes(UpdateCommand, 1);
      expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
        TableName: 'store',
        Key: { pk: 'APPROVAL#apr-1', sk: 'ITEM' },
        UpdateExpression: 'SET #votes.#by = :vote',
        ConditionExpression:
          'attribute_exists(#pk) AND #status = :pending AND attribute_not_exists(#votes.#by)',
        ExpressionAttributeNames: {
          '#pk': 'pk',
          '#status': 'status',
          '#votes': 'votes',
          '#by': 'b.ops@example.com',
        },
        ExpressionAttributeValues: {
          ':vote': { ...vote('b.ops@example.com'), seq: expect.any(String) },
          ':pending': 'pending',
        },
        ReturnValues: 'ALL_NEW',
      });
    });

    it('reads the votes map as a list by time, then by the order recorded, without the order key', async () => {
      // Prepare
      documents.on(GetCommand).resolves({
        Item: item({
          '4242': { ...vote('4242', '2026-11-28T10:01:00.000Z'), seq: '0000000030000' },
          'z@example.com': { ...vote('z@example.com', '2026-11-28T10:01:00.000Z'), seq: '0000000020000' },
          'late@example.com': {
            ...vote('late@example.com', '2026-11-28T10:00:00.000Z'),
            seq: '0000000040000',
          },
        }),
      });

      // Act
      const approval = await store.getApproval('apr-1');

      // Assess
      expect(approval?.votes).toEqual([
        vote('late@example.com', '2026-11-28T10:00:00.000Z'),
        vote('z@example.com', '2026-11-28T10:01:00.000Z'),
        vote('4242', '2026-11-28T10:01:00.000Z'),
      ]);
    });

    it('answers undefined when the condition fails: not pending, voted already or unknown', async () => {
      // Prepare
      documents.on(UpdateCommand).rejects(conditionFailed());

      // Act
      const result = await store.addApprovalVote('apr-1', vote('lead@example.com'));

      // Assess
      expect(result).toBeUndefined();
      expect(documents).toHaveReceivedCommandTimes(UpdateCommand, 1);
    });

    it('adds the votes map to an item written before votes existed, then votes under the same condition', async () => {
      // Prepare
      documents
        .on(UpdateCommand)
        .rejectsOnce(
          Object.assign(
            new Error('The document path provided in the update expression is invalid for update'),
            {
              name: 'ValidationException',
            },
          ),
        )
        .resolvesOnce({})
        .resolves({ Attributes: item({ 'lead@example.com': { ...vote('lead@example.com'), seq: '1' } }) });

      // Act
      const result = await store.addApprovalVote('apr-1', vote('lead@example.com'));

      // Assess
      expect(result?.votes).toEqual([vote('lead@example.com')]);
      expect(documents).toHaveReceivedNthSpecificCommandWith(2, UpdateCommand, {
        UpdateExpression: 'SET #votes = if_not_exists(#votes, :empty)',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeValues: { ':empty': {} },
      });
      expect(documents).toHaveReceivedNthSpecificCommandWith(3, UpdateCommand, {
        UpdateExpression: 'SET #votes.#by = :vote',
        ConditionExpression:
          'attribute_exists(#pk) AND #status = :pending AND attribute_not_exists(#votes.#by)',
      });
    });

    it('names throttling on a vote TransientDependencyError, so the caller may retry it', async () => {
      // Prepare
      documents
        .on(UpdateCommand)
        .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));

      // Act
      const voting = store.addApprovalVote('apr-1', vote('lead@example.com'));

      // Assess
      await expect(voting).rejects.toMatchObject({ name: 'TransientDependencyError' });
    });

    it('writes an approval with its votes as a map keyed by voter, empty when there are none', async () => {
      // Prepare
      documents.on(PutCommand).resolves({});

      // Act
      await store.putApproval(anApproval({ approvalId: 'apr-1', votes: [vote('a@example.com')] }));
      await store.putApproval(anApproval({ approvalId: 'apr-2' }));

      // Assess
      expect(documents).toHaveReceivedNthSpecificCommandWith(1, PutCommand, {
        Item: expect.objectContaining({
          pk: 'APPROVAL#apr-1',
          quorum: 1,
          breakGlass: [],
          votes: { 'a@example.com': { ...vote('a@example.com'), seq: expect.any(String) } },
        }),
      });
      expect(documents).toHaveReceivedNthSpecificCommandWith(2, PutCommand, {
        Item: expect.objectContaining({ pk: 'APPROVAL#apr-2', votes: {} }),
      });
    });
  });
});
