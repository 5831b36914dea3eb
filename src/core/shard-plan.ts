/**
 * A stage deployment beyond one Lambda invocation, as plain data and decisions. A stage with more
 * targets than `shardTargets` is split into shards (every target of one account and Region in the
 * same shard, so one invocation's pacer owns that account's rate budget); each shard runs in an
 * asynchronous invocation of ferry's own function, and an invocation whose remaining time runs
 * out stops starting targets and hands the rest to a fresh invocation (the next segment).
 *
 * What is stored (under the stage's ledger prefix, one folder per deployment):
 *   deployments/<id>/manifest.json    written once by the invocation that took the stage's lease
 *   deployments/<id>/shards/<n>.json  each shard's finished targets, its segment and its claim
 * When every shard is done, one ledger entry (id = the deployment id) merges their targets.
 */
import type { Target } from './config.js';
import {
  LEDGER_PREFIX,
  type LedgerSource,
  type LedgerTarget,
  type PipelineContext,
  type Trigger,
} from './ledger-model.js';

/** The event ferry sends itself (InvocationType Event): small, everything else is in the manifest. */
export interface ShardEvent {
  readonly ferry: typeof SHARD_EVENT_KIND;
  readonly app: string;
  readonly stage: string;
  readonly deploymentId: string;
  readonly shard: number;
  /** 0 for a shard's first invocation, +1 for each continuation. */
  readonly segment: number;
}

export const SHARD_EVENT_KIND = 'stage-shard';

/** What the invocation holding the stage's lease decided, for every shard to read. */
export interface ShardManifest {
  readonly schema: 1;
  readonly deploymentId: string;
  readonly app: string;
  readonly stage: string;
  readonly build: string;
  readonly codeSha256: string;
  readonly source: LedgerSource & { readonly region: string };
  readonly sizeBytes: number;
  readonly trigger: Trigger;
  readonly caller: string;
  readonly pipeline?: PipelineContext;
  readonly forced?: readonly string[];
  readonly startedAt: string;
  /** The stage lease's owner: every shard renews that lease, the last one releases it. */
  readonly leaseOwner: string;
  /** Target ids per shard. */
  readonly shards: readonly (readonly string[])[];
  /** Versions the stage's current state recorded for this very artifact (reused, never republished). */
  readonly knownVersions?: Readonly<Record<string, string>>;
}

/** One shard's progress. Written by compare-and-swap only. */
export interface ShardRecord {
  readonly schema: 1;
  readonly shard: number;
  /** The segment that may run now: an event of an earlier segment is a stale duplicate. */
  readonly segment: number;
  /** Finished targets (deployed, unchanged or failed), by id; the first result of a target stands. */
  readonly targets: Readonly<Record<string, LedgerTarget>>;
  readonly done: boolean;
  /** The invocation working on this shard now; expires unless renewed (a crashed one lapses). */
  readonly claim?: { readonly by: string; readonly until: string };
  /** Invocations that worked on this shard. */
  readonly invocations: number;
}

export function deploymentPrefix(app: string, stage: string, deploymentId: string): string {
  return `${LEDGER_PREFIX}${app}/${stage}/deployments/${deploymentId}/`;
}

export function manifestKey(app: string, stage: string, deploymentId: string): string {
  return `${deploymentPrefix(app, stage, deploymentId)}manifest.json`;
}

export function shardKey(app: string, stage: string, deploymentId: string, shard: number): string {
  return `${deploymentPrefix(app, stage, deploymentId)}shards/${shard}.json`;
}

/**
 * Splits targets into shards of about `maxPerShard`, never splitting an account and Region (its
 * Lambda rate budget is paced by one invocation). Shards are balanced: each account group goes to
 * the least loaded shard, largest groups first. Target order inside a shard follows the input.
 */
export function planShards(targets: readonly Target[], maxPerShard: number): Target[][] {
  const groups = new Map<string, Target[]>();
  for (const target of targets) {
    const key = `${target.accountId}/${target.region}`;
    const group = groups.get(key) ?? [];
    group.push(target);
    groups.set(key, group);
  }
  const count = Math.max(1, Math.min(groups.size, Math.ceil(targets.length / Math.max(1, maxPerShard))));
  const shards: Target[][] = Array.from({ length: count }, () => []);
  const bySize = [...groups.values()].sort((a, b) => b.length - a.length);
  for (const group of bySize) {
    let least = 0;
    for (let i = 1; i < count; i++) if ((shards[i]?.length ?? 0) < (shards[least]?.length ?? 0)) least = i;
    shards[least]?.push(...group);
  }
  const position = new Map(targets.map((t, i) => [t.id, i]));
  for (const shard of shards) shard.sort((a, b) => (position.get(a.id) ?? 0) - (position.get(b.id) ?? 0));
  return shards.filter((s) => s.length > 0);
}

/** Whether a stage is split up front: only when there is somewhere to send shards and it is large. */
export function shouldShard(targetCount: number, maxPerShard: number): boolean {
  return targetCount > maxPerShard;
}

/**
 * Time an invocation keeps in reserve when it decides whether to start one more target: enough for
 * a target started just before to finish (its update settles in seconds on AWS) and for the
 * hand-over (record the shard, invoke the continuation). A target that outlasts it is resumed by
 * Lambda's retry of the invocation, which checks what the alias already serves.
 */
export const SHARD_SAFETY_MARGIN_MS = 90_000;

/** Whether there is time to start another target. */
export function hasTimeForTarget(remainingMs: number, marginMs = SHARD_SAFETY_MARGIN_MS): boolean {
  return remainingMs > marginMs;
}

/** What is left of the invocation a deployment runs in (Lambda's context.getRemainingTimeInMillis). */
export interface InvocationBudget {
  remainingMs(): number;
  /** Start no target with less than this left (default SHARD_SAFETY_MARGIN_MS). */
  readonly marginMs?: number;
}

/** Reads a shard event, or says why it is not one (undefined when the event is not ferry's shard event at all). */
export function readShardEvent(event: unknown): ShardEvent | { readonly problem: string } | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  const e = event as Record<string, unknown>;
  if (e.ferry !== SHARD_EVENT_KIND) return undefined;
  const problems = [
    typeof e.app === 'string' && e.app !== '' ? undefined : 'app',
    typeof e.stage === 'string' && e.stage !== '' ? undefined : 'stage',
    typeof e.deploymentId === 'string' && /^[\w-]{1,64}$/.test(e.deploymentId) ? undefined : 'deploymentId',
    Number.isInteger(e.shard) && (e.shard as number) >= 0 ? undefined : 'shard',
    Number.isInteger(e.segment) && (e.segment as number) >= 0 ? undefined : 'segment',
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) return { problem: `missing or invalid: ${problems.join(', ')}` };
  return {
    ferry: SHARD_EVENT_KIND,
    app: e.app as string,
    stage: e.stage as string,
    deploymentId: e.deploymentId as string,
    shard: e.shard as number,
    segment: e.segment as number,
  };
}

export type ClaimDecision =
  /** Work on the shard now (write the claim first). */
  | { readonly action: 'claim' }
  /** Nothing to do: the shard is done, or this event belongs to a segment that already handed over. */
  | { readonly action: 'exit'; readonly why: 'done' | 'stale' }
  /** Another invocation is working on this shard: wait until its claim ends or lapses. */
  | { readonly action: 'wait'; readonly untilMs: number };

/**
 * What an invocation of a shard event does, given the shard's record. Lambda delivers an event at
 * least once: a duplicate of an earlier segment exits, a duplicate of the current one waits for
 * the claim of the invocation already on it. A continuation may arrive before the invocation that
 * sent it has written its hand-over (or that one died in between): a later segment still claims.
 */
export function decideShardClaim(record: ShardRecord | undefined, event: ShardEvent, nowMs: number): ClaimDecision {
  if (record === undefined) return { action: 'claim' };
  if (record.done) return { action: 'exit', why: 'done' };
  if (event.segment < record.segment) return { action: 'exit', why: 'stale' };
  const until = record.claim ? Date.parse(record.claim.until) : Number.NEGATIVE_INFINITY;
  if (until > nowMs) return { action: 'wait', untilMs: until };
  return { action: 'claim' };
}

/** The shard's targets not finished yet, in the manifest's order. */
export function listUnfinished(ids: readonly string[], record: ShardRecord | undefined): string[] {
  return ids.filter((id) => record?.targets[id] === undefined);
}

/** Adds finished targets to a record; a target already recorded keeps its first result (a redelivery finds it unchanged). */
export function mergeFinished(
  previous: Readonly<Record<string, LedgerTarget>>,
  finished: readonly LedgerTarget[],
): Record<string, LedgerTarget> {
  const merged: Record<string, LedgerTarget> = { ...previous };
  for (const t of finished) if (merged[t.targetId] === undefined) merged[t.targetId] = t;
  return merged;
}

export type Aggregate =
  | { readonly complete: false; readonly pending: readonly number[] }
  | {
      readonly complete: true;
      /** Every target's result, in the manifest's order. */
      readonly targets: readonly LedgerTarget[];
      readonly failed: readonly LedgerTarget[];
    };

/** The deployment's result once every shard is done; which shards are still pending otherwise. */
export function aggregateShards(manifest: ShardManifest, records: readonly (ShardRecord | undefined)[]): Aggregate {
  const pending = manifest.shards.flatMap((_, i) => (records[i]?.done ? [] : [i]));
  if (pending.length > 0) return { complete: false, pending };
  const targets = manifest.shards.flatMap((ids, i) =>
    ids.flatMap((id) => {
      const t = records[i]?.targets[id];
      return t === undefined ? [] : [t];
    }),
  );
  return { complete: true, targets, failed: targets.filter((t) => t.outcome === 'failed') };
}
