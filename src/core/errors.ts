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
  Unavailable: 'unavailable',
  DeployFailed: 'deploy-failed',
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

/** The AWS service failed on its side (5xx) or the connection broke: the same call can succeed moments later. */
export class ServiceUnavailableError extends FerryError {
  readonly kind = ErrorKind.Unavailable;
  readonly transient = true;
}

/** Lambda reported the update Failed, or the published code is not the artifact. */
export class DeployFailedError extends FerryError {
  readonly kind = ErrorKind.DeployFailed;
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

/**
 * True when retrying later may succeed: a transient ferry error, or an AWS SDK error the SDK itself
 * classifies as retryable (see isTransientAwsError). Anything else, a TypeError from a bug
 * included, is permanent: retrying it would only repeat it.
 */
export function isTransient(error: unknown): boolean {
  return isFerryError(error) ? error.transient : isTransientAwsError(error);
}

/** The fields the AWS SDK (v3) puts on every error it throws, read without importing the SDK. */
interface AwsSdkErrorFields {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

/**
 * The SDK retry strategy's own lists (@smithy/core, retry/service-error-classification), mirrored
 * here because src/core imports no SDK code. They cover services that do not mark an error
 * `$retryable` in their model.
 */
const THROTTLING_NAMES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
/** Node socket errors the SDK retries: the request may never have reached AWS. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** True for an AWS throttling answer: the SDK's `$retryable.throttling`, HTTP 429, or a throttling error name. */
export function isThrottlingAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as AwsSdkErrorFields;
  const retryable = e.$retryable as { throttling?: unknown } | undefined;
  return (
    retryable?.throttling === true ||
    e.$metadata?.httpStatusCode === 429 ||
    (typeof e.name === 'string' && THROTTLING_NAMES.has(e.name))
  );
}

/**
 * The SDK's own classification: `$retryable` (set from the service model), a server fault
 * (`$fault: 'server'`, HTTP 5xx), throttling, a timeout, or a broken connection. An error with
 * none of these (a 4xx the model does not mark retryable, or no AWS error at all) is permanent.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as AwsSdkErrorFields;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  if (isThrottlingAwsError(error)) return true;
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500 && status <= 599;
  return e.$fault === 'server';
}

/** A one-line, log-safe description of any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof FerryError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
