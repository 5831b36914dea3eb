/**
 * Wires ferry to AWS for one process (a Lambda container or a CLI run): SDK clients from the
 * standard configuration (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, region, credential chain),
 * role assumption with caching, and per-account pacing. Built once and reused across invocations.
 */
import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import type { CloudWatchPort } from '../aws/cloudwatch.js';
import type { EventsPort } from '../aws/eventbridge.js';
import { createLambdaPort, createSelfInvoker, type LambdaPort, type SelfInvokePort } from '../aws/lambda.js';
import { createObjectStore, type ObjectStorePort } from '../aws/s3.js';
import { createRoleAssumer, getCallerIdentity, type RoleAssumer } from '../aws/sts.js';
import type { FerryConfig, Target } from '../core/config.js';
import type { StageDeployDeps } from '../engine/deploy-stage.js';
import { paceLambdaPort } from '../engine/paced-lambda.js';
import { createPacerRegistry, DEFAULT_LAMBDA_RATE_LIMITS, type LambdaRateLimits } from '../engine/pacer.js';
import { LAMBDA_RETRY_POLICY } from '../engine/retry.js';
import { retryLambdaPort } from '../engine/retrying-lambda.js';

export interface Runtime extends StageDeployDeps {
  readonly config: FerryConfig;
  readonly store: ObjectStorePort;
  readonly assumer: RoleAssumer;
  /** Where to spool artifacts (Lambda: /tmp). */
  readonly tmpDir?: string;
  /** The ARN ferry runs as, for the ledger (asked once per process). */
  readonly identifyCaller?: () => Promise<string>;
  /** The extra SDK client configuration this runtime's clients were built with, for clients built later. */
  readonly sdk?: SdkOverrides;
  /** CloudWatch in a target's account, as its deploy role (traffic gates). */
  readonly cloudwatchFor: (target: Target, sessionName: string) => Promise<CloudWatchPort>;
  /** ferry's notifications on the tooling account's default bus. */
  readonly events: EventsPort;
  /**
   * Where a stage too large or too long for one invocation continues: ferry's own function
   * (FERRY_SHARD_FUNCTION), invoked asynchronously. Absent outside Lambda (the CLI has no time limit).
   */
  readonly shards?: { readonly functionName: string; readonly invoker: SelfInvokePort };
}

export interface RuntimeOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly rateLimits?: LambdaRateLimits;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /**
   * Extra configuration for every SDK client ferry builds (tests: the sandbox's in-process
   * request handler). Endpoints and credentials still come from the standard configuration.
   */
  readonly sdk?: SdkOverrides;
}

export type SdkOverrides = Pick<LambdaClientConfig, 'requestHandler' | 'maxAttempts'>;
/**
 * ferry retries Lambda itself (jittered, paced, logged); so the SDK makes a single attempt.
 * S3, STS and CodePipeline keep the SDK's standard retries: ferry has no retry layer of its own
 * for them, and what outlasts the SDK's retries is classified transient and left to Lambda's retry.
 */
export const LAMBDA_SDK_ATTEMPTS = 1;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createRuntime(config: FerryConfig, options: RuntimeOptions = {}): Runtime {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;
  // Path-style addressing for S3-compatible endpoints that have no wildcard DNS (ferry's sandbox, moto).
  const forcePathStyle = env.FERRY_S3_FORCE_PATH_STYLE === 'true';
  const store = createObjectStore(new S3Client({ ...options.sdk, region: config.region, forcePathStyle }));
  const stsClient = new STSClient({ ...options.sdk, region: config.region });
  const assumer = createRoleAssumer(stsClient, {
    durationSeconds: config.sessionDurationSeconds,
    now,
  });
  const pacersFor = createPacerRegistry(options.rateLimits ?? DEFAULT_LAMBDA_RATE_LIMITS, { now, sleep });
  // One Lambda port per role, ExternalId and Region, for the latest session only: its client's
  // credentials come from that session (named after its build), and a warm container that deploys
  // build after build replaces the port instead of keeping one client per build. The pacers are
  // per account and Region, shared by every port, so the account's budget stays one budget.
  const ports = new Map<string, { readonly sessionName: string; readonly port: LambdaPort }>();

  const lambdaFor = async (target: Target, sessionName: string): Promise<LambdaPort> => {
    // Assume up front so a trust or ExternalId problem fails fast with the role named.
    const request = {
      roleArn: target.roleArn,
      sessionName,
      ...(target.externalId ? { externalId: target.externalId } : {}),
    };
    await assumer.assume(request);
    const key = `${target.roleArn}|${target.externalId ?? ''}|${target.region}`;
    const cached = ports.get(key);
    if (cached?.sessionName === sessionName) return cached.port;
    // A port of an earlier session is dropped, not destroyed: a deployment still using it finishes.
    // One attempt per call: ferry's retry (engine/retrying-lambda.ts) is the only retry layer for
    // Lambda, paced per account; the SDK's own three attempts under it would multiply every retry by three.
    const client = new LambdaClient({
      ...options.sdk,
      region: target.region,
      credentials: () => assumer.assume(request),
      maxAttempts: options.sdk?.maxAttempts ?? LAMBDA_SDK_ATTEMPTS,
    });
    // Retries outside pacing: every attempt takes a token from the account's budget.
    const port = retryLambdaPort(
      paceLambdaPort(
        createLambdaPort(client, { accountId: target.accountId, region: target.region, roleArn: target.roleArn }),
        pacersFor(target.accountId, target.region),
      ),
      LAMBDA_RETRY_POLICY,
      { sleep, random },
    );
    ports.set(key, { sessionName, port });
    return port;
  };

  const watchers = new Map<string, CloudWatchPort>();
  const cloudwatchFor = async (target: Target, sessionName: string): Promise<CloudWatchPort> => {
    const request = {
      roleArn: target.roleArn,
      sessionName,
      ...(target.externalId ? { externalId: target.externalId } : {}),
    };
    await assumer.assume(request);
    // Loaded on first use: only traffic gates read CloudWatch, so a plain deploy never loads its client.
    const [{ CloudWatchClient }, { createCloudWatchPort }] = await Promise.all([
      import('@aws-sdk/client-cloudwatch'),
      import('../aws/cloudwatch.js'),
    ]);
    const key = `${target.roleArn}|${target.externalId ?? ''}|${target.region}|${sessionName}`;
    let port = watchers.get(key);
    if (port === undefined) {
      const client = new CloudWatchClient({
        ...options.sdk,
        region: target.region,
        credentials: () => assumer.assume(request),
      });
      port = createCloudWatchPort(client, {
        accountId: target.accountId,
        region: target.region,
        roleArn: target.roleArn,
      });
      // One session at a time per role: a warm container does not keep a client per build.
      for (const k of watchers.keys())
        if (k.startsWith(`${target.roleArn}|${target.externalId ?? ''}|${target.region}|`)) watchers.delete(k);
      watchers.set(key, port);
    }
    return port;
  };

  // EventBridge's client loads with ferry's first notification, not with every process. One attempt
  // per call: engine/notify.ts retries on ferry's clock (never multiplied by the SDK's).
  let eventsPort: Promise<EventsPort> | undefined;
  const events: EventsPort = {
    publish: async (entries) => {
      eventsPort ??= Promise.all([import('@aws-sdk/client-eventbridge'), import('../aws/eventbridge.js')]).then(
        ([{ EventBridgeClient }, { createEventsPort }]) =>
          createEventsPort(new EventBridgeClient({ ...options.sdk, region: config.region, maxAttempts: 1 })),
      );
      return (await eventsPort).publish(entries);
    },
  };

  return {
    config,
    store,
    assumer,
    identifyCaller: () => getCallerIdentity(stsClient),
    lambdaFor,
    cloudwatchFor,
    events,
    now,
    sleep,
    random,
    ...(options.sdk ? { sdk: options.sdk } : {}),
    ...(env.FERRY_SHARD_FUNCTION
      ? {
          shards: {
            functionName: env.FERRY_SHARD_FUNCTION,
            invoker: createSelfInvoker(
              new LambdaClient({ ...options.sdk, region: config.region, maxAttempts: options.sdk?.maxAttempts ?? 3 }),
              { accountId: 'self', region: config.region },
            ),
          },
        }
      : {}),
    ...(env.FERRY_TMP_DIR ? { tmpDir: env.FERRY_TMP_DIR } : {}),
  };
}
