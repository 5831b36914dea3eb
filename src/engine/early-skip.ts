/**
 * A late event for a build older than every stage it targets is recorded as skipped without
 * reading the artifact (up to 250 MB). Only a shortcut: the authoritative order check still runs
 * under the stage's lease after verification, so a race here can only cost a download.
 */

import { describeError } from '../core/errors.js';
import { buildLedgerEntry, describeSource, LedgerOutcome } from '../core/ledger-model.js';
import { decideSkipByBuild } from '../core/release-order.js';
import type { Runtime } from '../runtime/create-runtime.js';
import { type BuildDeployRequest, type BuildDeployResult, BuildStatus } from './build-request.js';
import type { DeployLog } from './deploy-log.js';
import { readCurrent, recordAttempt, startAttempt } from './ledger.js';
import { type StageResult, StageStatus } from './release-stage.js';

export async function skipStaleBuild(
  runtime: Runtime,
  log: DeployLog,
  request: BuildDeployRequest,
  /** Resolved while the stages' current states are read; awaited only when a skip is recorded. */
  callerLookup: string | Promise<string>,
): Promise<BuildDeployResult | undefined> {
  const { app, build } = request;
  const skips = [];
  for (const stage of request.stages) {
    let current: Awaited<ReturnType<typeof readCurrent>>;
    try {
      current = await readCurrent(runtime, app.name, stage);
    } catch {
      return undefined; // the full path reports it, with the lease and the ledger
    }
    const skip = decideSkipByBuild(current, { stage, build, trigger: request.trigger });
    if (!skip) return undefined;
    skips.push({ stage, skip });
  }
  if (skips.length === 0) return undefined;
  const { location } = request;
  const caller = await callerLookup;
  const stages: StageResult[] = [];
  for (const { stage, skip } of skips) {
    const attempt = startAttempt(runtime);
    let entryId: string | undefined;
    try {
      await recordAttempt(
        runtime,
        buildLedgerEntry({
          attempt,
          app: app.name,
          stage,
          build,
          source: describeSource(location),
          trigger: request.trigger,
          caller,
          ...(request.pipeline ? { pipeline: request.pipeline } : {}),
          endedAt: new Date(runtime.now()).toISOString(),
          outcome: LedgerOutcome.Skipped,
          reason: skip.reason,
          code: skip.code,
        }),
      );
      entryId = attempt.id;
    } catch (error) {
      log.error('could not record the attempt in the ledger', { app: app.name, stage, reason: describeError(error) });
    }
    log.info('build skipped', {
      app: app.name,
      build,
      stage,
      trigger: request.trigger,
      reason: skip.reason,
      code: skip.code,
    });
    stages.push({
      stage,
      status: StageStatus.Skipped,
      outcomes: [],
      reason: skip.reason,
      ...(entryId ? { entryId } : {}),
    });
  }
  return { app: app.name, build, status: BuildStatus.Skipped, stages };
}
