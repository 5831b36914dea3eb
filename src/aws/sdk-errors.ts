/**
 * Every AWS SDK error a command can meet, as a ferry error that says what to do: the table below
 * decides its kind (and so the CLI's exit code). Matched by name and metadata, so any service's
 * exception is covered without importing its client. Errors that are already ferry's pass through.
 *
 * | AWS error (name, or condition)                                  | ferry code              | exit |
 * | --------------------------------------------------------------- | ----------------------- | ---- |
 * | CredentialsProviderError, "Could not load credentials"          | NO_CREDENTIALS          | 4    |
 * | ExpiredToken(Exception), TokenRefreshRequired, RequestExpired   | CREDENTIALS_EXPIRED     | 4    |
 * | InvalidClientTokenId, UnrecognizedClientException,              | CREDENTIALS_INVALID     | 4    |
 * |   InvalidAccessKeyId, SignatureDoesNotMatch, IncompleteSignature |                         |      |
 * | AccessDenied(Exception), AuthorizationError, any other 403      | AWS_ACCESS_DENIED       | 4    |
 * | PermanentRedirect, AuthorizationHeaderMalformed (wrong Region)  | BUCKET_IN_OTHER_REGION  | 2    |
 * | NoSuchBucket                                                    | BUCKET_NOT_FOUND        | 2    |
 * | ResourceNotFoundException, NoSuchKey, NotFound, any other 404   | AWS_NOT_FOUND           | 3    |
 * | ValidationException, InvalidParameterValueException, other 4xx  | AWS_REQUEST_REJECTED    | 3    |
 * | Throttling(Exception), TooManyRequestsException, SlowDown,      | AWS_THROTTLED           | 5    |
 * |   RequestLimitExceeded, 429                                     |                         |      |
 * | ResourceConflictException, 409                                  | AWS_CONFLICT            | 5    |
 * | TimeoutError, RequestTimeout, any 5xx                           | AWS_UNAVAILABLE         | 5    |
 * | ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ECONNRESET, EAI_AGAIN       | ENDPOINT_UNREACHABLE    | 5    |
 * | anything else                                                   | (unchanged)             | 1    |
 */
import {
  AccessError,
  ConfigurationError,
  ConflictError,
  type FerryError,
  InputError,
  isFerryError,
  ThrottledError,
  TimeoutError,
} from '../core/errors.js';

export interface AwsErrorContext {
  /** The Region ferry's own clients use (configuration or --region). */
  readonly region?: string;
  /** The endpoint override in use (AWS_ENDPOINT_URL), to name it when nothing answers. */
  readonly endpoint?: string;
}

interface SdkErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly Code?: string;
  readonly BucketName?: string;
  readonly Bucket?: string;
  readonly Region?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $response?: { readonly headers?: Readonly<Record<string, string | undefined>> };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EHOSTUNREACH']);

export const CREDENTIAL_SOURCES =
  'AWS_PROFILE=<profile> (a profile of ~/.aws/config; for SSO run `aws sso login --profile <profile>` first), ' +
  'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary keys), ' +
  'or the role of the machine you run on (EC2 instance profile, ECS or EKS task role, CodeBuild). ' +
  'Against the local sandbox, source the environment `npm run sandbox` prints';

/** The ferry error for an AWS SDK (or network) error, or undefined when it is not one. */
export function translateAwsError(error: unknown, context: AwsErrorContext = {}): FerryError | undefined {
  if (isFerryError(error) || !(error instanceof Error)) return undefined;
  const e = error as Error & SdkErrorShape;
  const name = e.name === 'Error' ? (e.Code ?? e.code ?? e.name) : e.name;
  const status = e.$metadata?.httpStatusCode;
  const aws = `${name}: ${e.message}`;
  const options = { cause: error, context: { awsError: name, ...(status ? { httpStatus: status } : {}) } };

  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(e.message)) {
    return new AccessError(
      'NO_CREDENTIALS',
      `No AWS credentials found. Provide them with ${CREDENTIAL_SOURCES}.`,
      options,
    );
  }
  if (/^(ExpiredToken(Exception)?|TokenRefreshRequired|RequestExpired)$/.test(name)) {
    return new AccessError(
      'CREDENTIALS_EXPIRED',
      `Your AWS credentials have expired (${aws}). Get fresh ones (\`aws sso login\`, new session keys, or a new \`npm run sandbox\` environment) and run again.`,
      options,
    );
  }
  if (
    /^(InvalidClientTokenId|UnrecognizedClientException|InvalidAccessKeyId|SignatureDoesNotMatch|IncompleteSignature)$/.test(
      name,
    )
  ) {
    return new AccessError(
      'CREDENTIALS_INVALID',
      `AWS does not accept your credentials (${aws}). Check AWS_PROFILE or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, and that they belong to this partition and endpoint.`,
      options,
    );
  }
  // A HEAD has no body to name the error: S3 answers 301 with x-amz-bucket-region only.
  const redirected = status === 301 && e.$response?.headers?.['x-amz-bucket-region'] !== undefined;
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || redirected) {
    const bucket = e.BucketName ?? e.Bucket;
    const bucketRegion =
      e.$response?.headers?.['x-amz-bucket-region'] ?? e.Region ?? /expecting '([a-z0-9-]+)'/.exec(e.message)?.[1];
    return new ConfigurationError(
      'BUCKET_IN_OTHER_REGION',
      bucketRegion
        ? `The bucket${bucket ? ` ${bucket}` : ''} is in Region ${bucketRegion}, not ${context.region ?? 'the one ferry used'}: set \`region: ${bucketRegion}\` in the configuration (or pass --region ${bucketRegion}).`
        : `The bucket${bucket ? ` ${bucket}` : ''} is in another Region than ${context.region ?? 'the one ferry used'} (${aws}): set \`region\` in the configuration to the bucket's Region.`,
      { ...options, context: { ...options.context, bucket, bucketRegion } },
    );
  }
  if (name === 'NoSuchBucket') {
    const bucket = e.BucketName ?? e.Bucket;
    return new ConfigurationError(
      'BUCKET_NOT_FOUND',
      `The bucket ${bucket ?? '(unnamed)'} does not exist. Check \`artifactBucket\` in the configuration, and that your credentials and endpoint are for the account and partition that hold it.`,
      { ...options, context: { ...options.context, bucket } },
    );
  }
  if (/^(AccessDenied(Exception)?|AuthorizationError|UnauthorizedOperation|Forbidden)$/.test(name) || status === 403) {
    return new AccessError(
      'AWS_ACCESS_DENIED',
      `AWS denied the request (${aws}). Your identity needs the permission named there; \`aws sts get-caller-identity\` shows who you are.`,
      options,
    );
  }
  if (
    /^(Throttling(Exception)?|TooManyRequestsException|SlowDown|RequestLimitExceeded|ProvisionedThroughputExceededException)$/.test(
      name,
    ) ||
    status === 429
  ) {
    return new ThrottledError('AWS_THROTTLED', `AWS throttled the request (${aws}); run again in a moment.`, options);
  }
  if (name === 'ResourceConflictException' || status === 409) {
    return new ConflictError(
      'AWS_CONFLICT',
      `Something else is changing the resource (${aws}); run again when it is done.`,
      options,
    );
  }
  if (
    /^(TimeoutError|RequestTimeout|RequestTimeoutException)$/.test(name) ||
    e.$fault === 'server' ||
    (status !== undefined && status >= 500)
  ) {
    return new TimeoutError(
      'AWS_UNAVAILABLE',
      `AWS did not answer in time or failed on its side (${aws}); run again later.`,
      options,
    );
  }
  const code = e.code ?? '';
  if (NETWORK_CODES.has(code) || NETWORK_CODES.has(name)) {
    return new TimeoutError(
      'ENDPOINT_UNREACHABLE',
      `Nothing answers at ${context.endpoint ?? 'the AWS endpoint'} (${code || name}). Check your network${context.endpoint ? ', and AWS_ENDPOINT_URL (is the sandbox still running?)' : ''}.`,
      options,
    );
  }
  if (/^(ResourceNotFoundException|NoSuchKey|NotFound|NoSuchEntity)$/.test(name) || status === 404) {
    return new InputError(
      'AWS_NOT_FOUND',
      `AWS found no such resource (${aws}). Check the names in the configuration and the command.`,
      options,
    );
  }
  if (e.$fault === 'client' || (status !== undefined && status >= 400 && status < 500)) {
    return new InputError('AWS_REQUEST_REJECTED', `AWS rejected the request (${aws}).`, options);
  }
  return undefined;
}
