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
