const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  // DynamoDB's throttling is a 400
  'ProvisionedThroughputExceededException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  // the SDK's socket timeout
  'TimeoutError',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN']);

/**
 * Whether an AWS SDK error is worth trying again: throttling (429, SlowDown), a 5xx, a timeout or a reset
 * connection. An abort (the step's own time bound) is not.
 */
export const isTransientAwsError = (error: unknown): boolean => {
  if (!(error instanceof Error) || error.name === 'AbortError') return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const code = (error as { code?: unknown }).code;
  return (
    TRANSIENT_NAMES.has(error.name) ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    (typeof code === 'string' && NETWORK_CODES.has(code))
  );
};

/** Whether the service never answered (a timeout, a reset or refused connection), as opposed to an error it sent. */
export const isUnreachedAwsError = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    (error instanceof Error && error.name === 'TimeoutError') ||
    (typeof code === 'string' && NETWORK_CODES.has(code))
  );
};

/** How an SDK error reads in a step's message: its name, the HTTP status when there is one, and its text. */
export const describeAwsError = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return `${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`;
};
