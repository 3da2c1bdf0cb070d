import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Builds a client on first use and keeps it for the life of the execution environment. */
const once = <T>(build: () => T): (() => T) => {
  let client: T | undefined;
  return () => {
    client ??= build();
    return client;
  };
};

/**
 * SDK v3 clients, one per service, built at module scope (lazily, so a function pays only for what it
 * uses) and reused across invocations. Adapters take them as constructor arguments; tests pass their own.
 */
export const clients = {
  dynamo: once(() =>
    DynamoDBDocumentClient.from(new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    }),
  ),
  // the standard retry mode with more attempts: a site sync sends hundreds of requests, and S3 answers
  // 503 SlowDown to bursts on one prefix
  s3: once(() => new S3Client({ maxAttempts: 5 })),
  ses: once(() => new SESv2Client({})),
  sfn: once(() => new SFNClient({})),
  cloudwatch: once(() => new CloudWatchClient({})),
  cloudfront: once(() => new CloudFrontClient({ maxAttempts: 5 })),
  secrets: once(() => new SecretsManagerClient({})),
  eks: once(() => new EKSClient({})),
};
