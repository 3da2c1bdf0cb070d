import { ZodError } from 'zod';

/**
 * The one table from error names to HTTP answers, for API Gateway handlers and the local server alike.
 * Never 401 or 410: ClickUp suspends a webhook that answers either.
 */
const STATUS_BY_NAME: Record<string, number> = {
  BadRequestError: 400,
  ConfigError: 400,
  ZodError: 400,
  SignatureInvalidError: 403,
  ForbiddenError: 403,
  NotFoundError: 404,
  ConflictError: 409,
  TaskNotWaitingError: 409,
  TransientDependencyError: 503,
};

export interface HttpError {
  statusCode: number;
  /** safe to show: the error's own message below 500, a generic one otherwise */
  message: string;
}

export const toHttpError = (error: unknown): HttpError => {
  const name = error instanceof ZodError ? 'ZodError' : error instanceof Error ? error.name : 'Error';
  const statusCode = STATUS_BY_NAME[name] ?? 500;
  if (statusCode >= 500)
    return { statusCode, message: 'internal error; the request was not processed (see the agent logs)' };
  const message =
    error instanceof ZodError
      ? error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')
      : (error as Error).message;
  return { statusCode, message };
};
