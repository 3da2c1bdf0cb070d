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

/**
 * Without these the SDK waits on a silent endpoint until the Lambda or the Task times out: a connection
 * must open within 5 s and a socket may sit idle 20 s (idle, not total, so a large S3 transfer that keeps
 * moving is not cut); either ends the attempt with a TimeoutError, which the SDK's standard retry retries.
 */
export const AWS_HTTP_TIMEOUTS = { connectionTimeout: 5_000, socketTimeout: 20_000 } as const;

/** Each call a subsegment of the invocation's trace (a no-op outside Lambda, see `tracer`). */
export const traced = <T>(client: T): T => tracer.captureAWSv3Client(client);

// SDK v3 clients, one per service, built lazily at first use and reused across invocations, each traced.
// One export each, marked pure: a bundle keeps only the clients its function's adapters use (esbuild drops
// the rest, with their SDK packages). Adapters take them as constructor arguments; tests pass their own.

/** DynamoDB as a document client; the base client is traced, the document client sends through it. */
export const dynamoClient = /* @__PURE__ */ once(() =>
  DynamoDBDocumentClient.from(traced(new DynamoDBClient({ requestHandler: AWS_HTTP_TIMEOUTS })), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  }),
);
/**
 * The standard retry mode with more attempts: a site sync sends hundreds of requests, and S3 answers 503
 * SlowDown to bursts on one prefix.
 */
export const s3Client = /* @__PURE__ */ once(() =>
  traced(new S3Client({ maxAttempts: 5, requestHandler: AWS_HTTP_TIMEOUTS })),
);
export const sesClient = /* @__PURE__ */ once(() =>
  traced(new SESv2Client({ requestHandler: AWS_HTTP_TIMEOUTS })),
);
export const sfnClient = /* @__PURE__ */ once(() =>
  traced(new SFNClient({ requestHandler: AWS_HTTP_TIMEOUTS })),
);
export const cloudwatchClient = /* @__PURE__ */ once(() =>
  traced(new CloudWatchClient({ requestHandler: AWS_HTTP_TIMEOUTS })),
);
export const secretsClient = /* @__PURE__ */ once(() =>
  traced(new SecretsManagerClient({ requestHandler: AWS_HTTP_TIMEOUTS })),
);
