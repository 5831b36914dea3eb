/**
 * Contracts shared by the sandbox's services. The sandbox is a loopback HTTP server that the
 * unmodified AWS SDK v3 clients talk to (AWS_ENDPOINT_URL); each service module implements one
 * AWS wire protocol over shared state (accounts, IAM, clock, faults, request log).
 *
 * Never imported by ferry's Lambda handlers: the sandbox is its own entry point.
 */

/** An AWS-shaped error. The protocol layer renders it in the service's own error shape. */
export class AwsError extends Error {
  constructor(
    /** AWS error code, e.g. `ResourceConflictException`, `AccessDenied`. */
    readonly code: string,
    /** HTTP status AWS answers with for this code. */
    readonly status: number,
    message: string,
    /** Extra fields some shapes carry (Lambda `Type`, S3 `Resource`…). */
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** Who signed the request, resolved from the SigV4 access key. */
export interface Caller {
  readonly accountId: string;
  /** arn:aws:iam::<acct>:root | arn:aws:iam::<acct>:user/<n> | arn:aws:sts::<acct>:assumed-role/<role>/<session> */
  readonly arn: string;
  /** For assumed roles: the role ARN (arn:aws:iam::<acct>:role/<name>); for root/users: undefined. */
  readonly roleArn?: string;
  readonly accessKeyId: string;
}

/** A request after SigV4 verification, as a service module sees it. */
export interface SandboxRequest {
  readonly method: string;
  /** Path without query string, still percent-encoded as sent. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Body after aws-chunked decoding (if any). */
  readonly body: Buffer;
  readonly caller: Caller;
  /** Region from the SigV4 credential scope. */
  readonly region: string;
  /** Service from the SigV4 credential scope (sts, s3, lambda, codepipeline). */
  readonly service: string;
  /** Trailing headers of an aws-chunked body (e.g. x-amz-checksum-sha256), lower-cased. */
  readonly trailers: Readonly<Record<string, string>>;
  /** The id the server answers with in x-amzn-RequestId / x-amz-request-id (services may echo it in bodies). */
  readonly requestId?: string;
}

export interface SandboxResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
}

/** Decides whether a caller may perform an action on a resource (identity policies of the caller's role). */
export interface Authorizer {
  /** Throws AwsError AccessDenied(Exception) in the service's shape when not allowed. */
  isAllowed(caller: Caller, action: string, resourceArn: string): boolean;
}

/** The sandbox's notion of time, so tests can drive expiry without sleeping. */
export interface Clock {
  now(): number;
}

/**
 * One AWS service behind the sandbox server. The server verifies SigV4, resolves the caller,
 * asks the service for the operation name (for the request log, faults and rate limits), then
 * dispatches. Errors thrown as AwsError are rendered by the service in its protocol's shape.
 */
export interface SandboxService {
  /** SigV4 signing name: 'sts' | 's3' | 'lambda' | 'codepipeline'. */
  readonly signingName: string;
  /** The AWS operation name, e.g. 'UpdateFunctionCode'; 'Unknown' when no route matches. */
  operation(req: SandboxRequest): string;
  handle(req: SandboxRequest, operation: string): Promise<SandboxResponse>;
  /** Renders an AwsError in this service's wire shape (REST-JSON, Query XML, S3 XML, JSON 1.1). */
  renderError(error: AwsError, req: SandboxRequest): SandboxResponse;
}

/** Reads an S3 object on behalf of a caller, enforcing the caller's identity policy and the bucket policy. */
export type S3ObjectReader = (
  caller: Caller,
  input: { bucket: string; key: string; versionId?: string; region: string },
) => Promise<Buffer>;

// ---- Lambda service contract (implemented in lambda/) ----

export interface LambdaSettings {
  /** How long an update stays InProgress before turning Successful (ms). */
  updateDelayMs: number;
  /** When true, the next code updates end Failed (count down by one per update; 0 = off). */
  failNextUpdates: number;
  /** LastUpdateStatusReason used for failed updates. */
  failureReason: string;
  /** Enforce the documented per-account-and-Region rate limits (15/s control plane, 100/s GetFunction). */
  rateLimits: boolean;
  /** Run the zip's Node.js handler on Invoke (else only record which version served). */
  executeHandlers: boolean;
  /**
   * How a weighted alias picks a version: `random` (default) as AWS, each call independently with
   * the weight's probability; `even`, deterministic, so that after n calls through an alias the
   * additional version has served round(n × weight) of them.
   */
  weightedRouting?: 'random' | 'even';
  /** Seeds the `random` picks (a reproducible sequence); undefined uses Math.random. */
  routingSeed?: number;
  /**
   * `run` (default): an `Event` invocation runs the handler in the background when executeHandlers
   * is on. `queue`: it is accepted (202) and kept with its payload, not run, until a test or a
   * benchmark takes it (`lambda.takeAsyncInvocations()`) and delivers it to the handler it means:
   * the sandbox's stand-in for Lambda's internal event queue, for functions whose code is the
   * caller's own (a self-invoking function).
   */
  asyncInvocations?: 'run' | 'queue';
}

/** One CloudWatch datapoint, as a service publishes it (Lambda's invocation metrics). */
export interface MetricDatapoint {
  readonly accountId: string;
  readonly region: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  readonly unit?: string;
  /** Epoch ms on the sandbox clock. */
  readonly at: number;
}

export interface MetricSink {
  record(point: MetricDatapoint): void;
}

export interface SeedFunctionInput {
  accountId: string;
  region: string;
  functionName: string;
  /** Zip bytes for the initial code. */
  zip: Buffer;
  runtime?: string;
  handler?: string;
  roleArn?: string;
  /** DeadLetterConfig.TargetArn (an SQS queue or SNS topic ARN). */
  deadLetterTargetArn?: string;
  /** Publish version 1 and point these aliases at it. */
  aliases?: string[];
}

export interface LambdaServiceDeps {
  readonly clock: Clock;
  readonly authorizer: Authorizer;
  readonly readS3Object: S3ObjectReader;
  readonly settings: LambdaSettings;
  /** Where Invoke publishes AWS/Lambda metrics (the sandbox's CloudWatch); none in unit harnesses. */
  readonly metrics?: MetricSink;
}

/** What the Lambda module exports as `createLambdaService(deps)`. */
export interface LambdaSandbox extends SandboxService {
  seedFunction(input: SeedFunctionInput): void;
  /** A read-only snapshot for tests and the demo: versions and aliases of one function. */
  describeFunction(accountId: string, region: string, functionName: string): FunctionSnapshot | undefined;
  /** Every function in an account and region. */
  listFunctionNames(accountId: string, region: string): string[];
  /** Invocations recorded so far (which version served which call). */
  invocations(): ReadonlyArray<{
    accountId: string;
    functionName: string;
    qualifier: string;
    version: string;
    at: number;
  }>;
  /**
   * Removes and returns the `Event` invocations queued so far (settings.asyncInvocations `queue`),
   * oldest first, each with its parsed payload.
   */
  takeAsyncInvocations(): AsyncInvocation[];
}

/** An `Event` invocation Lambda accepted and has not delivered yet. */
export interface AsyncInvocation {
  readonly accountId: string;
  readonly region: string;
  readonly functionName: string;
  readonly qualifier: string;
  readonly version: string;
  /** The request body, parsed as JSON. */
  readonly payload: unknown;
  /** Sandbox clock when Invoke accepted it. */
  readonly at: number;
}

export interface FunctionSnapshot {
  readonly functionName: string;
  readonly functionArn: string;
  readonly latest: { codeSha256: string; revisionId: string; lastUpdateStatus: string; state: string };
  readonly versions: ReadonlyArray<{ version: string; codeSha256: string; description: string }>;
  readonly aliases: ReadonlyArray<{ name: string; functionVersion: string; routing: Readonly<Record<string, number>> }>;
}
