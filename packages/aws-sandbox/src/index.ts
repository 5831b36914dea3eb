/**
 * The local AWS sandbox: a loopback server that unmodified SDK v3 clients reach through
 * `AWS_ENDPOINT_URL` (or `clientConfig()`), speaking STS, S3, Lambda and CodePipeline with the
 * behaviour their documentation describes. S3 clients need `forcePathStyle: true` against it,
 * which `clientConfig()` sets. Never bundled into ferry's handlers.
 */
import { type AccountKeys, AccountStore, type CreatedAccount, type SandboxCredentials } from './accounts.js';
import { SandboxClock } from './clock.js';
import { AlarmStore } from './cloudwatch/alarm-store.js';
import { type CloudWatchSandbox, createCloudWatchSandbox } from './cloudwatch/cloudwatch-sandbox.js';
import { createCloudWatchService } from './cloudwatch/cloudwatch-service.js';
import { MetricStore } from './cloudwatch/metric-store.js';
import { createCodePipelineService } from './codepipeline/codepipeline-service.js';
import { type CodePipelineJobEvent, type CreateJobInput, type JobResult, JobStore } from './codepipeline/jobs.js';
import type { LambdaSandbox, LambdaSettings, SandboxService } from './contracts.js';
import { type CapturedEvent, type CapturedEventFilter, EventCapture } from './eventbridge/event-capture.js';
import { createEventBridgeService } from './eventbridge/eventbridge-service.js';
import { FaultRegistry } from './faults.js';
import { type CreateRoleInput, createAuthorizer, IamStore } from './iam.js';
import { createInProcessHandler, type InProcessRequestHandler } from './in-process.js';
import { InterceptorSet, type RequestInterceptor } from './intercept.js';
import { createLambdaService } from './lambda/index.js';
import { type PolicyDocument, parsePolicy } from './policy.js';
import { type RequestFilter, RequestLog, type RequestLogEntry } from './request-log.js';
import {
  type DeadLetter,
  type DeliveryRecord,
  type EventFaults,
  type ObjectCreatedFilter,
  S3EventBus,
  type S3EventHandler,
} from './s3/event-bus.js';
import { SequencerSource } from './s3/event-record.js';
import type { S3Context } from './s3/s3-context.js';
import { createS3ObjectReader, createS3Service } from './s3/s3-service.js';
import { isValidBucketName, S3Store, VersioningStatus } from './s3/s3-store.js';
import { answerRequest, type ServerDeps, startServer } from './server.js';
import { type IssueRoleCredentialsInput, issueRoleCredentials } from './sts/role-session.js';
import { createStsService } from './sts/sts-service.js';

export type { AccountKeys, CreatedAccount, SandboxCredentials } from './accounts.js';
export { type EvalContext, evaluate, type Json, parseTemplate, resolveTemplateParameters } from './cloudformation.js';
export type { AlarmState } from './cloudwatch/alarm-store.js';
export type {
  AlarmSnapshot,
  CloudWatchSandbox,
  SeedAlarmStateInput,
  SeedDatapointInput,
  SeedMetricAlarmInput,
} from './cloudwatch/cloudwatch-sandbox.js';
export type { Datapoint, DatapointFilter } from './cloudwatch/metric-store.js';
export type { CodePipelineJobEvent, CreateJobInput, JobResult } from './codepipeline/jobs.js';
export type { AsyncInvocation, FunctionSnapshot, LambdaSandbox, LambdaSettings } from './contracts.js';
export type { CapturedEvent, CapturedEventFilter } from './eventbridge/event-capture.js';
export type { FaultRule } from './faults.js';
export { makeFailingFunctionZip, makeFunctionZip } from './function-zip.js';
export { InProcessConnectionError, type InProcessRequestHandler } from './in-process.js';
export type { InterceptedRequest, RequestInterceptor } from './intercept.js';
export { Decision, evaluateIdentityPolicies, type PolicyDocument, type PolicyRequest } from './policy.js';
export type { RequestFilter, RequestLogEntry } from './request-log.js';
export type { DeadLetter, DeliveryRecord, EventFaults, ObjectCreatedFilter, S3EventHandler } from './s3/event-bus.js';
export type { S3Event, S3EventRecord } from './s3/event-record.js';
export { applySeed, buildSourceZip, readSeedFile, resolveSeedDir, type SeedFile } from './seed.js';
export type { IssueRoleCredentialsInput } from './sts/role-session.js';

export interface SandboxOptions {
  /**
   * 'http' (default): a loopback server, for clients in any process. 'in-process': no server;
   * clients built from `clientConfig()` carry a request handler that hands each request to the
   * sandbox directly (same signing, authorization and wire shapes, no socket), for fast unit tests.
   */
  transport?: 'http' | 'in-process';
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1: loopback only. */
  host?: string;
  /** Region for buckets and clientConfig() when none is given. Default eu-west-1. */
  defaultRegion?: string;
  /** Overrides of the Lambda service's behaviour (update delay, rate limits…). */
  lambda?: Partial<LambdaSettings>;
  /**
   * Default: real time, moved forward by clock.advance(). With `startAt` (epoch ms) the clock is
   * virtual: it starts there and moves only when advanced (tests that share it with their code).
   */
  clock?: { startAt: number };
  /** Called on `POST /_sandbox/shutdown` (the standalone CLI stops itself); without it that route answers 405. */
  onShutdownRequest?: () => void;
}

export interface CreateBucketInput {
  accountId: string;
  name: string;
  region?: string;
  /** true or 'Enabled' turns versioning on; 'Suspended' as after turning it off. */
  versioning?: boolean | 'Enabled' | 'Suspended';
  policy?: PolicyDocument | string;
}

/** What SDK v3 clients need to talk to the sandbox: `new S3Client(sandbox.clientConfig(creds))`. */
export interface SdkClientConfig {
  endpoint: string;
  region: string;
  credentials: SandboxCredentials;
  forcePathStyle: true;
  /** In-process transport only: the handler that carries requests to the sandbox. */
  requestHandler?: InProcessRequestHandler;
}

export interface ObjectSnapshot {
  readonly key: string;
  readonly versionId: string;
  readonly body: Buffer;
  /** Quoted hex MD5, as S3 returns it. */
  readonly etag: string;
  /** User metadata, names without the x-amz-meta- prefix (as the SDK's Metadata). */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface Sandbox {
  /** http://127.0.0.1:<port>; in process, a placeholder host that no socket ever reaches. */
  readonly endpoint: string;
  /** 0 in process. */
  readonly port: number;
  readonly transport: 'http' | 'in-process';
  readonly clock: SandboxClock;
  readonly faults: FaultRegistry;
  readonly lambda: LambdaSandbox;
  /** Live settings of the Lambda service; change them between calls. */
  readonly lambdaSettings: LambdaSettings;
  /** Read-only snapshots of S3 objects, as lambda.describeFunction is for functions (no authorization). */
  readonly s3: {
    /** The current version of a key (a version, if given); undefined when absent or deleted. */
    describeObject(bucket: string, key: string, versionId?: string): ObjectSnapshot | undefined;
    /** Keys under `prefix` whose current version is not a delete marker, sorted. */
    listObjectKeys(bucket: string, prefix?: string): string[];
  };
  readonly codepipeline: {
    createJob(input: CreateJobInput): CodePipelineJobEvent;
    getJobResult(jobId: string): JobResult | undefined;
  };
  /** CloudWatch alarms and metrics in process: seed alarms, set states, read datapoints. */
  readonly cloudwatch: CloudWatchSandbox;
  /** EventBridge: the events PutEvents accepted (the sandbox captures them; it has no rules). */
  readonly eventbridge: {
    captured(filter?: CapturedEventFilter): CapturedEvent[];
    clear(): void;
  };
  /** S3 event notifications (deliveries to subscribers), not EventBridge. */
  readonly events: {
    setFaults(faults: Partial<EventFaults>): void;
    /** Starts delivering events held by the `hold` fault (or an incomplete reorder batch); drainEvents() also does. */
    release(): void;
    deadLetters(): readonly DeadLetter[];
    deliveries(): readonly DeliveryRecord[];
  };
  createAccount(accountId?: string, keys?: AccountKeys): CreatedAccount;
  createRole(input: CreateRoleInput): { accountId: string; roleName: string; roleArn: string };
  /**
   * Temporary credentials for a session of `roleArn`, minted directly as an AWS service does for
   * the role it runs as (a Lambda function's execution role): no AssumeRole call, no trust policy.
   * They act as `arn:aws:sts::<acct>:assumed-role/<role>/<sessionName>` and expire after
   * `durationSeconds` (default 3600, at most the role's MaxSessionDuration) of sandbox time.
   * AssumeRole itself refuses root credentials, as AWS does.
   */
  issueRoleCredentials(input: IssueRoleCredentialsInput): SandboxCredentials;
  createBucket(input: CreateBucketInput): void;
  putBucketPolicy(bucket: string, policy: PolicyDocument | string): void;
  /** Delivers ObjectCreated events for keys under `prefix` ending in `suffix`; returns an unsubscribe. */
  subscribeToObjectCreated(bucket: string, filter: ObjectCreatedFilter, handler: S3EventHandler): () => void;
  /** Resolves once every pending event delivery (with retries) has settled. */
  drainEvents(): Promise<void>;
  /**
   * Runs `interceptor` on every authenticated request before it is dispatched (both transports):
   * it may wait, to interleave writers, or throw, to drop the connection. Returns a remover.
   */
  intercept(interceptor: RequestInterceptor): () => void;
  requests(filter?: RequestFilter): RequestLogEntry[];
  countRequests(filter?: RequestFilter): number;
  clientConfig(credentials: SandboxCredentials, region?: string): SdkClientConfig;
  stop(): Promise<void>;
}

export const DEFAULT_LAMBDA_SETTINGS: LambdaSettings = {
  updateDelayMs: 200,
  failNextUpdates: 0,
  failureReason: 'The sandbox was told to fail this update.',
  rateLimits: true,
  executeHandlers: true,
  weightedRouting: 'random',
};

/** The endpoint in-process clients are configured with: it names the sandbox, no socket is opened. */
export const IN_PROCESS_ENDPOINT = 'http://aws-sandbox.in-process';

/** Starts a sandbox with no accounts; seed it with createAccount, createRole, createBucket, lambda.seedFunction. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const defaultRegion = options.defaultRegion ?? 'eu-west-1';
  const clock = new SandboxClock(options.clock?.startAt);
  const accounts = new AccountStore();
  const iam = new IamStore(accounts);
  const authorizer = createAuthorizer(iam);
  const faults = new FaultRegistry();
  const log = new RequestLog();
  const events = new S3EventBus();
  const s3: S3Context = { store: new S3Store(), iam, clock, events, sequencer: new SequencerSource() };
  const jobs = new JobStore(accounts, clock);
  const lambdaSettings: LambdaSettings = { ...DEFAULT_LAMBDA_SETTINGS, ...options.lambda };
  const alarms = new AlarmStore();
  const metrics = new MetricStore();
  const capture = new EventCapture();
  const lambda = createLambdaService({
    clock,
    authorizer,
    readS3Object: createS3ObjectReader(s3),
    settings: lambdaSettings,
    metrics,
  });
  const cloudwatch = createCloudWatchSandbox({ alarms, metrics, clock, defaultRegion });
  const eventbridge = {
    captured: (filter?: CapturedEventFilter) => capture.list(filter),
    clear: () => capture.clear(),
  };
  const services = new Map<string, SandboxService>(
    [
      createStsService({ accounts, iam, clock }),
      createS3Service(s3),
      lambda,
      createCodePipelineService({ jobs, authorizer }),
      createCloudWatchService({ alarms, metrics, authorizer, clock }),
      createEventBridgeService({ capture, authorizer, clock }),
    ].map((service) => [service.signingName, service]),
  );
  const mintRoleCredentials = (input: IssueRoleCredentialsInput) =>
    issueRoleCredentials({ accounts, iam, clock }, input);
  const interceptors = new InterceptorSet();
  const serverDeps: ServerDeps = {
    services,
    accounts,
    clock,
    faults,
    log,
    interceptors,
    issueRoleCredentials: mintRoleCredentials,
    cloudwatch,
    eventbridge,
    takeAsyncInvocations: () => lambda.takeAsyncInvocations(),
    advanceClock: (ms) => {
      clock.advance(ms);
      return clock.now();
    },
    ...(options.onShutdownRequest ? { requestShutdown: options.onShutdownRequest } : {}),
  };
  const transport = options.transport ?? 'http';
  const server =
    transport === 'http' ? await startServer(serverDeps, options.port ?? 0, options.host ?? '127.0.0.1') : undefined;
  const endpoint = server ? `http://${options.host ?? '127.0.0.1'}:${server.port}` : IN_PROCESS_ENDPOINT;
  const requestHandler = server ? undefined : createInProcessHandler((raw) => answerRequest(serverDeps, raw));

  return {
    endpoint,
    port: server?.port ?? 0,
    transport,
    clock,
    faults,
    lambda,
    lambdaSettings,
    cloudwatch,
    eventbridge,
    s3: {
      describeObject(bucket, key, versionId) {
        const found = s3.store.findBucket(bucket);
        if (!found) return undefined;
        const stored =
          versionId === undefined ? s3.store.findCurrent(found, key) : s3.store.findVersion(found, key, versionId);
        if (!stored || stored.isDeleteMarker) return undefined;
        return {
          key: stored.key,
          versionId: stored.versionId,
          body: Buffer.from(stored.body),
          etag: stored.etag,
          // As the SDK presents it: names without the x-amz-meta- prefix.
          metadata: Object.fromEntries(
            Object.entries(stored.metadata).map(([name, value]) => [name.replace(/^x-amz-meta-/, ''), value]),
          ),
        };
      },
      listObjectKeys(bucket, prefix = '') {
        const found = s3.store.findBucket(bucket);
        if (!found) return [];
        return [...found.objects.keys()]
          .filter((key) => key.startsWith(prefix) && s3.store.findCurrent(found, key)?.isDeleteMarker === false)
          .sort();
      },
    },
    codepipeline: {
      createJob: (input) => jobs.createJob(input),
      getJobResult: (jobId) => jobs.getJobResult(jobId),
    },
    events: {
      setFaults: (settings) => events.setFaults(settings),
      release: () => events.release(),
      deadLetters: () => events.deadLetters(),
      deliveries: () => events.deliveries(),
    },
    createAccount: (accountId, keys) => accounts.createAccount(accountId, keys),
    createRole(input) {
      const role = iam.createRole(input);
      return { accountId: role.accountId, roleName: role.roleName, roleArn: role.roleArn };
    },
    issueRoleCredentials: mintRoleCredentials,
    createBucket: (input) => createBucketDirectly(s3, accounts, { ...input, region: input.region ?? defaultRegion }),
    putBucketPolicy(bucket, policy) {
      const found = s3.store.findBucket(bucket);
      if (!found) throw new Error(`unknown bucket ${bucket}`);
      found.policy = {
        document: parsePolicy(policy, 'MalformedPolicy'),
        text: typeof policy === 'string' ? policy : JSON.stringify(policy),
      };
    },
    subscribeToObjectCreated: (bucket, filter, handler) => events.subscribe(bucket, filter, handler),
    drainEvents: () => events.drain(),
    intercept: (interceptor) => interceptors.add(interceptor),
    requests: (filter) => log.list(filter),
    countRequests: (filter) => log.count(filter),
    clientConfig: (credentials, region) => ({
      endpoint,
      region: region ?? defaultRegion,
      credentials,
      forcePathStyle: true,
      ...(requestHandler ? { requestHandler } : {}),
    }),
    async stop() {
      await events.drain();
      await server?.close();
      await (lambda as { close?: () => Promise<void> }).close?.();
    },
  };
}

/** Seeding path: the bucket exists as if its owner created it, without going through HTTP. */
function createBucketDirectly(
  s3: S3Context,
  accounts: AccountStore,
  input: CreateBucketInput & { region: string },
): void {
  if (!accounts.hasAccount(input.accountId)) throw new Error(`unknown account ${input.accountId}`);
  if (!isValidBucketName(input.name)) throw new Error(`invalid bucket name ${input.name}`);
  if (s3.store.findBucket(input.name)) throw new Error(`bucket ${input.name} already exists`);
  const bucket = s3.store.addBucket({
    name: input.name,
    accountId: input.accountId,
    region: input.region,
    now: s3.clock.now(),
  });
  if (input.versioning === true || input.versioning === 'Enabled') bucket.versioning = VersioningStatus.Enabled;
  if (input.versioning === 'Suspended') bucket.versioning = VersioningStatus.Suspended;
  if (input.policy !== undefined) {
    bucket.policy = {
      document: parsePolicy(input.policy, 'MalformedPolicy'),
      text: typeof input.policy === 'string' ? input.policy : JSON.stringify(input.policy),
    };
  }
}
