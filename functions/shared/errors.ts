/**
 * Named errors are the contract with the workflow: their `name` is what the state machine's Retry and
 * Catch match (`ErrorEquals`), locally and on AWS, so never rename one without changing the definition.
 */
export class DomainError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface ConfigIssue {
  file: string;
  line?: number;
  column?: number;
  path: string;
  message: string;
}

/** The configuration file is wrong; every issue names the file, the line, the field and what is expected. */
export class ConfigError extends DomainError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], options?: ErrorOptions) {
    super(
      `invalid configuration:\n${issues
        .map(
          (i) =>
            `  ${i.file}${i.line ? `:${i.line}${i.column ? `:${i.column}` : ''}` : ''}  ${i.path || '(root)'}: ${i.message}`,
        )
        .join('\n')}`,
      options,
    );
    this.issues = issues;
  }
}

/** Input from outside (a webhook, a form, a CLI argument) is malformed. Nothing was changed. */
export class BadRequestError extends DomainError {}
export class SignatureInvalidError extends DomainError {}
export class NotFoundError extends DomainError {}
/** The request is well-formed but conflicts with the current state (already decided, already running). */
export class ConflictError extends DomainError {}
export class ForbiddenError extends DomainError {}

/** A dependency answered 429/5xx, timed out or reset the connection: worth retrying with backoff. */
export class TransientDependencyError extends DomainError {}

export class GatesNotMetError extends DomainError {}
export class ApprovalHeldError extends DomainError {}
export class ApprovalExpiredError extends DomainError {}
export class StepFailedError extends DomainError {}
export class StepKindUnsupportedError extends DomainError {}
export class VerificationFailedError extends DomainError {}
export class AlarmBreachedError extends DomainError {}
export class RollbackRequestedError extends DomainError {}
export class RollbackFailedError extends DomainError {}

/** Error names the workflow definition matches; kept next to the classes so both change together. */
export const ErrorNames = {
  transient: TransientDependencyError.name,
  approvalHeld: ApprovalHeldError.name,
  approvalExpired: ApprovalExpiredError.name,
  alarmBreached: AlarmBreachedError.name,
  rollbackRequested: RollbackRequestedError.name,
  stepFailed: StepFailedError.name,
  verificationFailed: VerificationFailedError.name,
  rollbackFailed: RollbackFailedError.name,
} as const;

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Shorter strings are not credentials, and replacing them would mangle ordinary words of a message. */
const MIN_SECRET_LENGTH = 8;

/**
 * `text` with every secret replaced by `[redacted]`: for messages built from what a dependency answered,
 * which may quote the credential it was sent (a proxy's error page, a verbose 401).
 */
export const redact = (text: string, secrets: readonly string[]): string =>
  secrets
    .filter((s) => s.length >= MIN_SECRET_LENGTH)
    .reduce((redacted, secret) => redacted.split(secret).join('[redacted]'), text);

/** Whether any string reachable from `value` (own properties, causes, 6 levels deep) contains a secret. */
const quotesAny = (
  value: unknown,
  secrets: readonly string[],
  seen = new Set<unknown>(),
  depth = 0,
): boolean => {
  if (typeof value === 'string') return secrets.some((s) => value.includes(s));
  if (!value || typeof value !== 'object' || seen.has(value) || depth > 6) return false;
  seen.add(value);
  const keys = new Set([
    ...Object.keys(value),
    ...(value instanceof Error ? ['message', 'stack', 'cause'] : []),
  ]);
  return [...keys].some((k) => quotesAny((value as Record<string, unknown>)[k], secrets, seen, depth + 1));
};

/**
 * An error to keep as the `cause` of the one a client throws: itself when nothing in it quotes a secret,
 * otherwise a plain error with its name and redacted message only. Loggers (Powertools) write a cause
 * whole, its own properties included, so an HTTP library's copy of the answer must not carry the token.
 */
export const redactedCause = (error: unknown, secrets: readonly string[]): unknown => {
  const real = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH);
  if (!quotesAny(error, real)) return error;
  const safe = new Error(redact(errorMessage(error), real));
  safe.name = error instanceof Error ? error.name : 'Error';
  safe.stack = `${safe.name}: ${safe.message}`;
  return safe;
};
