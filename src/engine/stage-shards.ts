/**
 * A stage deployment carried past one invocation (see core/shard-plan.ts for the plan and the
 * records). The invocation that holds the stage's lease writes the manifest and sends one event per
 * shard to ferry's own function; it hands the lease over instead of releasing it. Shards renew the
 * lease by its owner while they work; the shard that finds every shard done writes the one ledger
 * entry of the deployment and releases the lease. Every write is create-only or compare-and-swap,
 * so a duplicate or late event changes nothing twice.
 */
import type { Target } from '../core/config.js';
import { describeError, isFerryError } from '../core/errors.js';
import {
  buildLedgerEntry,
  describeSource,
  type LedgerEntry,
  LedgerOutcome,
  type LedgerTarget,
} from '../core/ledger-model.js';
import {
  aggregateShards,
  manifestKey,
  SHARD_EVENT_KIND,
  type ShardEvent,
  type ShardManifest,
  type ShardRecord,
  shardKey,
} from '../core/shard-plan.js';
import type { Runtime } from '../runtime/create-runtime.js';
import type { DeployLog } from './deploy-log.js';
import { releaseSharedLease } from './lease.js';
import { updateCurrent, writeEntry } from './ledger.js';
import { publishNotifications } from './notify.js';

export type ShardsPort = NonNullable<Runtime['shards']>;

export interface StoredRecord {
  readonly value: ShardRecord;
  readonly etag: string;
}

export async function readManifest(
  runtime: Runtime,
  app: string,
  stage: string,
  deploymentId: string,
): Promise<ShardManifest | undefined> {
  return (
    await runtime.store.getJson<ShardManifest>(runtime.config.artifactBucket, manifestKey(app, stage, deploymentId))
  )?.value;
}

export async function readShardRecord(
  runtime: Runtime,
  manifest: Pick<ShardManifest, 'app' | 'stage' | 'deploymentId'>,
  shard: number,
): Promise<StoredRecord | undefined> {
  return runtime.store.getJson<ShardRecord>(
    runtime.config.artifactBucket,
    shardKey(manifest.app, manifest.stage, manifest.deploymentId, shard),
  );
}

/** Compare-and-swap on the shard's record (create-only when there was none); the new ETag, or undefined when another writer got there first. */
export async function writeShardRecord(
  runtime: Runtime,
  manifest: Pick<ShardManifest, 'app' | 'stage' | 'deploymentId'>,
  record: ShardRecord,
  etag: string | undefined,
): Promise<string | undefined> {
  const put = await runtime.store.putJson(
    runtime.config.artifactBucket,
    shardKey(manifest.app, manifest.stage, manifest.deploymentId, record.shard),
    record,
    etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag },
  );
  return put.ok ? put.etag : undefined;
}

export function buildShardEvent(manifest: ShardManifest, shard: number, segment: number): ShardEvent {
  return {
    ferry: SHARD_EVENT_KIND,
    app: manifest.app,
    stage: manifest.stage,
    deploymentId: manifest.deploymentId,
    shard,
    segment,
  };
}

export interface HandOff {
  readonly manifest: ShardManifest;
  /** Targets already finished by the invocation that hands off, per shard (the continuation case). */
  readonly finished?: ReadonlyMap<number, readonly LedgerTarget[]>;
}

/**
 * Writes the manifest (create-only) and the records of shards that already made progress, then
 * sends each shard its first event. A shard whose event Lambda would not take is recorded as done
 * with its targets failed (nothing of it was deployed), so the deployment still ends in one entry.
 * Returns how many shard events were sent.
 */
export async function dispatchShards(
  runtime: Runtime,
  log: DeployLog,
  shards: ShardsPort,
  handOff: HandOff,
): Promise<number> {
  const { manifest } = handOff;
  const created = await runtime.store.putJson(
    runtime.config.artifactBucket,
    manifestKey(manifest.app, manifest.stage, manifest.deploymentId),
    manifest,
    { ifNoneMatch: '*' },
  );
  if (!created.ok) throw new Error(`the manifest of deployment ${manifest.deploymentId} already exists`);
  let sent = 0;
  for (const [shard, ids] of manifest.shards.entries()) {
    const finished = handOff.finished?.get(shard) ?? [];
    const segment = finished.length > 0 ? 1 : 0;
    if (finished.length > 0) {
      await writeShardRecord(
        runtime,
        manifest,
        {
          schema: 1,
          shard,
          segment,
          targets: Object.fromEntries(finished.map((t) => [t.targetId, t])),
          done: false,
          invocations: 1,
        },
        undefined,
      );
    }
    try {
      await shards.invoker.invokeEvent(shards.functionName, buildShardEvent(manifest, shard, segment));
      sent++;
    } catch (error) {
      log.error('shard could not be dispatched; its targets are recorded as failed', {
        app: manifest.app,
        stage: manifest.stage,
        deploymentId: manifest.deploymentId,
        shard,
        reason: describeError(error),
      });
      await failShard(runtime, log, manifest, shard, ids, {
        code: 'SHARD_NOT_DISPATCHED',
        reason: `ferry could not invoke ${shards.functionName} for this shard (${describeError(error)}); nothing of it was deployed. Deploy the build again.`,
      });
    }
  }
  return sent;
}

/** Records every unfinished target of a shard as failed and the shard as done, then tries to aggregate. */
export async function failShard(
  runtime: Runtime,
  log: DeployLog,
  manifest: ShardManifest,
  shard: number,
  ids: readonly string[],
  why: { code: string; reason: string },
  targetsById?: ReadonlyMap<string, Target>,
): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const stored = await readShardRecord(runtime, manifest, shard);
    if (stored?.value.done) break;
    const targets: Record<string, LedgerTarget> = { ...stored?.value.targets };
    for (const id of ids) {
      if (targets[id] !== undefined) continue;
      targets[id] = describeUnreached(id, why, targetsById?.get(id));
    }
    const etag = await writeShardRecord(
      runtime,
      manifest,
      {
        schema: 1,
        shard,
        segment: stored?.value.segment ?? 0,
        targets,
        done: true,
        invocations: stored?.value.invocations ?? 0,
      },
      stored?.etag,
    );
    if (etag !== undefined) break;
  }
  await aggregateDeployment(runtime, log, manifest);
}

/** A target no invocation reached, as the ledger records it. */
export function describeUnreached(id: string, why: { code: string; reason: string }, target?: Target): LedgerTarget {
  // Target ids are `<account>/<region>/<function>:<alias>` (config.ts).
  const [account = '', region = '', rest = ''] = id.split('/');
  const colon = rest.lastIndexOf(':');
  return {
    targetId: id,
    account: target?.accountId ?? account,
    region: target?.region ?? region,
    function: target?.functionName ?? (colon < 0 ? rest : rest.slice(0, colon)),
    alias: target?.alias ?? (colon < 0 ? '' : rest.slice(colon + 1)),
    outcome: 'failed',
    reason: why.reason,
    code: why.code,
  };
}

export interface AggregateResult {
  readonly complete: boolean;
  readonly entry?: LedgerEntry;
  readonly pending?: readonly number[];
}

/**
 * When every shard is done: the deployment's one ledger entry (create-only, so two shards finishing
 * together, or a late duplicate, record it once), folded into the current state, and the lease
 * released. Safe to call any number of times.
 */
export async function aggregateDeployment(
  runtime: Runtime,
  log: DeployLog,
  manifest: ShardManifest,
): Promise<AggregateResult> {
  const records = await Promise.all(
    manifest.shards.map(async (_, shard) => (await readShardRecord(runtime, manifest, shard))?.value),
  );
  const result = aggregateShards(manifest, records);
  if (!result.complete) return { complete: false, pending: result.pending };
  const failed = result.failed;
  // The same shape as every other deployment's entry (one builder), under the deployment's id.
  const entry = buildLedgerEntry({
    attempt: { id: manifest.deploymentId, startedAt: manifest.startedAt },
    app: manifest.app,
    stage: manifest.stage,
    build: manifest.build,
    codeSha256: manifest.codeSha256,
    source: describeSource(manifest.source),
    targets: result.targets,
    trigger: manifest.trigger,
    caller: manifest.caller,
    ...(manifest.pipeline ? { pipeline: manifest.pipeline } : {}),
    endedAt: new Date(runtime.now()).toISOString(),
    outcome: failed.length > 0 ? LedgerOutcome.Failed : LedgerOutcome.Succeeded,
    reason:
      failed.length > 0
        ? `${failed.length} of ${result.targets.length} target(s) failed: ${failed
            .slice(0, 20)
            .map((t) => `${t.targetId}: ${t.reason ?? 'failed'}`)
            .join('; ')}${failed.length > 20 ? '; …' : ''}`
        : `deployed in ${manifest.shards.length} shard(s), ${records.reduce((n, r) => n + (r?.invocations ?? 0), 0)} invocation(s)`,
    ...(manifest.forced ? { forced: manifest.forced } : {}),
  });
  let recordedHere = true;
  try {
    await writeEntry(runtime, entry);
  } catch (error) {
    // Another shard (or a duplicate event) recorded it first: never a second entry. Folding it into
    // the current state again is harmless (same build, same versions) and finishes a fold that crashed.
    if (!(isFerryError(error) && error.code === 'LEDGER_ENTRY_EXISTS')) throw error;
    recordedHere = false;
  }
  await updateCurrent(runtime, entry);
  const released = await releaseSharedLease(runtime, {
    app: manifest.app,
    stage: manifest.stage,
    owner: manifest.leaseOwner,
  });
  // The stage published `started` when it handed off; the invocation that records the deployment
  // publishes how it ended (a duplicate that found the entry written publishes nothing).
  if (recordedHere) {
    const scope = {
      app: manifest.app,
      stage: manifest.stage,
      build: manifest.build,
      deploymentId: manifest.deploymentId,
    };
    await publishNotifications(runtime, log, scope, [
      {
        ...scope,
        policy: 'allAtOnce',
        state: failed.length > 0 ? 'failed' : 'succeeded',
        percent: failed.length > 0 ? 0 : 100,
        targets: result.targets.length,
        detail: entry.reason,
        at: entry.endedAt,
        trigger: manifest.trigger,
        caller: manifest.caller,
      },
    ]);
  }
  log.info('sharded deployment recorded', {
    app: manifest.app,
    stage: manifest.stage,
    build: manifest.build,
    deploymentId: manifest.deploymentId,
    outcome: entry.outcome,
    targets: result.targets.length,
    failed: failed.length,
    shards: manifest.shards.length,
    leaseReleased: released,
  });
  return { complete: true, entry };
}
