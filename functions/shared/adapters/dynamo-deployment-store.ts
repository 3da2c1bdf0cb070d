import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { NotFoundError, TransientDependencyError } from '../errors.js';
import { type Clock, systemClock } from '../ports/clock.js';
import {
  type ApprovalDecisionUpdate,
  type ApprovalRecord,
  type ApprovalVote,
  type AuditEntry,
  type DeploymentRecord,
  type DeploymentStore,
  type LockResult,
  waiterIsFresh,
  withApprovalDefaults,
} from '../ports/deployment-store.js';
import { describeAwsError, isTransientAwsError, isUnreachedAwsError } from './aws-transient.js';
import { GSI1 } from './dynamo-table.js';

/** Key attributes; never part of a record read back. */
const KEYS = ['pk', 'sk', 'gsi1pk', 'gsi1sk'] as const;
/** The partition of the GSI that lists every deployment, ordered by creation time. */
const ALL_DEPLOYMENTS = 'DEPLOYMENTS';
const ITEM = 'ITEM';

const key = {
  deployment: (id: string) => ({ pk: `DEPLOYMENT#${id}`, sk: ITEM }),
  monitorToken: (id: string) => ({ pk: `DEPLOYMENT#${id}`, sk: 'MONITOR_TOKEN' }),
  approval: (id: string) => ({ pk: `APPROVAL#${id}`, sk: ITEM }),
  lock: (lockKey: string) => ({ pk: `LOCK#${lockKey}`, sk: ITEM }),
  waiter: (lockKey: string, owner: string) => ({ pk: `LOCK#${lockKey}`, sk: `WAITER#${owner}` }),
};

const strip = <T>(item: Record<string, unknown> | undefined): T | undefined => {
  if (!item) return undefined;
  const copy = { ...item };
  for (const k of KEYS) delete copy[k];
  return copy as T;
};

/** A vote in an approval item's `votes` map (keyed by voter); `seq` orders votes cast at the same `at`. */
type StoredVote = ApprovalVote & { seq?: string };

/** An approval item: the votes map back to a list in the order recorded, defaults for older items. */
const approvalOf = (item: Record<string, unknown> | undefined): ApprovalRecord | undefined => {
  const stored = strip<
    Omit<ApprovalRecord, 'votes'> & { votes?: Record<string, StoredVote> | ApprovalVote[] }
  >(item);
  if (!stored) return undefined;
  const votes = Array.isArray(stored.votes)
    ? stored.votes
    : Object.values(stored.votes ?? {})
        .sort(
          (a, b) =>
            a.at.localeCompare(b.at) || (a.seq ?? '').localeCompare(b.seq ?? '') || a.by.localeCompare(b.by),
        )
        .map(({ seq: _seq, ...vote }) => vote);
  return withApprovalDefaults({ ...stored, votes });
};

/** What the SDK's own retries did not get through becomes a named, retryable error for the workflow. */
const toTransient = (error: unknown): unknown => {
  if (!(error instanceof Error) || !isTransientAwsError(error)) return error;
  // an answer (throttling, a 5xx) is named by its error; a reset connection or a timeout has no answer
  return new TransientDependencyError(
    isUnreachedAwsError(error)
      ? `DynamoDB could not be reached: ${describeAwsError(error)}`
      : `DynamoDB answered ${error.name}`,
    { cause: error },
  );
};

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

let sequence = 0;
/** Sorts after every earlier call in this process and, by wall clock, in others: for audit and queue order. */
const monotonic = (): string =>
  `${Date.now().toString(36).padStart(9, '0')}${(sequence++ % 36 ** 4).toString(36).padStart(4, '0')}`;

export interface DynamoDeploymentStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** name of the GSI on (gsi1pk, gsi1sk) */
  indexName?: string;
  clock?: Clock;
}

/**
 * The production `DeploymentStore` in one DynamoDB table (pk/sk + one GSI). Records are stored as top-level
 * attributes so updates are single `UpdateItem` calls; every write that must not race (create, lock,
 * approval decision, approval vote) is one conditional write, so two Lambdas behave like one. An approval's
 * votes are a map keyed by voter, so `attribute_not_exists(votes.<voter>)` refuses a second vote.
 *
 * Items: `DEPLOYMENT#<id>/ITEM` (GSI `DEPLOYMENTS`/`<createdAt>#<id>`), `DEPLOYMENT#<id>/MONITOR_TOKEN`,
 * `DEPLOYMENT#<id>/AUDIT#<at>#<seq>`, `APPROVAL#<id>/ITEM` (GSI `APPROVALS#<deploymentId>`/`<createdAt>#<id>`),
 * `LOCK#<key>/ITEM` (holder and lease) and `LOCK#<key>/WAITER#<owner>` (the FIFO queue).
 *
 * @example
 * const store = new DynamoDeploymentStore({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName });
 */
export class DynamoDeploymentStore implements DeploymentStore {
  private readonly client: DynamoDBDocumentClient;
  /** `client.send`, with throttling and 5xx named TransientDependencyError so the workflow retries them. */
  private readonly send = (async (command: never) => {
    try {
      return await this.client.send(command);
    } catch (error) {
      throw toTransient(error);
    }
  }) as DynamoDBDocumentClient['send'];
  private readonly tableName: string;
  private readonly indexName: string;
  private readonly clock: Clock;

  constructor(options: DynamoDeploymentStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.indexName = options.indexName ?? GSI1;
    this.clock = options.clock ?? systemClock;
  }

  async createDeployment(record: DeploymentRecord): Promise<boolean> {
    try {
      await this.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...record,
            ...key.deployment(record.deploymentId),
            gsi1pk: ALL_DEPLOYMENTS,
            gsi1sk: `${record.createdAt}#${record.deploymentId}`,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async getDeployment(deploymentId: string): Promise<DeploymentRecord | undefined> {
    const { Item } = await this.send(
      new GetCommand({ TableName: this.tableName, Key: key.deployment(deploymentId), ConsistentRead: true }),
    );
    return strip<DeploymentRecord>(Item);
  }

  async updateDeployment(deploymentId: string, patch: Partial<DeploymentRecord>): Promise<DeploymentRecord> {
    const fields: Record<string, unknown> = {
      ...patch,
      updatedAt: this.clock.now().toISOString(),
    };
    for (const k of ['deploymentId', 'createdAt', ...KEYS]) delete fields[k];
    const names: Record<string, string> = { '#pk': 'pk' };
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    const remove: string[] = [];
    Object.entries(fields).forEach(([name, value], i) => {
      names[`#f${i}`] = name;
      if (value === undefined) remove.push(`#f${i}`);
      else {
        values[`:v${i}`] = value;
        set.push(`#f${i} = :v${i}`);
      }
    });
    try {
      const { Attributes } = await this.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key.deployment(deploymentId),
          UpdateExpression: [`SET ${set.join(', ')}`, remove.length ? `REMOVE ${remove.join(', ')}` : '']
            .join(' ')
            .trim(),
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<DeploymentRecord>(Attributes) as DeploymentRecord;
    } catch (error) {
      if (isConditionFailure(error))
        throw new NotFoundError(`deployment ${deploymentId} not found`, { cause: error });
      throw error;
    }
  }

  async listDeployments(
    filter: { service?: string; taskId?: string; since?: string } = {},
  ): Promise<DeploymentRecord[]> {
    const names: Record<string, string> = { '#gpk': 'gsi1pk' };
    const values: Record<string, unknown> = { ':gpk': ALL_DEPLOYMENTS };
    let condition = '#gpk = :gpk';
    if (filter.since) {
      names['#gsk'] = 'gsi1sk';
      values[':since'] = filter.since;
      condition += ' AND #gsk >= :since';
    }
    const filters: string[] = [];
    if (filter.service) {
      names['#service'] = 'service';
      values[':service'] = filter.service;
      filters.push('#service = :service');
    }
    if (filter.taskId) {
      names['#taskId'] = 'taskId';
      values[':taskId'] = filter.taskId;
      filters.push('#taskId = :taskId');
    }
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: this.indexName,
      KeyConditionExpression: condition,
      ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    return items.map((item) => strip<DeploymentRecord>(item) as DeploymentRecord);
  }

  async acquireLock(lockKey: string, owner: string, expiresAt: string, now: string): Promise<LockResult> {
    const { holder, waiters } = await this.lockState(lockKey, owner, now);
    const mine = waiters.findIndex((w) => w.owner === owner);
    const ahead = mine === -1 ? waiters.length : mine;
    const heldByOther = holder !== undefined && holder.owner !== owner && holder.expiresAt > now;
    // FIFO: a free lock goes to the first waiter still asking; the holder renews its own lease
    if (holder?.owner === owner || (!heldByOther && ahead === 0)) {
      try {
        // Free, ours already (renewal), or a lease that ran out: take it in one conditional write, so of
        // two callers that both saw it free only one wins.
        await this.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...key.lock(lockKey), owner, expiresAt },
            ConditionExpression: 'attribute_not_exists(#pk) OR #owner = :owner OR #expiresAt <= :now',
            ExpressionAttributeNames: { '#pk': 'pk', '#owner': 'owner', '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: { ':owner': owner, ':now': now },
          }),
        );
        await this.send(new DeleteCommand({ TableName: this.tableName, Key: key.waiter(lockKey, owner) }));
        return { acquired: true, position: 0 };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    return this.queue(lockKey, owner, now);
  }

  /**
   * The lock item and the waiters still holding their place (`waiterIsFresh`; the caller's own entry
   * always counts), in arrival order, read consistently.
   */
  private async lockState(lockKey: string, owner: string, now: string) {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': `LOCK#${lockKey}` },
      ConsistentRead: true,
    });
    const lock = items.find((i) => i.sk === ITEM);
    const holder = lock ? { owner: String(lock.owner), expiresAt: String(lock.expiresAt) } : undefined;
    const waiters = items
      .filter((i) => String(i.sk).startsWith('WAITER#'))
      .filter((i) => i.owner === owner || waiterIsFresh(i.seenAt as string | undefined, now))
      .sort((a, b) => String(a.queuedAt).localeCompare(String(b.queuedAt)))
      .map((i) => ({ owner: String(i.owner) }));
    return { holder, waiters };
  }

  /** Joins the queue once (keeping the first arrival time), refreshes the place and reports it. */
  private async queue(lockKey: string, owner: string, now: string): Promise<LockResult> {
    await this.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key.waiter(lockKey, owner),
        UpdateExpression:
          'SET #queuedAt = if_not_exists(#queuedAt, :queuedAt), #owner = :owner, #seenAt = :seenAt',
        ExpressionAttributeNames: { '#queuedAt': 'queuedAt', '#owner': 'owner', '#seenAt': 'seenAt' },
        ExpressionAttributeValues: { ':queuedAt': `${now}#${monotonic()}`, ':owner': owner, ':seenAt': now },
      }),
    );
    const { holder, waiters } = await this.lockState(lockKey, owner, now);
    const ahead = waiters.findIndex((w) => w.owner === owner);
    const held = holder !== undefined && holder.expiresAt > now;
    // The holder is ahead too: the first waiter is at position 1.
    return { acquired: false, ...(held ? { holder: holder.owner } : {}), position: Math.max(0, ahead) + 1 };
  }

  async releaseLock(lockKey: string, owner: string): Promise<void> {
    try {
      await this.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key.lock(lockKey),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // A deployment that gives up while queued leaves the queue too.
    await this.send(new DeleteCommand({ TableName: this.tableName, Key: key.waiter(lockKey, owner) }));
  }

  async putApproval(approval: ApprovalRecord): Promise<void> {
    await this.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...approval,
          // a map by voter, so one conditional update can refuse a second vote by the same identity
          votes: Object.fromEntries((approval.votes ?? []).map((v) => [v.by, { ...v, seq: monotonic() }])),
          ...key.approval(approval.approvalId),
          gsi1pk: `APPROVALS#${approval.deploymentId}`,
          gsi1sk: `${approval.createdAt}#${approval.approvalId}`,
        },
      }),
    );
  }

  async getApproval(approvalId: string): Promise<ApprovalRecord | undefined> {
    const { Item } = await this.send(
      new GetCommand({ TableName: this.tableName, Key: key.approval(approvalId), ConsistentRead: true }),
    );
    return approvalOf(Item);
  }

  async addApprovalVote(approvalId: string, vote: ApprovalVote): Promise<ApprovalRecord | undefined> {
    const update = () =>
      this.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key.approval(approvalId),
          // One conditional write: of two racing votes by one identity exactly one finds no earlier vote.
          UpdateExpression: 'SET #votes.#by = :vote',
          ConditionExpression:
            'attribute_exists(#pk) AND #status = :pending AND attribute_not_exists(#votes.#by)',
          ExpressionAttributeNames: { '#pk': 'pk', '#status': 'status', '#votes': 'votes', '#by': vote.by },
          ExpressionAttributeValues: { ':vote': { ...vote, seq: monotonic() }, ':pending': 'pending' },
          ReturnValues: 'ALL_NEW',
        }),
      );
    try {
      return approvalOf((await update()).Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      // an approval written before votes existed has no map to add to: create it, then vote
      if ((error as Error).name !== 'ValidationException') throw error;
      try {
        await this.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key.approval(approvalId),
            UpdateExpression: 'SET #votes = if_not_exists(#votes, :empty)',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': 'pk', '#votes': 'votes' },
            ExpressionAttributeValues: { ':empty': {} },
          }),
        );
        return approvalOf((await update()).Attributes);
      } catch (retry) {
        if (isConditionFailure(retry)) return undefined;
        throw retry;
      }
    }
  }

  async findApprovalByDeployment(deploymentId: string): Promise<ApprovalRecord | undefined> {
    const { Items } = await this.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: this.indexName,
        KeyConditionExpression: '#gpk = :gpk',
        ExpressionAttributeNames: { '#gpk': 'gsi1pk' },
        ExpressionAttributeValues: { ':gpk': `APPROVALS#${deploymentId}` },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const newest = Items?.[0];
    // The index is eventually consistent: read the item itself for its current status.
    return newest ? this.getApproval(String(newest.approvalId)) : undefined;
  }

  async decideApproval(approvalId: string, decision: ApprovalDecisionUpdate): Promise<boolean> {
    const withComment = decision.comment !== undefined;
    try {
      // One conditional write: of two racing decisions exactly one sees `pending`.
      await this.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key.approval(approvalId),
          UpdateExpression: `SET #status = :status, #decidedBy = :decidedBy, #decidedAt = :decidedAt${withComment ? ', #comment = :comment' : ''}`,
          ConditionExpression: 'attribute_exists(#pk) AND #status = :pending',
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#status': 'status',
            '#decidedBy': 'decidedBy',
            '#decidedAt': 'decidedAt',
            ...(withComment ? { '#comment': 'comment' } : {}),
          },
          ExpressionAttributeValues: {
            ':status': decision.status,
            ':decidedBy': decision.decidedBy,
            ':decidedAt': decision.decidedAt,
            ':pending': 'pending',
            ...(withComment ? { ':comment': decision.comment } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async setMonitorToken(deploymentId: string, token: string | undefined): Promise<void> {
    if (token === undefined) {
      await this.send(new DeleteCommand({ TableName: this.tableName, Key: key.monitorToken(deploymentId) }));
      return;
    }
    await this.send(
      new PutCommand({ TableName: this.tableName, Item: { ...key.monitorToken(deploymentId), token } }),
    );
  }

  async getMonitorToken(deploymentId: string): Promise<string | undefined> {
    const { Item } = await this.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key.monitorToken(deploymentId),
        ConsistentRead: true,
      }),
    );
    return Item ? String(Item.token) : undefined;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...entry, pk: `DEPLOYMENT#${entry.deploymentId}`, sk: `AUDIT#${entry.at}#${monotonic()}` },
      }),
    );
  }

  async listAudit(deploymentId: string): Promise<AuditEntry[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :audit)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': `DEPLOYMENT#${deploymentId}`, ':audit': 'AUDIT#' },
      ConsistentRead: true,
    });
    return items.map((item) => strip<AuditEntry>(item) as AuditEntry);
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.send(
        new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
