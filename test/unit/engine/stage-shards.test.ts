/**
 * A stage beyond one invocation, on the in-process sandbox: the upload handler runs with a Lambda
 * context on the virtual clock; ferry's asynchronous self-invocations are queued by the sandbox
 * (asyncInvocations 'queue') and delivered to the same handler by a dispatcher here, as Lambda's
 * event queue would (once, twice, after a crash).
 */
import type { AsyncInvocation } from '@ferry/aws-sandbox';
import { afterEach, describe, expect, it } from 'vitest';
import type { Lease } from '../../../src/core/lease-plan.js';
import type { CurrentState, LedgerEntry } from '../../../src/core/ledger-model.js';
import { SHARD_SAFETY_MARGIN_MS, type ShardEvent, type ShardManifest } from '../../../src/core/shard-plan.js';
import { createArtifactUploadedHandler, type UploadSummary } from '../../../src/handlers/artifact-uploaded.js';
import type { Runtime } from '../../../src/runtime/create-runtime.js';
import { recordLog } from '../../support/record-log.js';
import { makeFunctionZip } from '../../support/sandbox-harness.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';

const BUCKET = 'ferry-artifacts-111111111111';
const ACCOUNTS = ['222222222222', '333333333333', '444444444444'];
const FUNCTIONS = ['a', 'b', 'c'];

function configWith(extra: Record<string, unknown>) {
  return {
    artifactBucket: BUCKET,
    region: 'eu-west-1',
    externalId: 'ferry-ext',
    concurrency: 2,
    ...extra,
    stages: [{ name: 'dev' }, { name: 'prod' }],
    apps: {
      fleet: {
        targets: { dev: ACCOUNTS.flatMap((account) => FUNCTIONS.map((fn) => ({ account, function: fn }))) },
      },
    },
  };
}

let world: UnitWorld;
let log: ReturnType<typeof recordLog>;
/** `<account>/<function>` of every UpdateFunctionCode the sandbox answered, in order. */
let codeUpdates: string[];

async function start(extra: Record<string, unknown> = {}): Promise<void> {
  world = await startUnitWorld(configWith(extra), { lambda: { asyncInvocations: 'queue' } });
  log = recordLog();
  codeUpdates = [];
  world.world.sandbox.intercept((request) => {
    if (request.operation === 'UpdateFunctionCode') {
      codeUpdates.push(`${request.accountId}/${request.path.split('/')[3]}`);
    }
  });
}

afterEach(async () => {
  await world?.stop();
});

/** A Lambda context whose invocation ends `ms` from now on the virtual clock. */
function contextFor(ms: number) {
  const end = world.runtime.now() + ms;
  return { getRemainingTimeInMillis: () => Math.max(0, end - world.runtime.now()) };
}

const handlerOn = (runtime: Runtime) => createArtifactUploadedHandler(() => runtime, log);

/** A fresh container's runtime: nothing cached, its own pacers. */
const container = (): Runtime => world.newRuntime();

async function upload(build: string) {
  const zip = await makeFunctionZip(build);
  const { key, versionId } = await world.putArtifact('fleet', build, zip);
  const event = {
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        awsRegion: 'eu-west-1',
        userIdentity: { principalId: 'AWS:AROAEXAMPLEID:ci-upload' },
        s3: { bucket: { name: BUCKET }, object: { key, size: zip.length, versionId } },
      },
    ],
  };
  return { event, zip };
}

/** What Lambda's event queue holds for ferry's function, taken out. */
function takeQueued(): AsyncInvocation[] {
  const queued = world.world.sandbox.lambda.takeAsyncInvocations();
  for (const q of queued) expect(q.functionName).toBe('ferry-dev-artifact-uploaded');
  return queued;
}

/** Delivers queued events one by one (each to a fresh container) until none is left; returns their summaries. */
async function drain(invocationMs = 900_000): Promise<UploadSummary[]> {
  const summaries: UploadSummary[] = [];
  for (let round = 0; round < 50; round++) {
    const queued = takeQueued();
    if (queued.length === 0) return summaries;
    for (const q of queued) summaries.push(await handlerOn(container())(q.payload, contextFor(invocationMs)));
  }
  throw new Error('the shard events never stopped');
}

const entries = () => world.docs<LedgerEntry>('ledger/fleet/dev/entries/');
const current = () => world.readJson<CurrentState>('ledger/fleet/dev/current.json');
const lease = () => world.readJson<Lease>('leases/fleet/dev.json');
const perFunction = () => {
  const counts = new Map<string, number>();
  for (const u of codeUpdates) counts.set(u, (counts.get(u) ?? 0) + 1);
  return counts;
};
const allTargets = ACCOUNTS.flatMap((a) => FUNCTIONS.map((f) => `${a}/${f}`));

describe('a stage that outlasts its invocation', () => {
  it('continues in a fresh invocation, records one deployment and redeploys no target', async () => {
    await start();
    const { event, zip } = await upload('1');
    // Just past the safety margin: time for a few targets, not for nine.
    const front = await handlerOn(world.runtime)(event, contextFor(SHARD_SAFETY_MARGIN_MS + 2_500));
    expect(front.results[0]?.status).toBe('succeeded');
    const firstRun = codeUpdates.length;
    expect(firstRun).toBeGreaterThan(0);
    expect(firstRun).toBeLessThan(9);
    // Handed over, not released: the continuation holds the stage.
    expect(lease()?.released).toBeUndefined();
    expect(entries()).toEqual([]);

    const continued = await drain();
    expect(continued.map((s) => s.shard?.status)).toEqual(['done']);
    expect(continued[0]?.shard?.recorded).toBe(true);

    // Every function updated exactly once over both invocations.
    expect([...perFunction().keys()].sort()).toEqual(allTargets);
    expect([...perFunction().values()].every((n) => n === 1)).toBe(true);
    const recorded = entries();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ build: '1', outcome: 'succeeded', trigger: 'upload' });
    expect(recorded[0]?.targets).toHaveLength(9);
    expect(recorded[0]?.targets.every((t) => t.outcome === 'deployed' && t.version === '1')).toBe(true);
    expect(current()).toMatchObject({ build: '1', lastEntryId: recorded[0]?.id });
    expect(lease()?.released).toBe(true);
    for (const a of ACCOUNTS) {
      for (const f of FUNCTIONS) {
        expect(world.aliasVersion({ accountId: a, region: 'eu-west-1', functionName: f, alias: 'live' })).toBe('1');
      }
    }
    expect(zip.length).toBeGreaterThan(0);
  });

  it('does nothing twice when Lambda delivers a continuation twice, or again much later', async () => {
    await start();
    const { event } = await upload('1');
    await handlerOn(world.runtime)(event, contextFor(SHARD_SAFETY_MARGIN_MS + 2_500));
    const [continuation] = takeQueued();
    if (!continuation) throw new Error('no continuation was sent');
    const a = await handlerOn(container())(continuation.payload, contextFor(900_000));
    const b = await handlerOn(container())(continuation.payload, contextFor(900_000));
    expect([a.shard?.status, b.shard?.status]).toEqual(['done', 'duplicate']);
    world.advance(30 * 60_000);
    // And a late third delivery.
    const late = await handlerOn(container())(continuation.payload, contextFor(900_000));
    expect(late.shard).toMatchObject({ status: 'duplicate', recorded: true });
    expect(takeQueued()).toEqual([]);
    expect([...perFunction().values()].every((n) => n === 1)).toBe(true);
    expect(codeUpdates).toHaveLength(9);
    expect(entries()).toHaveLength(1);
    // One `started` when the stage handed off, one `succeeded` from the invocation that recorded it:
    // the duplicates publish nothing.
    const notices = world.world.sandbox.eventbridge.captured({ source: 'ferry' }).map((e) => e.detail);
    expect(notices).toMatchObject([
      { state: 'started', build: '1', deploymentId: entries()[0]?.id },
      { state: 'succeeded', build: '1', deploymentId: entries()[0]?.id, percent: 100, targets: 9 },
    ]);
  });

  it('ignores a stale event of a segment that already handed over', async () => {
    await start();
    const { event } = await upload('1');
    // Room for about one target per invocation: several segments.
    await handlerOn(world.runtime)(event, contextFor(SHARD_SAFETY_MARGIN_MS + 1_000));
    const [first] = takeQueued();
    if (!first) throw new Error('no continuation was sent');
    await handlerOn(container())(first.payload, contextFor(SHARD_SAFETY_MARGIN_MS + 2_500));
    const before = codeUpdates.length;
    const stale = await handlerOn(container())(first.payload, contextFor(900_000));
    expect(stale.shard?.status).toBe('duplicate');
    expect(codeUpdates).toHaveLength(before);
    const rest = await drain();
    expect(rest.at(-1)?.shard?.status).toBe('done');
    expect(codeUpdates).toHaveLength(9);
    expect(entries()).toHaveLength(1);
    expect((first.payload as ShardEvent).segment).toBe(1);
  });
});

describe('a stage split into shards', () => {
  it('splits by account, runs the shards in parallel under per-account pacing, and records one deployment', async () => {
    await start({ shardTargets: 3 });
    const { event } = await upload('1');
    const front = await handlerOn(world.runtime)(event, contextFor(900_000));
    expect(front.results[0]?.status).toBe('succeeded');
    expect(codeUpdates).toEqual([]);
    const queued = takeQueued();
    expect(queued).toHaveLength(3);
    const [manifest] = world.docs<ShardManifest>('ledger/fleet/dev/deployments/').filter((d) => 'shards' in d);
    // Every account's targets in exactly one shard: one invocation's pacer owns that account's budget.
    expect(manifest?.shards.map((ids) => new Set(ids.map((id) => id.split('/')[0])).size)).toEqual([1, 1, 1]);
    // All three shards at once, each in its own container (its own pacers), as Lambda runs them.
    const results = await Promise.all(queued.map((q) => handlerOn(container())(q.payload, contextFor(900_000))));
    expect(results.map((r) => r.shard?.status)).toEqual(['done', 'done', 'done']);
    expect(results.filter((r) => r.shard?.recorded)).not.toHaveLength(0);
    expect(world.world.sandbox.countRequests({ service: 'lambda', errorCode: 'TooManyRequestsException' })).toBe(0);
    expect(codeUpdates).toHaveLength(9);
    const recorded = entries();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ id: manifest?.deploymentId, outcome: 'succeeded' });
    expect(recorded[0]?.reason).toContain('3 shard(s)');
    expect(lease()?.released).toBe(true);
  });

  it('resumes a shard whose invocation died after deploying, without updating its functions again', async () => {
    await start({ shardTargets: 3 });
    const { event } = await upload('1');
    await handlerOn(world.runtime)(event, contextFor(900_000));
    const queued = takeQueued();
    const victim = queued[0];
    if (!victim) throw new Error('no shard was sent');
    const victimShard = (victim.payload as ShardEvent).shard;
    // The invocation dies when it writes its results: the functions are updated, nothing recorded.
    let puts = 0;
    const drop = world.world.sandbox.intercept((request) => {
      if (request.operation === 'PutObject' && request.path.endsWith(`/shards/${victimShard}.json`) && ++puts === 2) {
        throw new Error('the invocation died');
      }
    });
    await expect(handlerOn(container())(victim.payload, contextFor(900_000))).rejects.toThrow();
    drop();
    const updatedByVictim = codeUpdates.length;
    expect(updatedByVictim).toBe(3);
    for (const q of queued.slice(1)) await handlerOn(container())(q.payload, contextFor(900_000));
    expect(entries()).toEqual([]);
    // Lambda retries the failed asynchronous invocation with the same event.
    const retried = await handlerOn(container())(victim.payload, contextFor(900_000));
    expect(retried.shard).toMatchObject({ status: 'done', deployed: 0, recorded: true });
    expect(codeUpdates).toHaveLength(9);
    expect([...perFunction().values()].every((n) => n === 1)).toBe(true);
    const recorded = entries();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.outcome).toBe('succeeded');
    expect(recorded[0]?.targets.filter((t) => t.outcome === 'unchanged')).toHaveLength(3);
    expect(lease()?.released).toBe(true);
  });

  it('deploys nothing from a shard whose artifact no longer hashes as recorded, and records why', async () => {
    await start({ shardTargets: 3 });
    const { event } = await upload('1');
    await handlerOn(world.runtime)(event, contextFor(900_000));
    const queued = takeQueued();
    const key = world.world.sandbox.s3
      .listObjectKeys(BUCKET, 'ledger/fleet/dev/deployments/')
      .find((k) => k.endsWith('manifest.json'));
    if (!key) throw new Error('no manifest');
    const manifest = world.readJson<ShardManifest>(key);
    await world.putObject(key, JSON.stringify({ ...manifest, codeSha256: 'not-the-artifact' }));
    const results = [];
    for (const q of queued) results.push(await handlerOn(container())(q.payload, contextFor(900_000)));
    expect(results.map((r) => r.shard?.status)).toEqual(['done', 'done', 'done']);
    expect(codeUpdates).toEqual([]);
    const recorded = entries();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.outcome).toBe('failed');
    expect(recorded[0]?.targets.every((t) => t.code === 'ARTIFACT_CHANGED' && t.account !== '')).toBe(true);
    expect(lease()?.released).toBe(true);
  });

  it('rejects a shard event that names no deployment ferry wrote', async () => {
    await start();
    const forged = {
      ferry: 'stage-shard',
      app: 'fleet',
      stage: 'dev',
      deploymentId: 'not-there',
      shard: 0,
      segment: 0,
    };
    const result = await handlerOn(world.runtime)(forged, contextFor(900_000));
    expect(result.shard?.status).toBe('rejected');
    expect(codeUpdates).toEqual([]);
    const malformed = await handlerOn(world.runtime)({ ferry: 'stage-shard', app: 'fleet' }, contextFor(900_000));
    expect(malformed).toEqual({ results: [] });
    expect(log.lines.some((l) => l.attributes.errorCode === 'SHARD_EVENT_INVALID')).toBe(true);
  });
});
