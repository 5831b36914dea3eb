/**
 * One verified build into one stage, as a release: take the stage's lease, check the order
 * against what the stage runs (after the lease, so when builds race the newest ends live), deploy
 * the targets, record the attempt in the ledger and fold it into the current state, prune old
 * versions, release. A dry run reads only: no lease, no ledger write, no Lambda write.
 */
import pLimit from 'p-limit';
import { compareBuilds } from '../core/artifact-key.js';
import type { AppConfig, Target } from '../core/config.js';
import { describeError, isFerryError } from '../core/errors.js';
import {
  buildLedgerEntry,
  type CurrentState,
  describeSource,
  type LedgerEntry,
  LedgerOutcome,
  type LedgerSource,
  type LedgerTarget,
  type PipelineContext,
  type Trigger,
} from '../core/ledger-model.js';
import { shouldPrune } from '../core/prune-plan.js';
import { decideReleaseOrder } from '../core/release-order.js';
import { buildSessionName } from '../core/session-name.js';
import {
  hasTimeForTarget,
  type InvocationBudget,
  planShards,
  type ShardManifest,
  shouldShard,
} from '../core/shard-plan.js';
import { resolveShiftSettings, type TrafficOverrides, type TrafficSpec } from '../core/traffic-config.js';
import { isAllAtOnce } from '../core/traffic-policy.js';
import { type ShiftOverride, ShiftStatus } from '../core/traffic-shift.js';
import type { Runtime } from '../runtime/create-runtime.js';
import type { DeployLog } from './deploy-log.js';
import { deployToTargets, deployToTargetsWithin, type TargetOutcome, TargetStatus } from './deploy-stage.js';
import { readCurrent, recordAttempt } from './ledger.js';
import { publishNotifications } from './notify.js';
import type { PreparedArtifact } from './prepare-artifact.js';
import { type PruneResult, pruneTarget } from './prune.js';
import { dispatchShards } from './stage-shards.js';
import { runInStage } from './stage-shell.js';
import { advanceHeldShift, startStageShift } from './traffic.js';
import { readShift } from './traffic-store.js';

export const StageStatus = {
  Succeeded: 'succeeded',
  /** The new versions are published and a traffic shift is under way; the tick finishes it. */
  Shifting: 'shifting',
  Failed: 'failed',
  Skipped: 'skipped',
  Planned: 'planned',
  /**
   * The stage continues in asynchronous invocations of ferry's own function (shards, or the rest
   * after this invocation ran out of time); the deployment's ledger entry is written when they finish.
   */
  Dispatched: 'dispatched',
} as const;
export type StageStatus = (typeof StageStatus)[keyof typeof StageStatus];

export interface StageResult {
  readonly stage: string;
  readonly status: StageStatus;
  readonly outcomes: readonly TargetOutcome[];
  /** Why the stage was skipped (or would be, in a dry run). */
  readonly reason?: string;
  readonly entryId?: string;
  readonly pruned?: readonly PruneResult[];
  /** The traffic shift this release started. */
  readonly shiftId?: string;
  /** With StageRelease.returnDeferred: the targets not started before the budget ran out, untouched. */
  readonly deferred?: readonly Target[];
}

export interface StageRelease {
  readonly app: AppConfig;
  readonly stage: string;
  readonly targets: readonly Target[];
  readonly artifact: PreparedArtifact;
  readonly trigger: Trigger;
  readonly caller: string;
  readonly pipeline?: PipelineContext;
  readonly dryRun?: boolean;
  readonly leaseWaitMs?: number;
  /** An operator's --force: recorded in the entry. */
  readonly forced?: readonly string[];
  readonly onTargetDone: (outcome: TargetOutcome) => void;
  /** The promotion rule's traffic override, when a promotion releases. */
  readonly trafficRule?: TrafficSpec;
  /** The operator's --traffic allAtOnce / --ignore-alarms. */
  readonly overrides?: TrafficOverrides;
  /** The invocation's remaining time (Lambda): with runtime.shards, the stage may continue past it. */
  readonly budget?: InvocationBudget;
  /**
   * With a budget: the targets not started in time come back in `deferred` (the ledger entry holds
   * only the others) instead of continuing in shards. The pipeline action continues them itself.
   */
  readonly returnDeferred?: boolean;
}

export async function releaseToStage(runtime: Runtime, log: DeployLog, req: StageRelease): Promise<StageResult> {
  const { artifact, stage } = req;
  if (req.dryRun) return planStage(runtime, req);
  return runInStage(
    runtime,
    log,
    {
      app: req.app.name,
      stage,
      build: artifact.build,
      holder: req.caller,
      ...(req.leaseWaitMs ? { leaseWaitMs: req.leaseWaitMs } : {}),
    },
    async ({ attempt, held, handOverLease }) => {
      const current = await readCurrent(runtime, req.app.name, stage);
      const order = decideReleaseOrder(current, {
        stage,
        build: artifact.build,
        codeSha256: artifact.codeSha256,
        trigger: req.trigger,
      });
      if (order.action === 'skip') {
        const entry = buildEntry(runtime, req, attempt, [], LedgerOutcome.Skipped, order.reason, order.code);
        await recordAttempt(runtime, entry);
        log.info('build skipped', {
          app: req.app.name,
          build: artifact.build,
          stage,
          trigger: req.trigger,
          reason: order.reason,
          code: order.code,
        });
        return { stage, status: StageStatus.Skipped, outcomes: [], reason: order.reason, entryId: entry.id };
      }
      const inFlight = await settleInFlightShift(runtime, log, req);
      if (inFlight !== undefined) {
        const entry = buildEntry(runtime, req, attempt, [], LedgerOutcome.Skipped, inFlight.reason, inFlight.code);
        await recordAttempt(runtime, entry);
        return { stage, status: StageStatus.Skipped, outcomes: [], reason: inFlight.reason, entryId: entry.id };
      }
      const settings = resolveShiftSettings(req.app.traffic[stage], req.trafficRule, req.overrides);
      const shifting = !isAllAtOnce(settings.policy);
      const notify = (state: string, percent: number, detail: string) =>
        publishNotifications(
          runtime,
          log,
          { app: req.app.name, stage, build: artifact.build, deploymentId: attempt.id },
          [
            {
              app: req.app.name,
              stage,
              build: artifact.build,
              deploymentId: attempt.id,
              policy: settings.policy.name,
              state,
              percent,
              targets: req.targets.length,
              detail,
              at: new Date(runtime.now()).toISOString(),
              trigger: req.trigger,
              caller: req.caller,
            },
          ],
        );
      // A shift publishes its own notifications (traffic.ts); all at once, the stage publishes them.
      // `started` does not hold the deployment up: it is sent while the targets deploy, and awaited
      // before the final notification is sent and before the stage returns, however it ends
      // (publishNotifications never throws).
      const started: Promise<unknown> = shifting
        ? Promise.resolve()
        : notify('started', 0, `${settings.policy.name} to ${req.targets.length} target(s)`);
      try {
        const known = knownVersionsFor(current, artifact);
        // In Lambda, an all-at-once stage may go past this invocation: split up front when large, and
        // hand the rest over when time runs out. (A traffic shift needs every version in one place.)
        const beyond = shifting || req.budget === undefined || req.returnDeferred ? undefined : runtime.shards;
        const handOff = (targets: readonly Target[][], finished?: ReadonlyMap<number, LedgerTarget[]>) => {
          handOverLease();
          return handOffStage(runtime, log, req, {
            attempt,
            leaseOwner: held.lease.owner,
            shards: targets,
            ...known,
            ...(finished ? { finished } : {}),
          });
        };
        if (beyond !== undefined && shouldShard(req.targets.length, runtime.config.shardTargets)) {
          return handOff(planShards(req.targets, runtime.config.shardTargets));
        }
        // Time bounds the targets started here only when the rest can continue elsewhere.
        const budget = shifting || (beyond === undefined && !req.returnDeferred) ? undefined : req.budget;
        const { outcomes, deferred } = await deployToTargetsWithin(
          {
            artifact,
            targets: req.targets,
            concurrency: runtime.config.concurrency,
            ...known,
            onTargetDone: req.onTargetDone,
            ...(shifting ? { holdAlias: true } : {}),
          },
          runtime,
          () => budget === undefined || hasTimeForTarget(budget.remainingMs(), budget.marginMs),
        );
        if (deferred.length > 0 && outcomes.length === 0 && beyond === undefined) {
          // Out of time before any target started: nothing changed, nothing to record.
          return { stage, status: StageStatus.Succeeded, outcomes, deferred, reason: 'no time left to start a target' };
        }
        if (deferred.length > 0 && beyond !== undefined) {
          // Out of time: this invocation's results and the rest become one shard, continued elsewhere.
          const result = await handOff([[...req.targets]], new Map([[0, outcomes.map(toLedgerTarget)]]));
          return { ...result, outcomes };
        }
        const failed = outcomes.filter((o) => o.status === TargetStatus.Failed);
        if (shifting && failed.length === 0) {
          const shift = await startStageShift(runtime, log, {
            id: attempt.id,
            app: req.app.name,
            stage,
            build: artifact.build,
            codeSha256: artifact.codeSha256,
            source: sourceOf(artifact),
            trigger: req.trigger,
            caller: req.caller,
            ...(req.pipeline ? { pipeline: req.pipeline } : {}),
            settings,
            targets: outcomes.flatMap((o) =>
              o.version === undefined
                ? []
                : [
                    {
                      targetId: o.target.id,
                      version: o.version,
                      ...(o.previousVersion ? { previousVersion: o.previousVersion } : {}),
                    },
                  ],
            ),
            overrides: describeOverrides(req, attempt.startedAt),
          });
          if (shift !== undefined) {
            return {
              stage,
              status:
                shift.status === ShiftStatus.InFlight || shift.status === ShiftStatus.Succeeded
                  ? StageStatus.Shifting
                  : StageStatus.Failed,
              outcomes,
              entryId: shift.id,
              reason:
                shift.status === ShiftStatus.InFlight
                  ? `shifting with ${settings.policy.name}: ${shift.position.percent}% on wave ${shift.position.wave + 1} of ${shift.waves.length}`
                  : `${shift.status}: ${shift.reason ?? ''}`,
              shiftId: shift.id,
            };
          }
        }
        const entry = buildEntry(
          runtime,
          req,
          attempt,
          outcomes.map(toLedgerTarget),
          failed.length > 0 ? LedgerOutcome.Failed : LedgerOutcome.Succeeded,
          failed.length > 0
            ? `${failed.length} of ${outcomes.length} target(s) failed: ${failed.map((o) => `${o.target.id}: ${describeError(o.error)}`).join('; ')}`
            : order.reason,
        );
        await recordAttempt(runtime, entry);
        await started;
        // Targets left for the caller's next invocation (the pipeline's continuation): the stage has
        // not succeeded yet, so only a failure is news.
        if (failed.length > 0 || deferred.length === 0) {
          await notify(
            failed.length > 0 ? 'failed' : 'succeeded',
            failed.length > 0 ? 0 : 100,
            entry.reason ?? `${artifact.build} serves 100%`,
          );
        }
        const pruned = failed.length === 0 ? await pruneDeployed(runtime, log, req, outcomes) : [];
        return {
          stage,
          status: failed.length > 0 ? StageStatus.Failed : StageStatus.Succeeded,
          outcomes,
          entryId: entry.id,
          ...(pruned.length > 0 ? { pruned } : {}),
          ...(deferred.length > 0 ? { deferred } : {}),
        };
      } finally {
        await started;
      }
    },
  );
}

/**
 * Writes the deployment's manifest and sends its shard events (stage-shards.ts): the stage's lease
 * stays held, by the shards, until the last one records the deployment.
 */
async function handOffStage(
  runtime: Runtime,
  log: DeployLog,
  req: StageRelease,
  plan: {
    attempt: { id: string; startedAt: string };
    leaseOwner: string;
    shards: readonly (readonly Target[])[];
    knownVersions?: Readonly<Record<string, string>>;
    finished?: ReadonlyMap<number, readonly LedgerTarget[]>;
  },
): Promise<StageResult> {
  const shards = runtime.shards;
  if (shards === undefined) throw new Error('unreachable: a hand-off without runtime.shards');
  const { artifact, stage } = req;
  const manifest: ShardManifest = {
    schema: 1,
    deploymentId: plan.attempt.id,
    app: req.app.name,
    stage,
    build: artifact.build,
    codeSha256: artifact.codeSha256,
    source: { ...sourceOf(artifact), region: artifact.location.region },
    sizeBytes: artifact.sizeBytes,
    trigger: req.trigger,
    caller: req.caller,
    ...(req.pipeline ? { pipeline: req.pipeline } : {}),
    ...(req.forced ? { forced: req.forced } : {}),
    startedAt: plan.attempt.startedAt,
    leaseOwner: plan.leaseOwner,
    shards: plan.shards.map((s) => s.map((t) => t.id)),
    ...(plan.knownVersions ? { knownVersions: plan.knownVersions } : {}),
  };
  const sent = await dispatchShards(runtime, log, shards, {
    manifest,
    ...(plan.finished ? { finished: plan.finished } : {}),
  });
  const finished = [...(plan.finished?.values() ?? [])].reduce((n, list) => n + list.length, 0);
  const reason = `continues in ${manifest.shards.length} shard(s) of ${shards.functionName} (${sent} dispatched, ${finished} target(s) finished here); the ledger records deployment ${manifest.deploymentId} when they finish`;
  log.info('stage handed to shards', {
    app: req.app.name,
    build: artifact.build,
    stage,
    deploymentId: manifest.deploymentId,
    shards: manifest.shards.length,
    targets: req.targets.length,
    finishedHere: finished,
  });
  return { stage, status: StageStatus.Dispatched, outcomes: [], reason, entryId: manifest.deploymentId };
}

async function planStage(runtime: Runtime, req: StageRelease): Promise<StageResult> {
  const { artifact, stage } = req;
  const current = await readCurrent(runtime, req.app.name, stage);
  const order = decideReleaseOrder(current, {
    stage,
    build: artifact.build,
    codeSha256: artifact.codeSha256,
    trigger: req.trigger,
  });
  if (order.action === 'skip') return { stage, status: StageStatus.Skipped, outcomes: [], reason: order.reason };
  const outcomes = await deployToTargets(
    {
      artifact,
      targets: req.targets,
      concurrency: runtime.config.concurrency,
      dryRun: true,
      ...knownVersionsFor(current, artifact),
      onTargetDone: req.onTargetDone,
    },
    runtime,
  );
  const failed = outcomes.some((o) => o.status === TargetStatus.Failed);
  return { stage, status: failed ? StageStatus.Failed : StageStatus.Planned, outcomes, reason: order.reason };
}

/**
 * The versions the stage's current state records for this very artifact (same checksum): a
 * re-delivery after a rollback, or a rebuild with identical bytes, reuses them rather than
 * publishing the same code again. Read with the state the order check already needed: no extra request.
 */
export function knownVersionsFor(
  current: CurrentState | undefined,
  artifact: Pick<PreparedArtifact, 'codeSha256'>,
): { knownVersions?: Readonly<Record<string, string>> } {
  if (current === undefined || current.codeSha256 !== artifact.codeSha256) return {};
  return Object.keys(current.targets).length > 0 ? { knownVersions: current.targets } : {};
}

async function pruneDeployed(
  runtime: Runtime,
  log: DeployLog,
  req: StageRelease,
  outcomes: readonly TargetOutcome[],
): Promise<PruneResult[]> {
  const keep = req.app.keepVersions;
  const deployed = outcomes.filter(
    (o) => o.status === TargetStatus.Deployed && o.version !== undefined && shouldPrune(o.version, keep),
  );
  const limit = pLimit(runtime.config.concurrency);
  const results = await Promise.all(
    deployed.map((o) =>
      limit(async (): Promise<PruneResult | undefined> => {
        try {
          const lambda = await runtime.lambdaFor(o.target, buildSessionName(req.app.name, req.artifact.build));
          return await pruneTarget(lambda, o.target, keep, o.previousVersion ? [o.previousVersion] : [], log);
        } catch (error) {
          log.warn('pruning failed; the deployment stands', { target: o.target.id, reason: describeError(error) });
          return undefined;
        }
      }),
    ),
  );
  return results.filter((r): r is PruneResult => r !== undefined);
}

export function sourceOf(artifact: PreparedArtifact): LedgerSource {
  return describeSource(artifact.location);
}

function buildEntry(
  runtime: Runtime,
  req: StageRelease,
  attempt: { id: string; startedAt: string },
  targets: LedgerTarget[],
  outcome: LedgerEntry['outcome'],
  reason: string,
  code?: string,
): LedgerEntry {
  return buildLedgerEntry({
    attempt,
    app: req.app.name,
    stage: req.stage,
    build: req.artifact.build,
    codeSha256: req.artifact.codeSha256,
    source: sourceOf(req.artifact),
    targets,
    trigger: req.trigger,
    caller: req.caller,
    ...(req.pipeline ? { pipeline: req.pipeline } : {}),
    endedAt: new Date(runtime.now()).toISOString(),
    outcome,
    reason,
    ...(code ? { code } : {}),
    ...(req.forced ? { forced: req.forced } : {}),
    overrides: describeOverrides(req, attempt.startedAt),
  });
}

/** The operator's overrides as the ledger records them, with who asked. */
function describeOverrides(req: StageRelease, at: string): ShiftOverride[] {
  const list: ShiftOverride[] = [];
  if (req.overrides?.traffic === 'allAtOnce') list.push({ at, caller: req.caller, what: 'traffic allAtOnce' });
  if (req.overrides?.ignoreAlarms) list.push({ at, caller: req.caller, what: 'ignore alarms' });
  return list;
}

/**
 * A shift already in flight in the stage: the same build is not released twice (skip), an older
 * build never displaces a newer one (skip), and a newer build supersedes it: traffic goes back to
 * the stable version, recorded as `superseded`, before the newer build starts. Returns the skip.
 */
async function settleInFlightShift(
  runtime: Runtime,
  log: DeployLog,
  req: StageRelease,
): Promise<{ reason: string; code: string } | undefined> {
  const stored = await readShift(runtime, req.app.name, req.stage);
  const shift = stored?.value;
  if (shift === undefined) return undefined;
  // Ended and recorded: nothing to settle. Ended but not recorded (a crash): the advance below finishes it.
  if (shift.status !== ShiftStatus.InFlight && shift.pending.length === 0 && shift.endEntryId !== undefined)
    return undefined;
  const build = req.artifact.build;
  if (shift.status === ShiftStatus.InFlight && shift.build === build) {
    return {
      code: 'BUILD_SHIFTING',
      reason: `build ${build} is already shifting in ${req.stage} (shift ${shift.id}, ${shift.position.percent}%); see ferry traffic status`,
    };
  }
  if (shift.status === ShiftStatus.InFlight && compareBuilds(build, shift.build) < 0) {
    return {
      code: 'BUILD_OLDER_THAN_SHIFTING',
      reason: `build ${build} is older than ${shift.build}, which is shifting in ${req.stage}; only a rollback goes backwards`,
    };
  }
  const ended = await advanceHeldShift(runtime, log, req.app.name, req.stage, {
    end: {
      status: ShiftStatus.Superseded,
      reason: `superseded by build ${build} (${req.caller})`,
      code: 'TRAFFIC_SUPERSEDED',
    },
  });
  if (ended?.pending.length) {
    throw new Error(`the superseded shift ${shift.id} could not restore every target; the next tick retries`);
  }
  return undefined;
}

export function toLedgerTarget(o: TargetOutcome): LedgerTarget {
  const { target } = o;
  return {
    targetId: target.id,
    account: target.accountId,
    region: target.region,
    function: target.functionName,
    alias: target.alias,
    ...(o.previousVersion ? { previousVersion: o.previousVersion } : {}),
    ...(o.version ? { version: o.version } : {}),
    outcome: o.status,
    ...(o.error ? { reason: describeError(o.error) } : {}),
    ...(o.error && isFerryError(o.error) ? { code: o.error.code } : {}),
  };
}
