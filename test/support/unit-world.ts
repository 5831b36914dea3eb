/**
 * A ferry world for unit-level tests: the same sandbox and world as the integration tests (deploy
 * roles from the real template, functions with their alias at version 1, the artifact bucket), on
 * the sandbox's in-process transport, with ferry's real adapters and a virtual clock.
 *
 * Time: one virtual clock, for ferry and the sandbox: the sandbox's, started at a fixed instant and
 * still until moved, so what the sandbox stamps (Lambda's metrics of an Invoke, alarm state changes,
 * captured events) is on ferry's time line. Ferry's `now()` reads it and never moves it;
 * ferry's `sleep(ms)` wakes at now + ms, and when the sleepers are all that is left to run the clock
 * jumps to the earliest wake-up (concurrent sleeps overlap, as in real time). So a Lambda update
 * settles while ferry polls and a lease wait ends when its bound passes, without real waiting.
 * `advance(ms)` moves the clock as time passing between two calls would. Lease renewals run only
 * when a test calls renewLeases(). The SDK caches credentials on the wall clock, not this one: a
 * test that moves the clock past a role session's duration (sessionDurationSeconds, default 900)
 * must configure a longer session, or the sandbox rightly answers ExpiredTokenException.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { FunctionSnapshot, LambdaSettings } from '@ferry/aws-sandbox';
import type { Target } from '../../src/core/config.js';
import { parseConfig } from '../../src/core/config.js';
import type { LeaseDeps } from '../../src/engine/lease.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/create-runtime.js';
import { type FerryWorld, startFerryWorld, TOOLING_ACCOUNT_ID } from './sandbox-harness.js';
import { createSeededRandom } from './seeded-random.js';

export interface UnitWorld {
  readonly world: FerryWorld;
  /** Carries `repeatEvery`, which withLease picks up from the runtime it is given. */
  readonly runtime: Runtime & Required<Pick<LeaseDeps, 'repeatEvery'>>;
  /** Another runtime on the same world and clock, as a fresh Lambda container would build (nothing cached). */
  newRuntime(options?: Pick<RuntimeOptions, 'env'> & { config?: unknown }): Runtime;
  /** Moves the virtual clock (ferry's and the sandbox's) forward. */
  advance(ms: number): void;
  /** Runs one renewal of every lease held through withLease right now, and waits for them. */
  renewLeases(): Promise<void>;
  /** Renewal schedules started and not yet stopped, with their period. */
  readonly renewals: ReadonlySet<{ readonly everyMs: number }>;
  /** A JSON document in ferry's bucket, parsed (undefined when absent). */
  readJson<T>(key: string): T | undefined;
  /** The current ETag of an object in ferry's bucket. */
  etagOf(key: string): string | undefined;
  /** Every JSON document under a prefix of ferry's bucket, in key order. */
  docs<T>(prefix: string): T[];
  /** Writes an object into ferry's bucket as another writer would: the operator, a ledger writer (world.operator). */
  putObject(key: string, body: string | Buffer): Promise<{ versionId?: string }>;
  /** Uploads an artifact as CI does and returns where it is. */
  putArtifact(app: string, build: string, zip: Buffer): Promise<{ key: string; versionId: string }>;
  /** A function as the sandbox holds it (versions, aliases, $LATEST). */
  fn(target: Pick<Target, 'accountId' | 'region' | 'functionName'>): FunctionSnapshot;
  /** The version an alias of a target points at. */
  aliasVersion(target: Pick<Target, 'accountId' | 'region' | 'functionName' | 'alias'>): string | undefined;
  /** A Lambda client of the target's account root: someone other than ferry changing the function. */
  lambdaAs(accountId: string): LambdaClient;
  stop(): Promise<void>;
}

export interface UnitWorldOptions {
  readonly lambda?: Partial<LambdaSettings>;
  /** Seed of the runtime's random source (backoff jitter). */
  readonly seed?: number;
  /** Default false: functions start with $LATEST only, so ferry's first deploy publishes version 1 and creates the alias. */
  readonly seedAliases?: boolean;
}

/** Where the virtual clock starts. */
const START = Date.parse('2026-11-23T08:00:00.000Z');

/** Lambda updates take a virtual second to settle, as AWS's take a moment. */
const UPDATE_DELAY_MS = 1_000;

export async function startUnitWorld(config: unknown, options: UnitWorldOptions = {}): Promise<UnitWorld> {
  const world = await startFerryWorld({
    config,
    transport: 'in-process',
    clock: { startAt: START },
    seedAliases: options.seedAliases ?? false,
    lambda: { updateDelayMs: UPDATE_DELAY_MS, executeHandlers: false, ...options.lambda },
  });
  const { sandbox } = world;
  const bucket = world.config.artifactBucket;
  const now = () => sandbox.clock.now();
  const advance = (ms: number) => sandbox.clock.advance(ms);
  const sleep = createVirtualSleep(now, advance);
  const renewals = new Set<{ readonly everyMs: number; readonly tick: () => Promise<void> }>();
  const random = createSeededRandom(options.seed ?? 1);
  const clockOptions: RuntimeOptions = {
    now,
    sleep,
    random,
  };
  const runtime: UnitWorld['runtime'] = {
    ...world.createRuntime(clockOptions),
    repeatEvery: (tick, everyMs) => {
      const schedule = { everyMs, tick };
      renewals.add(schedule);
      return () => renewals.delete(schedule);
    },
  };
  const readText = (key: string) => sandbox.s3.describeObject(bucket, key)?.body.toString('utf8');
  const clients: LambdaClient[] = [];
  return {
    world,
    runtime,
    newRuntime: ({ config: other, ...rest } = {}) =>
      other === undefined
        ? world.createRuntime({ ...clockOptions, ...rest })
        : createRuntime(parseConfig(other), { env: world.env, sdk: world.sdk, ...clockOptions, ...rest }),
    advance,
    renewLeases: async () => {
      await Promise.all([...renewals].map((r) => r.tick()));
    },
    renewals,
    readJson<T>(key: string) {
      const text = readText(key);
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    etagOf: (key) => sandbox.s3.describeObject(bucket, key)?.etag,
    docs<T>(prefix: string) {
      return sandbox.s3.listObjectKeys(bucket, prefix).map((key) => JSON.parse(readText(key) ?? 'null') as T);
    },
    async putObject(key, body) {
      // As the operator: the bucket policy lets only ferry and the ledger writers write ledger/ and leases/.
      const out = await world
        .s3Client(world.operator)
        .send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return out.VersionId ? { versionId: out.VersionId } : {};
    },
    async putArtifact(app, build, zip) {
      const { versionId } = await world.upload(app, build, zip);
      if (!versionId) throw new Error('the artifact bucket is versioned: an upload has a version id');
      return { key: `${world.config.artifactPrefix}${app}/${build}.zip`, versionId };
    },
    fn(target) {
      const found = sandbox.lambda.describeFunction(target.accountId, target.region, target.functionName);
      if (!found) throw new Error(`no function ${target.functionName} in ${target.accountId}`);
      return found;
    },
    aliasVersion(target) {
      return sandbox.lambda
        .describeFunction(target.accountId, target.region, target.functionName)
        ?.aliases.find((a) => a.name === target.alias)?.functionVersion;
    },
    lambdaAs(accountId) {
      const client = new LambdaClient({
        ...sandbox.clientConfig(world.rootCredentials(accountId), world.config.region),
        ...world.sdk,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.destroy();
      await world.stop();
    },
  };
}

export { TOOLING_ACCOUNT_ID };

/**
 * Sleeps on a virtual clock: each sleeper wakes at now + ms. Wake-ups run from a real timer
 * (setTimeout 0, after pending immediates), so whatever else can still run does so first; then the
 * clock moves to the earliest wake-up and every sleeper due by then wakes.
 */
function createVirtualSleep(now: () => number, advance: (ms: number) => void): (ms: number) => Promise<void> {
  const sleepers: { at: number; wake: () => void }[] = [];
  let scheduled = false;
  const fire = () => {
    scheduled = false;
    sleepers.sort((a, b) => a.at - b.at);
    const first = sleepers[0];
    if (!first) return;
    if (first.at > now()) advance(first.at - now());
    while (sleepers[0] && sleepers[0].at <= now()) sleepers.shift()?.wake();
    schedule();
  };
  const schedule = () => {
    if (scheduled || sleepers.length === 0) return;
    scheduled = true;
    setTimeout(fire, 0);
  };
  return (ms) =>
    new Promise<void>((wake) => {
      sleepers.push({ at: now() + Math.max(0, ms), wake });
      schedule();
    });
}
