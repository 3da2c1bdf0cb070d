import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The key schema DynamoDeploymentStore needs; the CDK table and the tests create it from this.
 * `gsi1` lists all deployments (`DEPLOYMENTS` / `<createdAt>#<id>`) and a deployment's approvals.
 */
export const GSI1 = 'gsi1';

export const TABLE_KEYS = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'gsi1pk', AttributeType: 'S' },
    { AttributeName: 'gsi1sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'gsi1',
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ],
      // ALL: listDeployments filters on record fields straight from the index.
      Projection: { ProjectionType: 'ALL' },
    },
  ],
} satisfies Partial<CreateTableCommandInput>;
