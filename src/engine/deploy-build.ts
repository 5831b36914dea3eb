/**
 * The engine every front shares (S3 upload, schedule, CodePipeline, CLI): one build of one app
 * into the targets of one or more stages. Verifies the artifact once, then releases it stage by
 * stage (lease → order check → deploy → ledger → prune → release, see release-stage.ts), and logs
 * one summary line per target. Every attempt, including rejected and skipped ones, is in the ledger.
 */
import { checkBuildPattern } from '../core/build-pattern.js';
import { describePlan } from '../core/deploy-plan.js';
import {
  ArtifactError,
  describeError,
  type FerryError,
  InputError,
  isFerryError,
  isTransient,
} from '../core/errors.js';
import { buildLedgerEntry, describeSource, LedgerOutcome, Trigger } from '../core/ledger-model.js';
import type { Runtime } from '../runtime/create-runtime.js';
import { type BuildDeployRequest, type BuildDeployResult, BuildStatus } from './build-request.js';
import { type DeployLog, describeFailureFields } from './deploy-log.js';
import type { TargetOutcome } from './deploy-stage.js';
import { TargetStatus } from './deploy-stage.js';
import { skipStaleBuild } from './early-skip.js';
import { recordAttempt, recordRejected, resolveCaller, startAttempt, writeEntry } from './ledger.js';
import { type PreparedArtifact, prepareArtifact } from './prepare-artifact.js';
import { releaseToStage, type StageResult, StageStatus, sourceOf } from './release-stage.js';

export type { BuildDeployRequest, BuildDeployResult } from './build-request.js';
export { BuildStatus } from './build-request.js';
export type { DeployLog } from './deploy-log.js';
export type { StageResult };
export { StageStatus, Trigger };

export async function deployBuild(
  runtime: Runtime,
  log: DeployLog,
  request: BuildDeployRequest,
): Promise<BuildDeployResult> {
  const { app, build } = request;
  const attempt = startAttempt(runtime);
  // Who is calling (STS) is looked up while the stale-build check reads the ledger; resolveCaller never throws.
  const callerLookup = request.dryRun
    ? Promise.resolve(request.caller ?? 'dry-run')
    : resolveCaller(runtime, request.caller);
  const patternProblem = checkBuildPattern(app, build);
  if (patternProblem !== undefined) {
    const refused = new InputError('BUILD_PATTERN_MISMATCH', patternProblem, { context: { app: app.name, build } });
    return refuse(runtime, log, request, { caller: await callerLookup, attempt }, refused);
  }
  if (!request.dryRun) {
    const stale = await skipStaleBuild(runtime, log, request, callerLookup);
    if (stale) return stale;
  }
  const caller = await callerLookup;
  let artifact: PreparedArtifact;
  try {
    artifact = await prepareArtifact(
      runtime.store,
      {
        app: app.name,
        build,
        location: request.location,
        ...(request.sizeBytes === undefined ? {} : { sizeBytes: request.sizeBytes }),
      },
      runtime.config.limits,
      runtime.tmpDir,
    );
  } catch (error) {
    return refuse(runtime, log, request, { caller, attempt }, error);
  }
  try {
    if (request.expectedCodeSha256 !== undefined && artifact.codeSha256 !== request.expectedCodeSha256) {
      const mismatch = new ArtifactError(
        'PROMOTION_CHECKSUM_MISMATCH',
        `The artifact s3://${request.location.bucket}/${request.location.key} now hashes to ${artifact.codeSha256}, but the source stage runs ${request.expectedCodeSha256}. Nothing was deployed.`,
        { context: { app: app.name, build } },
      );
      return refuse(runtime, log, request, { caller, attempt }, mismatch);
    }
    const stages: StageResult[] = [];
    let stageError: FerryError | Error | undefined;
    for (const stage of request.stages) {
      const targets = (app.targets[stage] ?? []).filter(request.targetFilter ?? (() => true));
      const stageAttempt = startAttempt(runtime);
      try {
        stages.push(
          await releaseToStage(runtime, log, {
            app,
            stage,
            targets,
            artifact,
            trigger: request.trigger,
            caller,
            ...(request.pipeline ? { pipeline: request.pipeline } : {}),
            ...(request.dryRun ? { dryRun: true } : {}),
            ...(request.leaseWaitMs ? { leaseWaitMs: request.leaseWaitMs } : {}),
            ...(request.forced ? { forced: request.forced } : {}),
            ...(request.trafficRule ? { trafficRule: request.trafficRule } : {}),
            ...(request.overrides ? { overrides: request.overrides } : {}),
            ...(request.budget ? { budget: request.budget } : {}),
            ...(request.returnDeferred ? { returnDeferred: true } : {}),
            onTargetDone: (outcome) => {
              logOutcome(log, artifact, stage, request.trigger, outcome);
              request.onTargetDone?.(outcome);
            },
          }),
        );
      } catch (error) {
        // The stage could not be released at all (lease timeout, the ledger unreadable or contended):
        // record the attempt, then let Lambda retry a transient failure; a permanent one fails the stage.
        const entryId = await recordStageFailure(
          runtime,
          log,
          request,
          { caller, artifact, stage, attempt: stageAttempt },
          error,
        );
        if (isTransient(error)) throw error;
        stageError ??= error instanceof Error ? error : new Error(describeError(error));
        stages.push({
          stage,
          status: StageStatus.Failed,
          outcomes: [],
          reason: describeError(error),
          ...(entryId ? { entryId } : {}),
        });
      }
    }
    return {
      app: app.name,
      build,
      codeSha256: artifact.codeSha256,
      status: summarize(stages, request.dryRun),
      stages,
      ...(stageError ? { error: stageError } : {}),
    };
  } finally {
    await artifact.dispose();
  }
}

function summarize(stages: readonly StageResult[], dryRun?: boolean): BuildStatus {
  if (stages.some((s) => s.status === StageStatus.Failed)) return BuildStatus.Failed;
  if (stages.length > 0 && stages.every((s) => s.status === StageStatus.Skipped)) return BuildStatus.Skipped;
  return dryRun ? BuildStatus.Planned : BuildStatus.Succeeded;
}

/** The artifact could not be used: rejected (permanent) or failed (transient); recorded per stage either way. */
async function refuse(
  runtime: Runtime,
  log: DeployLog,
  request: BuildDeployRequest,
  ctx: { caller: string; attempt: { id: string; startedAt: string } },
  error: unknown,
): Promise<BuildDeployResult> {
  const { app, build } = request;
  const rejected = isFerryError(error) && !error.transient;
  log[rejected ? 'warn' : 'error'](rejected ? 'artifact rejected' : 'artifact could not be read', {
    app: app.name,
    build,
    key: request.location.key,
    versionId: request.location.versionId,
    reason: describeError(error),
    trigger: request.trigger,
  });
  if (!request.dryRun) await recordRefusal(runtime, log, request, ctx, error, rejected);
  return {
    app: app.name,
    build,
    status: rejected ? BuildStatus.Rejected : BuildStatus.Failed,
    stages: [],
    error: error instanceof Error ? error : new Error(describeError(error)),
  };
}

async function recordRefusal(
  runtime: Runtime,
  log: DeployLog,
  request: BuildDeployRequest,
  ctx: { caller: string; attempt: { id: string; startedAt: string } },
  error: unknown,
  rejected: boolean,
): Promise<void> {
  const { location } = request;
  const source = { ...describeSource(location), region: location.region };
  for (const stage of request.stages) {
    try {
      if (rejected) {
        await recordRejected(runtime, {
          app: request.app.name,
          stage,
          build: request.build,
          source,
          trigger: request.trigger,
          caller: ctx.caller,
          ...(request.pipeline ? { pipeline: request.pipeline } : {}),
          startedAt: ctx.attempt.startedAt,
          error,
        });
      } else {
        await recordAttempt(
          runtime,
          buildLedgerEntry({
            attempt: { id: startAttempt(runtime).id, startedAt: ctx.attempt.startedAt },
            app: request.app.name,
            stage,
            build: request.build,
            source,
            trigger: request.trigger,
            caller: ctx.caller,
            ...(request.pipeline ? { pipeline: request.pipeline } : {}),
            endedAt: new Date(runtime.now()).toISOString(),
            outcome: LedgerOutcome.Failed,
            reason: describeError(error),
            ...(isFerryError(error) ? { code: error.code } : {}),
          }),
        );
      }
    } catch (ledgerError) {
      // The artifact store itself may be what failed; the log line above still names the attempt.
      log.error('could not record the attempt in the ledger', {
        app: request.app.name,
        stage,
        reason: describeError(ledgerError),
      });
    }
  }
}

/**
 * Records a stage that failed before or around its deployment (releaseToStage threw) as a failed
 * ledger entry with the reason, and logs it. Best effort: when the ledger itself is what failed the
 * log line still names the attempt. Returns the entry id when one was written, or already was
 * (current-state contention after the attempt's own entry was recorded: no duplicate is written).
 */
async function recordStageFailure(
  runtime: Runtime,
  log: DeployLog,
  request: BuildDeployRequest,
  ctx: { caller: string; artifact: PreparedArtifact; stage: string; attempt: { id: string; startedAt: string } },
  error: unknown,
): Promise<string | undefined> {
  const { artifact, stage } = ctx;
  const recorded = isFerryError(error) && error.code === 'LEDGER_CURRENT_CONTENDED' ? error.context.entryId : undefined;
  log.error('stage release failed', {
    app: request.app.name,
    build: request.build,
    stage,
    trigger: request.trigger,
    reason: describeError(error),
    errorCode: isFerryError(error) ? error.code : undefined,
    transient: isTransient(error),
    ...(typeof recorded === 'string' ? { entryId: recorded } : {}),
  });
  if (request.dryRun) return undefined;
  if (typeof recorded === 'string') return recorded;
  const entry = buildLedgerEntry({
    attempt: ctx.attempt,
    app: request.app.name,
    stage,
    build: request.build,
    codeSha256: artifact.codeSha256,
    source: sourceOf(artifact),
    trigger: request.trigger,
    caller: ctx.caller,
    ...(request.pipeline ? { pipeline: request.pipeline } : {}),
    endedAt: new Date(runtime.now()).toISOString(),
    outcome: LedgerOutcome.Failed,
    reason: describeError(error),
    ...(isFerryError(error) ? { code: error.code } : {}),
  });
  try {
    // The entry only: a failed entry without failed targets never changes the current state
    // (applyEntryToCurrent), and the current state may be what could not be read.
    await writeEntry(runtime, entry);
    return entry.id;
  } catch (ledgerError) {
    log.error('could not record the attempt in the ledger', {
      app: request.app.name,
      stage,
      reason: describeError(ledgerError),
    });
    return undefined;
  }
}

function logOutcome(
  log: DeployLog,
  artifact: PreparedArtifact,
  stage: string,
  trigger: Trigger,
  outcome: TargetOutcome,
): void {
  const { target } = outcome;
  const line = {
    app: artifact.app,
    build: artifact.build,
    stage,
    account: target.accountId,
    region: target.region,
    function: target.functionName,
    alias: target.alias,
    previousVersion: outcome.previousVersion,
    version: outcome.version,
    codeSha256: outcome.codeSha256,
    commit: artifact.commit,
    durationMs: outcome.durationMs,
    outcome: outcome.status,
    trigger,
    ...(outcome.plan ? { plan: describePlan(outcome.plan) } : {}),
    ...describeFailureFields(outcome.error),
  };
  if (outcome.status === TargetStatus.Failed) log.error('target deployment failed', line);
  else log.info(`target ${outcome.status}`, line);
}
