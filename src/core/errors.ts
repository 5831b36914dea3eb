/**
 * ferry's typed errors. Every error has a stable `code`, a message that says what to do, the
 * context that matters (app, build, stage, account, function…), and whether retrying can help.
 * Adapters translate AWS SDK exceptions into these and rethrow anything they do not recognise.
 */

export const ErrorKind = {
  Configuration: 'configuration',
  Input: 'input',
  Artifact: 'artifact',
  Access: 'access',
  Conflict: 'conflict',
  Throttled: 'throttled',
  Timeout: 'timeout',
  DeployFailed: 'deploy-failed',
  Order: 'order',
  Internal: 'internal',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

export type ErrorContext = Readonly<Record<string, string | number | boolean | undefined>>;

export interface FerryErrorOptions {
  readonly cause?: unknown;
  readonly context?: ErrorContext;
}

export abstract class FerryError extends Error {
  /** Stable, machine-readable code, e.g. `ARTIFACT_CHECKSUM_MISMATCH`. */
  readonly code: string;
  readonly context: ErrorContext;
  abstract readonly kind: ErrorKind;
  /** Permanent errors are reported and never retried; transient ones may succeed later. */
  abstract readonly transient: boolean;

  constructor(code: string, message: string, options: FerryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = options.context ?? {};
  }

  /** A plain, log-safe view: never includes the cause's raw payload. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, kind: this.kind, message: this.message, context: this.context };
  }
}

/** The configuration is wrong: fix the named field. */
export class ConfigurationError extends FerryError {
  readonly kind = ErrorKind.Configuration;
  readonly transient = false;
}

/** An input (event, object key, CLI argument, pipeline parameter) is malformed or unknown. */
export class InputError extends FerryError {
  readonly kind = ErrorKind.Input;
  readonly transient = false;
}

/** The artifact is unusable: too large, not a zip, unsafe paths, checksum mismatch. */
export class ArtifactError extends FerryError {
  readonly kind = ErrorKind.Artifact;
  readonly transient = false;
}

/** AWS denied access: role assumption, bucket policy, missing permission. */
export class AccessError extends FerryError {
  readonly kind = ErrorKind.Access;
  readonly transient = false;
}

/** Someone else changed the function or alias (RevisionId) or an update is in progress, and retries ran out. */
export class ConflictError extends FerryError {
  readonly kind = ErrorKind.Conflict;
  readonly transient = true;
}

/** Lambda kept throttling and retries ran out. */
export class ThrottledError extends FerryError {
  readonly kind = ErrorKind.Throttled;
  readonly transient = true;
}

/** Waiting for Lambda (update status) or a lease took longer than allowed. */
export class TimeoutError extends FerryError {
  readonly kind = ErrorKind.Timeout;
  readonly transient = true;
}

/** Lambda reported the update Failed, or the published code is not the artifact. */
export class DeployFailedError extends FerryError {
  readonly kind = ErrorKind.DeployFailed;
  readonly transient = false;
}

/** The build is older than the one the stage runs: only an explicit rollback goes backwards. */
export class OrderError extends FerryError {
  readonly kind = ErrorKind.Order;
  readonly transient = false;
}

/** A bug or an AWS answer ferry does not understand. */
export class InternalError extends FerryError {
  readonly kind = ErrorKind.Internal;
  readonly transient = false;
}

export function isFerryError(error: unknown): error is FerryError {
  return error instanceof FerryError;
}

/** True when retrying later may succeed (transient ferry errors, and unknown errors such as network faults). */
export function isTransient(error: unknown): boolean {
  return isFerryError(error) ? error.transient : true;
}

/** A one-line, log-safe description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof FerryError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
