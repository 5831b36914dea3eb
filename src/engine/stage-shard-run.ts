/**
 * One invocation of one shard (a shard event, see core/shard-plan.ts): claim the shard, join the
 * stage's lease by its owner, deploy the targets not finished yet while the invocation has time,
 * record them, and either hand the rest to a fresh invocation or, when the shard is done, try to
 * record the whole deployment. Lambda delivers events at least once: a duplicate or stale event
 * exits, a finished target is never deployed again (the record skips it; a target finished but not
 * recorded, because an invocation died, is found serving the build and left unchanged).
 */
import { randomUUID } from 'node:crypto';
import type { Target } from '../core/config.js';
import { describeError } from '../core/errors.js';
import { computeRenewEveryMs } from '../core/lease-plan.js';
import { shouldPrune } from '../core/prune-plan.js';
import { buildSessionName } from '../core/session-name.js';
import {
  decideShardClaim,
  hasTimeForTarget,
  type InvocationBudget,
  listUnfinished,
  mergeFinished,
  SHARD_SAFETY_MARGIN_MS,
  type ShardEvent,
  type ShardManifest,
  type ShardRecord,
} from '../core/shard-plan.js';
import type { Runtime } from '../runtime/create-runtime.js';
import { type DeployLog, describeFailureFields } from './deploy-log.js';
import { deployToTargetsWithin, type TargetOutcome, TargetStatus } from './deploy-stage.js';
import { type LeaseDeps, renewSharedLease } from './lease.js';
import { prepareArtifact } from './prepare-artifact.js';
import { pruneTarget } from './prune.js';
import { toLedgerTarget } from './release-stage.js';
import {
  aggregateDeployment,
  buildShardEvent,
  describeUnreached,
  failShard,
  readManifest,
  readShardRecord,
  type StoredRecord,
  writeShardRecord,
} from './stage-shards.js';

export const ShardRunStatus = {
  /** Every target of the shard finished (the deployment is recorded when the last shard is). */
  Done: 'done',
  /** Time ran out: the rest continues in a fresh invocation. */
  Continued: 'continued',
  /** Nothing to do: a duplicate or stale event, or the shard was already done. */
  Duplicate: 'duplicate',
  /** The event names no deployment ferry wrote. */
  Rejected: 'rejected',
} as const;
export type ShardRunStatus = (typeof ShardRunStatus)[keyof typeof ShardRunStatus];

export interface ShardRunResult {
  readonly status: ShardRunStatus;
  readonly deployed: number;
  readonly remaining: number;
  /** Set once the deployment's ledger entry exists. */
  readonly recorded?: boolean;
  readonly reason?: string;
}

export async function runStageShard(
  runtime: Runtime & Pick<LeaseDeps, 'repeatEvery'>,
  log: DeployLog,
  event: ShardEvent,
  budget: InvocationBudget,
): Promise<ShardRunResult> {
  const manifest = await readManifest(runtime, event.app, event.stage, event.deploymentId);
  const ids = manifest?.shards[event.shard];
  if (manifest === undefined || ids === undefined) {
    const reason = `no shard ${event.shard} of deployment ${event.deploymentId} in ${event.app}/${event.stage}; nothing deployed`;
    log.error('shard event rejected', { ...event, reason, errorCode: 'SHARD_UNKNOWN' });
    return { status: ShardRunStatus.Rejected, deployed: 0, remaining: 0, reason };
  }
  const runner = randomUUID();
  const claimed = await claimShard(runtime, log, manifest, event, runner, budget);
  if (claimed === undefined) {
    // Done already (perhaps by a run that died before recording the deployment): make sure it is recorded.
    const aggregate = await aggregateDeployment(runtime, log, manifest);
    return { status: ShardRunStatus.Duplicate, deployed: 0, remaining: 0, recorded: aggregate.complete };
  }
  const configured = new Map((runtime.config.apps[manifest.app]?.targets[manifest.stage] ?? []).map((t) => [t.id, t]));
  const unfinished = listUnfinished(ids, claimed.value);
  // A target taken out of the configuration since the deployment started is not deployed.
  const targets = unfinished.flatMap((id) => {
    const target = configured.get(id);
    return target === undefined ? [] : [target];
  });
  const gone = unfinished.filter((id) => !configured.has(id));
  const shared = { app: manifest.app, stage: manifest.stage, owner: manifest.leaseOwner };
  if (!(await renewSharedLease(runtime, shared))) {
    log.error('the stage lease is no longer this deployment’s; the shard stops', { ...event });
    await failShard(runtime, log, manifest, event.shard, ids, {
      code: 'LEASE_LOST',
      reason: `the stage's lease lapsed and another deployment took it before this shard ran; this target was not deployed. Deploy build ${manifest.build} again if it should still go out.`,
    });
    return { status: ShardRunStatus.Done, deployed: 0, remaining: 0, reason: 'lease lost' };
  }
  let current = claimed;
  const renewals = startRenewals(runtime, async () => {
    await renewSharedLease(runtime, shared).catch(() => false);
    const next = await writeShardRecord(
      runtime,
      manifest,
      withClaim(current.value, runner, runtime, budget),
      current.etag,
    ).catch(() => undefined);
    if (next !== undefined) current = { value: withClaim(current.value, runner, runtime, budget), etag: next };
  });
  let outcomes: TargetOutcome[] = [];
  let deferred: Target[] = [];
  let changed: string | undefined;
  try {
    const artifact = await prepareArtifact(
      runtime.store,
      {
        app: manifest.app,
        build: manifest.build,
        location: manifest.source,
        sizeBytes: manifest.sizeBytes,
      },
      runtime.config.limits,
      runtime.tmpDir,
    );
    try {
      if (artifact.codeSha256 !== manifest.codeSha256) {
        changed = `s3://${manifest.source.bucket}/${manifest.source.key} (version ${manifest.source.versionId ?? 'none'}) now hashes to ${artifact.codeSha256}, not ${manifest.codeSha256} as when the deployment started; this target was not deployed`;
      } else
        ({ outcomes, deferred } = await deployToTargetsWithin(
          {
            artifact,
            targets,
            concurrency: runtime.config.concurrency,
            ...(manifest.knownVersions ? { knownVersions: manifest.knownVersions } : {}),
            onTargetDone: (outcome) => logShardTarget(log, manifest, event, outcome),
          },
          runtime,
          () => hasTimeForTarget(budget.remainingMs(), SHARD_SAFETY_MARGIN_MS),
        ));
    } finally {
      await artifact.dispose();
    }
  } finally {
    await renewals.stop();
  }
  if (changed !== undefined) {
    log.error('shard stopped: the artifact changed', { ...event, reason: changed, errorCode: 'ARTIFACT_CHANGED' });
    await failShard(
      runtime,
      log,
      manifest,
      event.shard,
      ids,
      { code: 'ARTIFACT_CHANGED', reason: changed },
      configured,
    );
    return { status: ShardRunStatus.Done, deployed: 0, remaining: 0, reason: changed };
  }
  const finished = [
    ...outcomes.map(toLedgerTarget),
    ...gone.map((id) =>
      describeUnreached(id, {
        code: 'TARGET_NOT_CONFIGURED',
        reason: `${id} is no longer in the configuration of ${manifest.app}/${manifest.stage}; not deployed`,
      }),
    ),
  ];
  const merged = mergeFinished(current.value.targets, finished);
  const deployed = outcomes.filter((o) => o.status === TargetStatus.Deployed).length;
  if (deferred.length > 0) {
    await handOver(runtime, manifest, event, { ...current, value: { ...current.value, targets: merged } });
    log.info('shard continues in a fresh invocation', {
      ...event,
      finished: Object.keys(merged).length,
      remaining: deferred.length,
      remainingMs: budget.remainingMs(),
    });
    return { status: ShardRunStatus.Continued, deployed, remaining: deferred.length };
  }
  const done: ShardRecord = { ...current.value, targets: merged, done: true };
  const { claim: _claim, ...unclaimed } = done;
  const etag = await writeShardRecord(runtime, manifest, unclaimed, current.etag);
  if (etag === undefined) {
    throw new Error(
      `shard ${event.shard} of deployment ${manifest.deploymentId} changed under its claim; Lambda's retry resumes it`,
    );
  }
  if (outcomes.every((o) => o.status !== TargetStatus.Failed)) await pruneShard(runtime, log, manifest, outcomes);
  const aggregate = await aggregateDeployment(runtime, log, manifest);
  return { status: ShardRunStatus.Done, deployed, remaining: 0, recorded: aggregate.complete };
}

/**
 * Claims the shard for this invocation (compare-and-swap on its record). Returns the claimed record,
 * or undefined when there is nothing to do (done, stale). Waits while another invocation holds a
 * live claim on the same segment (a concurrent duplicate), as long as this invocation has time.
 */
async function claimShard(
  runtime: Runtime,
  log: DeployLog,
  manifest: ShardManifest,
  event: ShardEvent,
  runner: string,
  budget: InvocationBudget,
): Promise<StoredRecord | undefined> {
  for (;;) {
    const stored = await readShardRecord(runtime, manifest, event.shard);
    const decision = decideShardClaim(stored?.value, event, runtime.now());
    if (decision.action === 'exit') {
      log.info('shard event needs no work', { ...event, why: decision.why });
      return undefined;
    }
    if (decision.action === 'wait') {
      if (!hasTimeForTarget(budget.remainingMs(), SHARD_SAFETY_MARGIN_MS)) {
        throw new Error(
          `shard ${event.shard} of deployment ${manifest.deploymentId} is held by another invocation until ${new Date(decision.untilMs).toISOString()}; Lambda's retry tries again`,
        );
      }
      await runtime.sleep(Math.min(5_000, Math.max(1, decision.untilMs - runtime.now())));
      continue;
    }
    const base: ShardRecord = stored?.value ?? {
      schema: 1,
      shard: event.shard,
      segment: event.segment,
      targets: {},
      done: false,
      invocations: 0,
    };
    const value = withClaim(
      { ...base, segment: Math.max(base.segment, event.segment), invocations: base.invocations + 1 },
      runner,
      runtime,
      budget,
    );
    const etag = await writeShardRecord(runtime, manifest, value, stored?.etag);
    if (etag !== undefined) return { value, etag };
  }
}

/** The claim lasts a lease period (renewed with the lease), never past this invocation's end. */
function withClaim(record: ShardRecord, runner: string, runtime: Runtime, budget: InvocationBudget): ShardRecord {
  const now = runtime.now();
  const until = now + Math.min(runtime.config.leaseSeconds * 1000, Math.max(0, budget.remainingMs()));
  return { ...record, claim: { by: runner, until: new Date(until).toISOString() } };
}

/**
 * Records what this invocation finished, sends the next segment's event, then lets the claim go
 * with the segment moved on. The event goes first: if this invocation dies before the last write,
 * the continuation (a later segment) still claims once the claim lapses, and Lambda's retry of this
 * one finds its segment stale.
 */
async function handOver(
  runtime: Runtime,
  manifest: ShardManifest,
  event: ShardEvent,
  stored: StoredRecord,
): Promise<void> {
  const shards = runtime.shards;
  if (shards === undefined)
    throw new Error('a shard ran out of time where ferry cannot invoke itself (FERRY_SHARD_FUNCTION)');
  const written = await writeShardRecord(runtime, manifest, stored.value, stored.etag);
  if (written === undefined) {
    throw new Error(
      `shard ${event.shard} of deployment ${manifest.deploymentId} changed under its claim; Lambda's retry resumes it`,
    );
  }
  const next = event.segment + 1;
  await shards.invoker.invokeEvent(shards.functionName, buildShardEvent(manifest, event.shard, next));
  const { claim: _claim, ...released } = stored.value;
  await writeShardRecord(runtime, manifest, { ...released, segment: Math.max(stored.value.segment, next) }, written);
}

/** Lease and claim renewals every leaseSeconds/3 while the shard deploys (the runtime's scheduler in tests). */
function startRenewals(
  runtime: Runtime & Pick<LeaseDeps, 'repeatEvery'>,
  tick: () => Promise<void>,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    if (stopped || running) return;
    running = tick().finally(() => {
      running = undefined;
    });
  };
  const everyMs = computeRenewEveryMs(runtime.config.leaseSeconds);
  const repeat = runtime.repeatEvery;
  let cancel: () => void;
  if (repeat) {
    cancel = repeat(async () => run(), everyMs);
  } else {
    const timer = setInterval(run, everyMs);
    timer.unref();
    cancel = () => clearInterval(timer);
  }
  return {
    async stop() {
      stopped = true;
      cancel();
      await running;
    },
  };
}

async function pruneShard(
  runtime: Runtime,
  log: DeployLog,
  manifest: ShardManifest,
  outcomes: readonly TargetOutcome[],
): Promise<void> {
  const keep = runtime.config.apps[manifest.app]?.keepVersions;
  if (keep === undefined) return;
  for (const o of outcomes) {
    if (o.status !== TargetStatus.Deployed || o.version === undefined || !shouldPrune(o.version, keep)) continue;
    try {
      const lambda = await runtime.lambdaFor(o.target, buildSessionName(manifest.app, manifest.build));
      await pruneTarget(lambda, o.target, keep, o.previousVersion ? [o.previousVersion] : [], log);
    } catch (error) {
      log.warn('pruning failed; the deployment stands', { target: o.target.id, reason: describeError(error) });
    }
  }
}

function logShardTarget(log: DeployLog, manifest: ShardManifest, event: ShardEvent, outcome: TargetOutcome): void {
  const line = {
    app: manifest.app,
    build: manifest.build,
    stage: manifest.stage,
    deploymentId: manifest.deploymentId,
    shard: event.shard,
    segment: event.segment,
    target: outcome.target.id,
    version: outcome.version,
    previousVersion: outcome.previousVersion,
    outcome: outcome.status,
    durationMs: outcome.durationMs,
    ...describeFailureFields(outcome.error),
  };
  if (outcome.status === TargetStatus.Failed) log.error('target deployment failed', line);
  else log.info(`target ${outcome.status}`, line);
}
