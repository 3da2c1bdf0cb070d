import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { RouteMetrics } from './agent-metrics.js';
import { errorMessage } from './errors.js';
import { toHttpError } from './http-errors.js';
import { logger, metrics, telemetry, tracer } from './powertools.js';

/**
 * Every function: the metrics flushed after each invocation, success or error (logMetrics, with a
 * ColdStart metric), a trace segment around the handler (its response is not recorded: task states and
 * pages may carry tokens), and the Lambda context in each log line, keys reset between invocations.
 * logMetrics comes first so that its flush runs after every other middleware's `after`/`onError`.
 */
export const baseBundle = <E, R>(handler: (event: E, context: Context) => Promise<R>) =>
  middy(handler)
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }));

/**
 * The Lambda for one Task state: the execution state (or callback payload) in, the core's result out. The
 * core parses its input; a thrown named error reaches Step Functions with its name as the error type, which
 * the definition's Retry and Catch match. `null` for a void core (what `payloadResponseOnly` hands on; the
 * Tasks that return nothing discard their result). `ports` is the handler's `awsPorts(…)`: it must hold
 * every port the core takes.
 */
export const taskHandler = <P>(core: (input: unknown, ports: P) => Promise<unknown>, ports: () => P) =>
  baseBundle(async (event: unknown): Promise<unknown> => (await core(event, ports())) ?? null);

/** A scheduled or event-driven entry (poll, sweep, alarm event): logs the summary it returns. */
export const eventHandler = <P, R>(
  name: string,
  run: (event: unknown, ports: NoInfer<P>) => Promise<R>,
  ports: () => P,
) =>
  baseBundle(async (event: unknown) => {
    const result = await run(event, ports());
    logger.info(`${name} done`, { result });
    return result;
  });

export type HttpEvent = APIGatewayProxyEvent;
export type HttpResult = APIGatewayProxyResult;

const SECURITY_HEADERS = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

export const jsonResult = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...SECURITY_HEADERS },
  body: JSON.stringify(body),
});

export const htmlResult = (statusCode: number, html: string): HttpResult => ({
  statusCode,
  headers: {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    'x-frame-options': 'DENY',
    ...SECURITY_HEADERS,
  },
  body: html,
});

/** The body exactly as sent (API Gateway base64-encodes binary media types). */
export const rawBody = (event: HttpEvent): string =>
  event.body === null || event.body === undefined
    ? ''
    : event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body;

/** Header names in lower case, single values. */
export const lowerCaseHeaders = (event: HttpEvent): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? undefined]));

/**
 * API Gateway handlers: errors become answers through the one error→status table (`toHttpError`:
 * bad input 400, bad signature 403, unknown 404, conflicts 409, anything else 500 with a generic message;
 * never 401 or 410, which make ClickUp suspend the webhook). With `route`, every answer counts as a request
 * of the route, and a 5xx answer (returned or mapped from an error) as a server error too.
 */
export const httpHandler = (
  handler: (event: HttpEvent, context: Context) => Promise<HttpResult>,
  route?: RouteMetrics,
): MiddyfiedHandler<HttpEvent, HttpResult, Error, Context> => {
  const count = (response: HttpResult | undefined) => {
    if (!route) return;
    telemetry.count(route.requests);
    if ((response?.statusCode ?? 500) >= 500) telemetry.count(route.serverErrors);
  };
  return baseBundle(handler).use({
    after: async (request) => count(request.response),
    onError: async (request) => {
      const { statusCode, message } = toHttpError(request.error);
      if (statusCode >= 500) logger.error('request failed', { error: errorMessage(request.error) });
      else logger.warn('request refused', { statusCode, error: message });
      request.response = jsonResult(statusCode, { error: message });
      count(request.response);
    },
  });
};
