/**
 * Whether a promotion rule lets the build proven in one stage move to the next, as plain data:
 * every check is listed with its outcome, so the schedule's summary line, `--dry-run` and tests
 * all show why a build was or was not promoted.
 */
import { compareBuilds } from './artifact-key.js';
import type { PromotionRule, Weekday } from './config.js';
import { WEEKDAYS } from './config.js';
import type { CurrentState, LedgerSource } from './ledger-model.js';
import { describeServedDrift, type ServedDrift } from './served-check.js';

/** The build a source stage offers: its current build, or an explicitly named one from its history. */
export interface PromotionCandidate {
  readonly build: string;
  readonly codeSha256: string;
  readonly source?: LedgerSource;
  readonly liveSince: string;
  /** Target ids of the source stage on which this build succeeded. */
  readonly succeededOn: readonly string[];
  /**
   * For a build the source stage no longer runs: the version the ledger says holds it on each
   * source target (checked live instead of the alias). Absent: the build is the one the aliases serve.
   */
  readonly versions?: Readonly<Record<string, string>>;
}

export interface PromotionInput {
  readonly from: string;
  readonly to: string;
  /** Undefined for an ad-hoc (CLI) promotion without a configured rule: only the safety checks apply. */
  readonly rule?: PromotionRule;
  readonly candidate?: PromotionCandidate;
  /** Why there is no candidate, when there is none. */
  readonly noCandidateReason?: string;
  /** Every configured target id of the source stage. */
  readonly sourceTargetIds: readonly string[];
  readonly sourceLastFailureAt?: string;
  readonly target?: CurrentState;
  readonly now: Date;
  /** Operator override: soak, window and no-failure rules are reported but not enforced, and a pair without a rule is allowed. */
  readonly force?: boolean;
  /** The configured rules of the app, `from→to`, to name the path when a pair has none. */
  readonly configuredPairs?: readonly string[];
  /**
   * What the source targets really serve compared with the candidate (core/served-check.ts).
   * Absent: not observed yet, so no promotion is decided; the engine observes once the ledger's
   * checks pass, then plans again with it.
   */
  readonly servedDrift?: readonly ServedDrift[];
}

export type CheckName =
  | 'rule'
  | 'candidate'
  | 'all-targets'
  | 'order'
  | 'source'
  | 'served'
  | 'soak'
  | 'window'
  | 'no-failures';

export interface PromotionCheck {
  readonly name: CheckName;
  readonly passed: boolean;
  readonly detail: string;
  /** A failed rule check that a forced promotion ignored. */
  readonly overridden?: boolean;
}

export type PromotionDecision =
  | {
      readonly action: 'promote';
      readonly candidate: PromotionCandidate & { readonly source: LedgerSource };
      readonly reason: string;
      /** The checks a forced promotion went past (the missing rule, soak, window…), for the ledger. */
      readonly forced?: readonly string[];
      readonly checks: readonly PromotionCheck[];
    }
  | {
      /**
       * nothing: there is nothing to move; wait: a rule holds the build back for now; refuse: the
       * promotion is not allowed (no rule for the pair without --force, or the ledger disagrees
       * with what the source targets serve); observe: the ledger's checks pass, read the source
       * targets and plan again with `servedDrift`.
       */
      readonly action: 'nothing' | 'wait' | 'refuse' | 'observe';
      readonly reason: string;
      readonly checks: readonly PromotionCheck[];
    };

const MINUTE = 60_000;

export function planPromotion(input: PromotionInput): PromotionDecision {
  const { candidate, from, to } = input;
  const checks: PromotionCheck[] = [];
  if (input.rule === undefined) {
    const path = input.configuredPairs?.length ? input.configuredPairs.join(', ') : 'none';
    const detail = `no promotion rule from ${from} to ${to} (configured: ${path})`;
    if (input.force !== true) {
      const reason = `refusing to promote from ${from} to ${to}: ${detail}; promote along the configured path, or pass --force (recorded in the ledger with the caller)`;
      checks.push({ name: 'rule', passed: false, detail });
      return { action: 'refuse', reason, checks };
    }
    checks.push({ name: 'rule', passed: false, detail, overridden: true });
  } else {
    checks.push({ name: 'rule', passed: true, detail: `rule ${from}→${to}` });
  }
  if (candidate === undefined) {
    const reason = `nothing to promote: ${input.noCandidateReason ?? `${from} has no live build`}`;
    checks.push({ name: 'candidate', passed: false, detail: reason });
    return { action: 'nothing', reason, checks };
  }
  checks.push({ name: 'candidate', passed: true, detail: `${from} offers build ${candidate.build}` });

  const missing = input.sourceTargetIds.filter((id) => !candidate.succeededOn.includes(id));
  if (missing.length > 0) {
    const reason = `nothing to promote: build ${candidate.build} has not succeeded on every ${from} target (missing ${missing.join(', ')})`;
    checks.push({ name: 'all-targets', passed: false, detail: reason });
    return { action: 'nothing', reason, checks };
  }
  checks.push({
    name: 'all-targets',
    passed: true,
    detail: `succeeded on all ${input.sourceTargetIds.length} ${from} target(s)`,
  });

  const running = input.target;
  if (running !== undefined && compareBuilds(running.build, candidate.build) >= 0) {
    const reason =
      running.build === candidate.build
        ? `nothing to promote: ${to} already runs ${candidate.build}`
        : `nothing to promote: ${to} runs ${running.build}, newer than ${from}'s ${candidate.build}`;
    checks.push({ name: 'order', passed: false, detail: reason });
    return { action: 'nothing', reason, checks };
  }
  checks.push({
    name: 'order',
    passed: true,
    detail:
      running === undefined ? `${to} has no build yet` : `${candidate.build} is newer than ${to}'s ${running.build}`,
  });

  const source = candidate.source;
  if (source === undefined) {
    const reason = `nothing to promote: the ledger does not record which artifact object build ${candidate.build} came from`;
    checks.push({ name: 'source', passed: false, detail: reason });
    return { action: 'nothing', reason, checks };
  }
  checks.push({ name: 'source', passed: true, detail: `s3://${source.bucket}/${source.key}` });

  const rule = input.rule;
  const ruleChecks = rule === undefined ? [] : checkRule(rule, candidate, input);
  const blocking = ruleChecks.filter((c) => !c.passed);
  if (blocking.length > 0 && input.force !== true) {
    checks.push(...ruleChecks);
    return {
      action: 'wait',
      reason: `not promoting ${candidate.build}: ${blocking.map((c) => c.detail).join('; ')}`,
      checks,
    };
  }
  checks.push(...ruleChecks.map((c) => (c.passed ? c : { ...c, overridden: true })));

  const drift = input.servedDrift;
  if (drift === undefined) {
    return { action: 'observe', reason: `read what ${from} serves before promoting ${candidate.build}`, checks };
  }
  if (drift.length > 0) {
    const detail = `the ledger and ${from} disagree: ${describeServedDrift(drift)}`;
    checks.push({ name: 'served', passed: false, detail });
    return { action: 'refuse', reason: `refusing to promote ${candidate.build}: ${detail}`, checks };
  }
  checks.push({
    name: 'served',
    passed: true,
    detail: `every ${from} target serves ${candidate.codeSha256}`,
  });

  const overridden = [...(rule === undefined ? ['rule'] : []), ...blocking.map((c) => c.name)];
  const forced = overridden.length > 0 ? ` (forced past: ${overridden.join(', ')})` : '';
  return {
    action: 'promote',
    candidate: { ...candidate, source },
    reason: `promote ${candidate.build} from ${from} to ${to}${forced}`,
    ...(overridden.length > 0 ? { forced: overridden } : {}),
    checks,
  };
}

function checkRule(rule: PromotionRule, candidate: PromotionCandidate, input: PromotionInput): PromotionCheck[] {
  const checks: PromotionCheck[] = [];
  const liveMs = Date.parse(candidate.liveSince);
  const soakedMinutes = Math.floor((input.now.getTime() - liveMs) / MINUTE);
  checks.push(
    soakedMinutes >= rule.minSoakMinutes
      ? {
          name: 'soak',
          passed: true,
          detail: `soaked ${soakedMinutes} of ${rule.minSoakMinutes} minutes in ${input.from}`,
        }
      : {
          name: 'soak',
          passed: false,
          detail: `${candidate.build} has soaked ${Math.max(0, soakedMinutes)} of ${rule.minSoakMinutes} minutes in ${input.from}`,
        },
  );
  if (rule.weekdays !== undefined || rule.hoursUtc !== undefined) {
    const inWindow = isInWindow(input.now, rule);
    const window = describeWindow(rule);
    checks.push({
      name: 'window',
      passed: inWindow,
      detail: inWindow
        ? `inside the window (${window})`
        : `outside the promotion window (${window}) at ${input.now.toISOString()}`,
    });
  }
  if (rule.requireNoFailures) {
    const failedAt = input.sourceLastFailureAt;
    const failedSince = failedAt !== undefined && Date.parse(failedAt) >= liveMs;
    checks.push({
      name: 'no-failures',
      passed: !failedSince,
      detail: failedSince
        ? `a deployment into ${input.from} failed at ${failedAt}, after ${candidate.build} went live at ${candidate.liveSince}`
        : `no failed deployment in ${input.from} since ${candidate.liveSince}`,
    });
  }
  return checks;
}

/** True when `now` (UTC) falls on an allowed weekday and inside [hoursUtc.from, hoursUtc.to). */
export function isInWindow(now: Date, rule: Pick<PromotionRule, 'weekdays' | 'hoursUtc'>): boolean {
  const day = WEEKDAYS[now.getUTCDay()] as Weekday;
  if (rule.weekdays !== undefined && !rule.weekdays.includes(day)) return false;
  const hour = now.getUTCHours();
  if (rule.hoursUtc !== undefined && (hour < rule.hoursUtc.from || hour >= rule.hoursUtc.to)) return false;
  return true;
}

function describeWindow(rule: Pick<PromotionRule, 'weekdays' | 'hoursUtc'>): string {
  const days = rule.weekdays?.join(',') ?? 'any day';
  const pad = (h: number) => `${String(h).padStart(2, '0')}:00`;
  const hours = rule.hoursUtc ? `${pad(rule.hoursUtc.from)}–${pad(rule.hoursUtc.to)} UTC` : 'any hour';
  return `${days}, ${hours}`;
}
