import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from './powertools.js';

/** Builds a client on first use and keeps it for the life of the execution environment. */
export const once = <T>(build: () => T): (() => T) => {
  let client: T | undefined;
  return () => {
    client ??= build();
    return client;
  };
};

/** Each call a subsegment of the invocation's trace (a no-op outside Lambda, see `tracer`). */
export const traced = <T>(client: T): T => tracer.captureAWSv3Client(client);

/**
 * SDK v3 clients, one per service, built at module scope (lazily, so a function pays only for what it
 * uses) and reused across invocations, each traced. Adapters take them as constructor arguments; tests
 * pass their own.
 */
export const clients = {
  // the base client is traced: the document client sends through it
  dynamo: once(() =>
    DynamoDBDocumentClient.from(traced(new DynamoDBClient({})), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    }),
  ),
  // the standard retry mode with more attempts: a site sync sends hundreds of requests, and S3 answers
  // 503 SlowDown to bursts on one prefix
  s3: once(() => traced(new S3Client({ maxAttempts: 5 }))),
  ses: once(() => traced(new SESv2Client({}))),
  sfn: once(() => traced(new SFNClient({}))),
  cloudwatch: once(() => traced(new CloudWatchClient({}))),
  secrets: once(() => traced(new SecretsManagerClient({}))),
};
