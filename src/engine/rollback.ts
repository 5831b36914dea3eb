/**
 * Rollback: moves a stage's aliases back to versions that already exist, without re-uploading,
 * under the stage's lease, each move guarded by the alias RevisionId. The target versions come
 * from the ledger entry of the build (or the versions' `ferry: <app> <build> sha256:…`
 * descriptions); every version is checked to hold the build's code before any alias moves.
 * The rollback is recorded in the ledger and becomes the stage's current state.
 */
import pLimit from 'p-limit';
import type { LambdaPort } from '../aws/lambda.js';
import { findStage, type Target } from '../core/config.js';
import { describeError, InputError } from '../core/errors.js';
import { compareVersions } from '../core/lambda-model.js';
import {
  buildLedgerEntry,
  type CurrentState,
  type LedgerEntry,
  LedgerOutcome,
  type LedgerTarget,
  type Trigger,
} from '../core/ledger-model.js';
import {
  choosePreviousBuild,
  findBuildEntry,
  planRollbackTarget,
  type RollbackTargetPlan,
} from '../core/rollback-plan.js';
import { buildSessionName } from '../core/session-name.js';
import { ShiftStatus } from '../core/traffic-shift.js';
import type { Runtime } from '../runtime/create-runtime.js';
import type { DeployLog } from './deploy-log.js';
import { parseVersionDescription } from './deploy-target.js';
import { readCurrent, readHistory, recordAttempt, resolveCaller } from './ledger.js';
import { publishNotifications } from './notify.js';
import { runInStage } from './stage-shell.js';
import { advanceHeldShift } from './traffic.js';
import { readShift } from './traffic-store.js';

export interface RollbackRequest {
  readonly app: string;
  readonly stage: string;
  readonly toBuild?: string;
  /** A version number applied to every target of the stage. */
  readonly toVersion?: string;
  readonly dryRun?: boolean;
  readonly trigger: Trigger;
  readonly caller?: string;
  readonly leaseWaitMs?: number;
}

export const RollbackStatus = {
  RolledBack: 'rolled-back',
  /** Every alias already pointed at the rollback version. */
  Unchanged: 'unchanged',
  Planned: 'planned',
  Failed: 'failed',
} as const;
export type RollbackStatus = (typeof RollbackStatus)[keyof typeof RollbackStatus];

export interface RollbackTargetResult extends RollbackTargetPlan {
  readonly status: 'moved' | 'unchanged' | 'planned' | 'failed';
  readonly reason?: string;
}

export interface RollbackResult {
  readonly app: string;
  readonly stage: string;
  readonly status: RollbackStatus;
  readonly fromBuild?: string;
  readonly toBuild: string;
  readonly codeSha256: string;
  readonly reason: string;
  readonly targets: readonly RollbackTargetResult[];
  readonly entryId?: string;
}

interface TargetObservation {
  readonly target: Target;
  readonly lambda: LambdaPort;
  readonly plan: RollbackTargetPlan;
}

export async function rollback(runtime: Runtime, log: DeployLog, req: RollbackRequest): Promise<RollbackResult> {
  const app = runtime.config.apps[req.app];
  const stage = findStage(runtime.config, req.stage);
  const targets = app && stage ? (app.targets[stage.name] ?? []) : [];
  if (app === undefined || stage === undefined || targets.length === 0) {
    throw new InputError(
      'ROLLBACK_INVALID',
      `Cannot roll back ${req.app} in '${req.stage}': no such app, stage, or targets of the app in that stage.`,
      {
        context: { app: req.app, stage: req.stage },
      },
    );
  }
  if (req.toBuild !== undefined && req.toVersion !== undefined) {
    throw new InputError('ROLLBACK_INVALID', 'Give either a build or a version to roll back to, not both.');
  }
  const caller = req.dryRun ? (req.caller ?? 'dry-run') : await resolveCaller(runtime, req.caller);
  const plan = async () => {
    const current = await readCurrent(runtime, app.name, stage.name);
    const history = await readHistory(runtime, { app: app.name, stage: stage.name, limit: 500 });
    return planRollback(runtime, app.name, req, targets, current, history);
  };
  if (req.dryRun) {
    const planned = await plan();
    return result(
      req,
      planned,
      planned.observations.map((o) => ({ ...o.plan, status: 'planned' as const })),
      RollbackStatus.Planned,
    );
  }
  // The same shell as a release (release-stage.ts): the stage's lease, and the attempt the entry records.
  return runInStage(
    runtime,
    log,
    {
      app: app.name,
      stage: stage.name,
      build: 'rollback',
      holder: caller,
      ...(req.leaseWaitMs ? { leaseWaitMs: req.leaseWaitMs } : {}),
    },
    async ({ attempt }) => {
      // An in-flight traffic shift is aborted first (traffic back on the stable version, recorded
      // rolled-back); without an explicit build or version, that is the whole rollback.
      const aborted = await abortShift(runtime, log, app.name, stage.name, caller);
      if (aborted !== undefined && req.toBuild === undefined && req.toVersion === undefined) return aborted;
      const planned = await plan();
      const limit = pLimit(runtime.config.concurrency);
      const moved = await Promise.all(
        planned.observations.map((o) => limit(() => moveAlias(o, app.name, planned.toBuild))),
      );
      const failed = moved.filter((m) => m.status === 'failed');
      const status =
        failed.length > 0
          ? RollbackStatus.Failed
          : moved.every((m) => m.status === 'unchanged')
            ? RollbackStatus.Unchanged
            : RollbackStatus.RolledBack;
      const reason =
        failed.length > 0
          ? `rollback of ${stage.name} to ${planned.toBuild} failed on ${failed.length} target(s): ${failed.map((f) => `${f.targetId}: ${f.reason}`).join('; ')}`
          : `rolled ${stage.name} back from ${planned.fromBuild ?? '?'} to ${planned.toBuild}`;
      const entry = buildLedgerEntry({
        attempt,
        app: app.name,
        stage: stage.name,
        build: planned.toBuild,
        codeSha256: planned.codeSha256,
        ...(planned.buildEntry?.source ? { source: planned.buildEntry.source } : {}),
        targets: moved.map((m) => toLedgerTarget(m, planned.observations)),
        trigger: req.trigger,
        caller,
        endedAt: new Date(runtime.now()).toISOString(),
        outcome: failed.length > 0 ? LedgerOutcome.Failed : LedgerOutcome.RolledBack,
        reason,
      });
      await recordAttempt(runtime, entry);
      if (status !== RollbackStatus.Unchanged) {
        const scope = { app: app.name, stage: stage.name, build: planned.toBuild, deploymentId: entry.id };
        await publishNotifications(runtime, log, scope, [
          {
            ...scope,
            policy: 'rollback',
            state: failed.length > 0 ? 'failed' : 'rolled-back',
            percent: failed.length > 0 ? 0 : 100,
            ...(planned.fromBuild ? { fromBuild: planned.fromBuild } : {}),
            detail: reason,
            at: entry.endedAt,
            trigger: req.trigger,
            caller,
          },
        ]);
      }
      log[failed.length > 0 ? 'error' : 'info'](`rollback ${status}`, {
        app: app.name,
        stage: stage.name,
        fromBuild: planned.fromBuild,
        toBuild: planned.toBuild,
        trigger: req.trigger,
      });
      return { ...result(req, planned, moved, status), reason, entryId: entry.id };
    },
  );
}

interface PlannedRollback {
  readonly fromBuild?: string;
  readonly toBuild: string;
  readonly codeSha256: string;
  readonly buildEntry?: LedgerEntry;
  readonly observations: readonly TargetObservation[];
}

async function planRollback(
  runtime: Runtime,
  app: string,
  req: RollbackRequest,
  targets: readonly Target[],
  current: CurrentState | undefined,
  history: readonly LedgerEntry[],
): Promise<PlannedRollback> {
  let toBuild = req.toBuild;
  if (toBuild === undefined && req.toVersion === undefined) {
    toBuild = choosePreviousBuild(current, history)?.build;
    if (toBuild === undefined) {
      throw new InputError(
        'NOTHING_TO_ROLL_BACK',
        `The ledger has no build of ${app} in ${req.stage} older than ${current?.build ?? 'the current one'} to roll back to. Name one with --to-build or --to-version.`,
        { context: { app, stage: req.stage } },
      );
    }
  }
  const buildEntry = toBuild === undefined ? undefined : findBuildEntry(toBuild, history);
  const limit = pLimit(runtime.config.concurrency);
  const found = await Promise.all(
    targets.map((target) =>
      limit(async () => {
        const lambda = await runtime.lambdaFor(
          target,
          buildSessionName(app, `rollback-${toBuild ?? `v${req.toVersion}`}`),
        );
        const version =
          req.toVersion ??
          buildEntry?.targets.find((t) => t.targetId === target.id && t.outcome !== 'failed' && t.version)?.version ??
          (await findVersionByDescription(lambda, target, app, toBuild ?? ''));
        if (version === undefined) {
          throw new InputError(
            'ROLLBACK_VERSION_NOT_FOUND',
            `No version of ${target.functionName} in account ${target.accountId} holds ${app} build ${toBuild}: neither the ledger nor the version descriptions name one (it may have been pruned).`,
            { context: { app, build: toBuild, function: target.functionName, account: target.accountId } },
          );
        }
        const [published, alias] = await Promise.all([
          lambda.getFunctionConfiguration(target.functionName, version),
          lambda.getAlias(target.functionName, target.alias),
        ]);
        if (alias === undefined) {
          throw new InputError(
            'ROLLBACK_NO_ALIAS',
            `${target.functionName} in account ${target.accountId} has no alias ${target.alias}: nothing was ever deployed there to roll back.`,
            {
              context: { function: target.functionName, account: target.accountId },
            },
          );
        }
        const described = parseVersionDescription(published.description);
        const ours = described?.app === app ? described : undefined;
        return {
          target,
          lambda,
          plan: planRollbackTarget(target.id, alias, version),
          codeSha256: published.codeSha256,
          build: ours?.build,
          describedSha256: ours?.codeSha256,
        };
      }),
    ),
  );
  const resolvedBuild = toBuild ?? found[0]?.build;
  if (resolvedBuild === undefined) {
    throw new InputError(
      'ROLLBACK_VERSION_UNKNOWN',
      `Version ${req.toVersion} was not published by ferry for ${app} (its description does not name a build), so the ledger cannot record what runs. Roll back with --to-build instead.`,
      {
        context: { app, version: req.toVersion },
      },
    );
  }
  // The build's recorded checksum: its ledger entry, else what ferry wrote into the version's
  // description when it published it. Never the code a version happens to hold: that is what is checked.
  const codeSha256 = buildEntry?.codeSha256 ?? found.find((f) => f.describedSha256 !== undefined)?.describedSha256;
  if (codeSha256 === undefined) {
    throw new InputError(
      'ROLLBACK_CHECKSUM_UNKNOWN',
      `Refusing to roll back ${app} in ${req.stage} to ${resolvedBuild}: neither the ledger nor the versions' descriptions record the build's checksum, so ferry cannot check the versions hold it. Deploy the build again instead (ferry deploy).`,
      { context: { app, build: resolvedBuild } },
    );
  }
  const mismatched = found.filter(
    (f) =>
      f.codeSha256 !== codeSha256 ||
      (f.describedSha256 !== undefined && f.describedSha256 !== codeSha256) ||
      (f.build !== undefined && f.build !== resolvedBuild),
  );
  if (mismatched.length > 0) {
    throw new InputError(
      'ROLLBACK_CODE_MISMATCH',
      `Refusing to roll back: ${mismatched.map((m) => `${m.target.id} version ${m.plan.toVersion} holds sha256 ${m.codeSha256} (build ${m.build ?? '?'}${m.describedSha256 !== undefined && m.describedSha256 !== m.codeSha256 ? `, its description says sha256 ${m.describedSha256}` : ''})`).join('; ')}, but build ${resolvedBuild} is recorded as sha256 ${codeSha256}. No alias was moved.`,
      { context: { app, build: resolvedBuild } },
    );
  }
  return {
    ...(current ? { fromBuild: current.build } : {}),
    toBuild: resolvedBuild,
    codeSha256,
    ...(buildEntry ? { buildEntry } : {}),
    observations: found.map(({ target, lambda, plan }) => ({ target, lambda, plan })),
  };
}

async function findVersionByDescription(
  lambda: LambdaPort,
  target: Target,
  app: string,
  build: string,
): Promise<string | undefined> {
  const versions = await lambda.listVersions(target.functionName);
  return versions
    .filter((v) => {
      const d = parseVersionDescription(v.description);
      return d?.app === app && d.build === build;
    })
    .map((v) => v.version)
    .sort(compareVersions)
    .at(-1);
}

async function moveAlias(o: TargetObservation, app: string, build: string): Promise<RollbackTargetResult> {
  if (o.plan.action === 'unchanged') return { ...o.plan, status: 'unchanged' };
  try {
    await o.lambda.updateAlias({
      functionName: o.target.functionName,
      alias: o.target.alias,
      version: o.plan.toVersion,
      description: `ferry: ${app} ${build}`.slice(0, 256),
      ...(o.plan.expectedRevisionId ? { revisionId: o.plan.expectedRevisionId } : {}),
    });
    return { ...o.plan, status: 'moved' };
  } catch (error) {
    return { ...o.plan, status: 'failed', reason: describeError(error) };
  }
}

function toLedgerTarget(m: RollbackTargetResult, observations: readonly TargetObservation[]): LedgerTarget {
  const target = observations.find((o) => o.target.id === m.targetId)?.target;
  return {
    targetId: m.targetId,
    account: target?.accountId ?? '',
    region: target?.region ?? '',
    function: target?.functionName ?? '',
    alias: target?.alias ?? '',
    ...(m.fromVersion ? { previousVersion: m.fromVersion } : {}),
    version: m.toVersion,
    outcome: m.status === 'failed' ? 'failed' : m.status === 'moved' ? 'rolled-back' : 'unchanged',
    ...(m.reason ? { reason: m.reason } : {}),
  };
}

/** Aborts the stage's in-flight shift, if any, and describes it as a rollback to the stable version. */
async function abortShift(
  runtime: Runtime,
  log: DeployLog,
  app: string,
  stage: string,
  caller: string,
): Promise<RollbackResult | undefined> {
  const shift = (await readShift(runtime, app, stage))?.value;
  if (shift === undefined || shift.status !== ShiftStatus.InFlight) return undefined;
  const ended = await advanceHeldShift(runtime, log, app, stage, {
    end: { status: ShiftStatus.RolledBack, reason: `aborted by ferry rollback (${caller})`, code: 'TRAFFIC_ABORTED' },
  });
  const current = await readCurrent(runtime, app, stage);
  const failed = (ended?.pending.length ?? 0) > 0;
  return {
    app,
    stage,
    status: failed ? RollbackStatus.Failed : RollbackStatus.RolledBack,
    fromBuild: shift.build,
    toBuild: current?.build ?? '?',
    codeSha256: current?.codeSha256 ?? '',
    reason: failed
      ? `aborting the traffic shift of ${shift.build} did not restore every target; the next tick retries`
      : `aborted the traffic shift of ${shift.build}: every target serves its stable version again`,
    targets: Object.values(shift.targets).map((t) => ({
      targetId: t.targetId,
      toVersion: t.stableVersion,
      action: 'move-alias' as const,
      status: failed ? ('failed' as const) : ('moved' as const),
    })),
  };
}

function result(
  req: RollbackRequest,
  planned: PlannedRollback,
  targets: readonly RollbackTargetResult[],
  status: RollbackStatus,
): RollbackResult {
  return {
    app: req.app,
    stage: req.stage,
    status,
    ...(planned.fromBuild ? { fromBuild: planned.fromBuild } : {}),
    toBuild: planned.toBuild,
    codeSha256: planned.codeSha256,
    reason: `${status === RollbackStatus.Planned ? 'would roll' : 'rolled'} ${req.stage} back from ${planned.fromBuild ?? '?'} to ${planned.toBuild}`,
    targets,
  };
}
