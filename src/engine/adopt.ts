/**
 * `ferry adopt`: records the versions the aliases of functions ferry has never deployed serve
 * today as each stage's starting point (one ledger entry per app and stage, with the caller), so a
 * team's first status compares against them instead of showing every target as drift. A stage the
 * ledger already records is left alone; adoption never overwrites ferry's own history.
 */

import { type AdoptionPlan, type LiveAlias, planAdoption } from '../core/adopt-plan.js';
import { findStage } from '../core/config.js';
import { InputError } from '../core/errors.js';
import { buildLedgerEntry, LedgerOutcome, Trigger } from '../core/ledger-model.js';
import { didYouMean } from '../core/suggest.js';
import type { Runtime } from '../runtime/create-runtime.js';
import type { DeployLog } from './deploy-log.js';
import { recordAttempt, resolveCaller, startAttempt } from './ledger.js';
import { readStatus } from './status.js';

export interface AdoptRequest {
  readonly app?: string;
  readonly stage?: string;
  /** The build id to record (default: the one ferry's version descriptions name, else ADOPTED_BUILD). */
  readonly build?: string;
  readonly dryRun?: boolean;
  readonly caller?: string;
}

export interface AdoptStageResult {
  readonly app: string;
  readonly stage: string;
  readonly plan: AdoptionPlan;
  /** The ledger entry written (not on a dry run, nor when another writer recorded the stage first). */
  readonly entryId?: string;
  /** True when a deployment recorded the stage between the read and the write: nothing was adopted. */
  readonly overtaken?: boolean;
}

export interface AdoptResult {
  readonly dryRun: boolean;
  readonly caller: string;
  readonly stages: readonly AdoptStageResult[];
}

export async function adopt(runtime: Runtime, log: DeployLog, req: AdoptRequest): Promise<AdoptResult> {
  const { config } = runtime;
  if (req.stage !== undefined && findStage(config, req.stage) === undefined) {
    const names = config.stages.map((s) => s.name);
    throw new InputError(
      'UNKNOWN_STAGE',
      `No stage '${req.stage}' is configured.${didYouMean(req.stage, names)} Stages: ${names.join(', ')}.`,
      { context: { stage: req.stage } },
    );
  }
  const caller = req.dryRun ? (req.caller ?? 'dry-run') : await resolveCaller(runtime, req.caller);
  const report = await readStatus(runtime, req.app === undefined ? {} : { app: req.app });
  const stages: AdoptStageResult[] = [];
  for (const row of report.rows) {
    if (req.stage !== undefined && row.stage !== req.stage) continue;
    const live: LiveAlias[] = row.targets.map((t) => ({
      targetId: t.targetId,
      account: t.account,
      region: t.region,
      function: t.function,
      alias: t.alias,
      ...(t.version === undefined ? {} : { version: t.version }),
      ...(t.codeSha256 === undefined ? {} : { codeSha256: t.codeSha256 }),
      ...(t.liveBuild === undefined ? {} : { liveBuild: t.liveBuild }),
      ...(t.error === undefined ? {} : { error: t.error }),
    }));
    const plan = planAdoption(row.stage, row.build, live, req.build);
    if (plan.kind !== 'adopt' || req.dryRun) {
      stages.push({ app: row.app, stage: row.stage, plan });
      continue;
    }
    const attempt = startAttempt(runtime);
    const entry = buildLedgerEntry({
      attempt,
      app: row.app,
      stage: row.stage,
      build: plan.build,
      codeSha256: plan.codeSha256,
      targets: plan.targets.map((t) => ({
        targetId: t.targetId,
        account: t.account,
        region: t.region,
        function: t.function,
        alias: t.alias,
        previousVersion: t.version,
        version: t.version,
        outcome: 'adopted',
      })),
      trigger: Trigger.Cli,
      caller,
      endedAt: new Date(runtime.now()).toISOString(),
      outcome: LedgerOutcome.Adopted,
      reason: `adopted as ${row.stage}'s starting point: the versions its aliases served, never deployed by ferry`,
    });
    const after = await recordAttempt(runtime, entry);
    const overtaken = after?.lastEntryId !== entry.id;
    log.info(overtaken ? 'adoption overtaken' : 'stage adopted', {
      app: row.app,
      stage: row.stage,
      build: plan.build,
      caller,
    });
    stages.push({ app: row.app, stage: row.stage, plan, entryId: entry.id, ...(overtaken ? { overtaken } : {}) });
  }
  return { dryRun: req.dryRun === true, caller, stages };
}
