/**
 * Promotion: the build proven in one stage moves to the next, as the exact same artifact object
 * version, after its checksum is checked against what the source stage runs. The rules (soak,
 * window, no failures) are decided in core/promotion-plan.ts; the deployment itself goes through
 * deployBuild, so order checks, the lease and the ledger apply as for any other trigger. Running a
 * schedule twice is harmless: the second run finds the target stage already at that build.
 */
import { findStage, type PromotionRule } from '../core/config.js';
import { describeError, InputError } from '../core/errors.js';
import type { CurrentState, LedgerEntry } from '../core/ledger-model.js';
import { LedgerOutcome, Trigger } from '../core/ledger-model.js';
import {
  type PromotionCandidate,
  type PromotionCheck,
  type PromotionDecision,
  type PromotionInput,
  planPromotion,
} from '../core/promotion-plan.js';
import { findServedDrift } from '../core/served-check.js';
import { buildSessionName } from '../core/session-name.js';
import { didYouMean } from '../core/suggest.js';
import type { TrafficOverrides } from '../core/traffic-config.js';
import type { Runtime } from '../runtime/create-runtime.js';
import { BuildStatus, type DeployLog, deployBuild, StageStatus } from './deploy-build.js';
import type { TargetOutcome } from './deploy-stage.js';
import { type DeploymentSummary, describeDeploymentFailure, summarizeDeployment } from './deploy-summary.js';
import { readCurrent, readHistory, recordRejected, resolveCaller } from './ledger.js';
import { observeServed } from './observe-served.js';

export const PromotionStatus = {
  Promoted: 'promoted',
  /** Nothing to move: no live build, not yet on every source target, or the target stage already has it. */
  NothingToPromote: 'nothing-to-promote',
  /** A rule holds the build back for now (soak, window, failures). */
  Waiting: 'waiting',
  /**
   * Not allowed: no rule for the pair (without --force), or the ledger disagrees with what the
   * source targets really serve. Nothing moved; the reason names why.
   */
  Refused: 'refused',
  /** Dry run: the deployment that would happen. */
  Planned: 'planned',
  Failed: 'failed',
} as const;
export type PromotionStatus = (typeof PromotionStatus)[keyof typeof PromotionStatus];

export interface PromoteRequest {
  readonly app: string;
  readonly from: string;
  readonly to: string;
  /** Default: the source stage's current build. */
  readonly build?: string;
  readonly trigger: Trigger;
  readonly dryRun?: boolean;
  readonly now?: Date;
  /** Operator override: promote although soak, window or no-failure rules say wait, or no rule covers the pair (recorded in the ledger). */
  readonly force?: boolean;
  readonly caller?: string;
  /** Called as each target of the destination stage finishes (CLI progress). */
  readonly onTargetDone?: (outcome: TargetOutcome) => void;
  /** The operator's --traffic allAtOnce / --ignore-alarms. */
  readonly overrides?: TrafficOverrides;
}

export interface PromotionResult {
  readonly app: string;
  readonly from: string;
  readonly to: string;
  readonly status: PromotionStatus;
  readonly build?: string;
  readonly codeSha256?: string;
  /** One line: what happened or why not ("nothing to promote: staging already runs 42"). */
  readonly reason: string;
  readonly checks: readonly PromotionCheck[];
  readonly rule?: PromotionRule;
  readonly deployment?: DeploymentSummary;
}

/** Promotes one app from one stage to the next (CLI or schedule). Throws InputError for unknown apps or stages. */
export async function promote(runtime: Runtime, log: DeployLog, req: PromoteRequest): Promise<PromotionResult> {
  const { config } = runtime;
  const app = config.apps[req.app];
  if (app === undefined) {
    throw new InputError(
      'UNKNOWN_APP',
      `No app '${req.app}' is configured.${didYouMean(req.app, Object.keys(config.apps))} Known apps: ${Object.keys(config.apps).join(', ') || 'none'}.`,
      {
        context: { app: req.app },
      },
    );
  }
  const from = findStage(config, req.from);
  const to = findStage(config, req.to);
  if (from === undefined || to === undefined || to.index <= from.index) {
    throw new InputError(
      'PROMOTION_INVALID',
      `Cannot promote ${req.app} from '${req.from}' to '${req.to}': both must be configured stages and '${req.to}' must come after '${req.from}' (stages: ${config.stages.map((s) => s.name).join(' → ')}).`,
      { context: { app: req.app, from: req.from, to: req.to } },
    );
  }
  const sourceTargets = app.targets[from.name] ?? [];
  const nextTargets = app.targets[to.name] ?? [];
  if (sourceTargets.length === 0 || nextTargets.length === 0) {
    throw new InputError(
      'PROMOTION_NO_TARGETS',
      `App ${req.app} has no targets in ${sourceTargets.length === 0 ? from.name : to.name}; add them under apps.${req.app}.targets.`,
      { context: { app: req.app, from: from.name, to: to.name } },
    );
  }
  const rule = app.promotions.find((r) => r.from === from.name && r.to === to.name);
  const now = req.now ?? new Date(runtime.now());
  const [sourceCurrent, targetCurrent] = await Promise.all([
    readCurrent(runtime, app.name, from.name),
    readCurrent(runtime, app.name, to.name),
  ]);
  const { candidate, noCandidateReason } = await findCandidate(runtime, app.name, from.name, sourceCurrent, req.build);
  const input: PromotionInput = {
    from: from.name,
    to: to.name,
    ...(rule ? { rule } : {}),
    ...(candidate ? { candidate } : {}),
    ...(noCandidateReason ? { noCandidateReason } : {}),
    sourceTargetIds: sourceTargets.map((t) => t.id),
    ...(sourceCurrent?.lastFailureAt ? { sourceLastFailureAt: sourceCurrent.lastFailureAt } : {}),
    ...(targetCurrent ? { target: targetCurrent } : {}),
    now,
    ...(req.force ? { force: true } : {}),
    configuredPairs: app.promotions.map((r) => `${r.from}→${r.to}`),
  };
  let decision: PromotionDecision = planPromotion(input);
  if (decision.action === 'observe' && candidate !== undefined) {
    // The ledger says promote: check its word against what the source targets really serve.
    const served = await observeServed(
      runtime,
      sourceTargets,
      buildSessionName(app.name, candidate.build),
      candidate.versions,
    );
    const expected = sourceTargets.map((t) => ({ targetId: t.id, codeSha256: candidate.codeSha256 }));
    decision = planPromotion({ ...input, servedDrift: findServedDrift(expected, served) });
  }
  const base = { app: app.name, from: from.name, to: to.name, checks: decision.checks, ...(rule ? { rule } : {}) };
  if (decision.action !== 'promote') {
    if (decision.action === 'refuse' && !req.dryRun) {
      const failed = decision.checks.find((c) => !c.passed && !c.overridden)?.name;
      const code = failed === 'rule' ? 'PROMOTION_NO_RULE' : 'PROMOTION_LEDGER_DRIFT';
      await recordRefusedPromotion(runtime, { ...req, app: app.name, to: to.name }, candidate, code, decision.reason);
    }
    return {
      ...base,
      status:
        decision.action === 'wait'
          ? PromotionStatus.Waiting
          : decision.action === 'refuse'
            ? PromotionStatus.Refused
            : PromotionStatus.NothingToPromote,
      ...(candidate ? { build: candidate.build, codeSha256: candidate.codeSha256 } : {}),
      reason: decision.reason,
    };
  }
  const { source, build, codeSha256 } = decision.candidate;
  const result = await deployBuild(runtime, log, {
    app,
    build,
    location: {
      bucket: source.bucket,
      key: source.key,
      ...(source.versionId ? { versionId: source.versionId } : {}),
      region: source.region ?? config.region,
    },
    stages: [to.name],
    trigger: req.trigger,
    expectedCodeSha256: codeSha256,
    ...(req.dryRun ? { dryRun: true } : {}),
    ...(req.caller ? { caller: req.caller } : {}),
    ...(req.onTargetDone ? { onTargetDone: req.onTargetDone } : {}),
    ...(decision.forced ? { forced: decision.forced } : {}),
    ...(rule?.traffic ? { trafficRule: rule.traffic } : {}),
    ...(req.overrides ? { overrides: req.overrides } : {}),
  });
  const deployment = summarizeDeployment(result);
  const withBuild = { ...base, build, codeSha256, deployment };
  switch (result.status) {
    case BuildStatus.Succeeded:
      return {
        ...withBuild,
        status: PromotionStatus.Promoted,
        reason: result.stages.some((s) => s.status === StageStatus.Shifting)
          ? `promoting ${build} from ${from.name} to ${to.name}: ${result.stages.find((s) => s.status === StageStatus.Shifting)?.reason ?? 'shifting'}`
          : `promoted ${build} from ${from.name} to ${to.name}`,
      };
    case BuildStatus.Planned:
      return { ...withBuild, status: PromotionStatus.Planned, reason: `would ${decision.reason}` };
    case BuildStatus.Skipped:
      return {
        ...withBuild,
        status: PromotionStatus.NothingToPromote,
        reason: `nothing to promote: ${result.stages[0]?.reason ?? `${to.name} already runs ${build} or newer`}`,
      };
    default:
      return {
        ...withBuild,
        status: PromotionStatus.Failed,
        reason: `promoting ${build} to ${to.name} failed: ${describeDeploymentFailure(result)}`,
      };
  }
}

async function findCandidate(
  runtime: Runtime,
  app: string,
  stage: string,
  current: CurrentState | undefined,
  build: string | undefined,
): Promise<{ candidate?: PromotionCandidate; noCandidateReason?: string }> {
  if (build === undefined || build === current?.build) {
    if (current === undefined) return { noCandidateReason: `${stage} has no live build` };
    return {
      candidate: {
        build: current.build,
        codeSha256: current.codeSha256,
        ...(current.source ? { source: current.source } : {}),
        liveSince: current.liveSince,
        succeededOn: Object.keys(current.targets),
      },
    };
  }
  // An explicitly named older build: it must have succeeded in the source stage; its own entries say where.
  const entries = (await readHistory(runtime, { app, stage, limit: 500 })).filter(
    (e) => e.build === build && e.outcome === LedgerOutcome.Succeeded,
  );
  const first = entries.at(-1);
  if (first === undefined || first.codeSha256 === undefined) {
    return { noCandidateReason: `build ${build} never succeeded in ${stage}` };
  }
  return {
    candidate: {
      build,
      codeSha256: first.codeSha256,
      ...(first.source ? { source: first.source } : {}),
      liveSince: first.endedAt,
      succeededOn: succeededTargets(entries),
      versions: recordedVersions(entries, first.codeSha256),
    },
  };
}

/** Per target, the newest version the entries record for this code (entries newest first). */
function recordedVersions(entries: readonly LedgerEntry[], codeSha256: string): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const entry of entries) {
    if (entry.codeSha256 !== codeSha256) continue;
    for (const t of entry.targets) {
      if (t.outcome !== 'failed' && t.version !== undefined && versions[t.targetId] === undefined) {
        versions[t.targetId] = t.version;
      }
    }
  }
  return versions;
}

/** A refused promotion is an attempt too: recorded in the destination stage's ledger with its reason. */
async function recordRefusedPromotion(
  runtime: Runtime,
  req: { app: string; to: string; trigger: Trigger; caller?: string },
  candidate: PromotionCandidate | undefined,
  code: string,
  reason: string,
): Promise<void> {
  await recordRejected(runtime, {
    app: req.app,
    stage: req.to,
    ...(candidate ? { build: candidate.build } : {}),
    source: candidate?.source ?? { bucket: runtime.config.artifactBucket, key: '' },
    trigger: req.trigger,
    caller: await resolveCaller(runtime, req.caller),
    error: new InputError(code, reason, { context: { app: req.app, stage: req.to } }),
  });
}

function succeededTargets(entries: readonly LedgerEntry[]): string[] {
  return [...new Set(entries.flatMap((e) => e.targets.filter((t) => t.outcome !== 'failed').map((t) => t.targetId)))];
}

export interface ScheduleFilter {
  readonly app?: string;
  readonly from?: string;
  readonly to?: string;
}

/**
 * Runs every configured promotion rule that matches the filter, one result per rule. A rule that
 * throws (an unreadable ledger, a missing role) becomes a failed result; the other rules still run.
 */
export async function runScheduledPromotions(
  runtime: Runtime,
  log: DeployLog,
  filter: ScheduleFilter,
  now?: Date,
): Promise<PromotionResult[]> {
  const { apps } = runtime.config;
  if (filter.app !== undefined && apps[filter.app] === undefined) {
    throw new InputError(
      'UNKNOWN_APP',
      `The schedule names app '${filter.app}', which is not configured. Known apps: ${Object.keys(apps).join(', ') || 'none'}.`,
      {
        context: { app: filter.app },
      },
    );
  }
  checkScheduleStages(runtime, filter);
  const at = now ?? new Date(runtime.now());
  const results: PromotionResult[] = [];
  for (const app of Object.values(apps)) {
    if (filter.app !== undefined && app.name !== filter.app) continue;
    for (const rule of app.promotions) {
      if (
        (filter.from !== undefined && rule.from !== filter.from) ||
        (filter.to !== undefined && rule.to !== filter.to)
      )
        continue;
      try {
        results.push(
          await promote(runtime, log, {
            app: app.name,
            from: rule.from,
            to: rule.to,
            trigger: Trigger.Schedule,
            now: at,
          }),
        );
      } catch (error) {
        results.push({
          app: app.name,
          from: rule.from,
          to: rule.to,
          status: PromotionStatus.Failed,
          reason: `promotion from ${rule.from} to ${rule.to} failed: ${describeError(error)}`,
          checks: [],
          rule,
        });
      }
    }
  }
  return results;
}

/**
 * A schedule input naming a stage that does not exist, or one exact rule that the app does not
 * have, would silently promote nothing on every run: it is refused as the misconfiguration it is.
 */
function checkScheduleStages(runtime: Runtime, filter: ScheduleFilter): void {
  const stages = runtime.config.stages.map((s) => s.name);
  const context = filter.app === undefined ? {} : { app: filter.app };
  for (const field of ['from', 'to'] as const) {
    const stage = filter[field];
    if (stage !== undefined && !stages.includes(stage)) {
      throw new InputError(
        'SCHEDULE_INPUT_INVALID',
        `The schedule input's '${field}' names stage '${stage}', which is not configured.${didYouMean(stage, stages)} Known stages: ${stages.join(', ')}. Fix the rule's input.`,
        { context },
      );
    }
  }
  const app = filter.app === undefined ? undefined : runtime.config.apps[filter.app];
  if (app && filter.from !== undefined && filter.to !== undefined) {
    if (!app.promotions.some((rule) => rule.from === filter.from && rule.to === filter.to)) {
      throw new InputError(
        'SCHEDULE_INPUT_INVALID',
        `The schedule input names ${app.name} ${filter.from}→${filter.to}, but ${app.name} has no promotion rule from ${filter.from} to ${filter.to}. Fix the rule's input or add the promotion rule.`,
        { context },
      );
    }
  }
}

/**
 * Files a refused schedule input in the ledger of the app it names, when that app is configured
 * (under the `to` stage when that is one of the app's stages), so `ferry history` shows why a
 * scheduled promotion never ran. An input that names no known app has no ledger to go to: the
 * log line is its record. A ledger that cannot be written is logged, never thrown: the input is
 * refused either way.
 */
export async function recordRejectedSchedule(
  runtime: Runtime,
  log: DeployLog,
  input: { app?: unknown; to?: unknown },
  error: InputError,
): Promise<void> {
  const app = typeof input.app === 'string' ? runtime.config.apps[input.app] : undefined;
  if (!app) return;
  const stage = typeof input.to === 'string' && app.targets[input.to] !== undefined ? input.to : undefined;
  try {
    await recordRejected(runtime, {
      app: app.name,
      ...(stage ? { stage } : {}),
      trigger: Trigger.Schedule,
      error,
    });
  } catch (ledgerError) {
    log.error('could not record the rejected schedule input in the ledger', {
      app: app.name,
      reason: describeError(ledgerError),
    });
  }
}
