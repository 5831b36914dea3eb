/**
 * ferry's built-in canary analysis: the new version's error rate against the stable version's,
 * from Lambda's own metrics (AWS/Lambda Invocations and Errors by ExecutedVersion) over a step's
 * window. Like Argo Rollouts and Flagger, a verdict is Successful, Failed or Inconclusive; too few
 * invocations of the new version is Inconclusive, never a pass. Pure.
 */

export const Verdict = { Successful: 'Successful', Failed: 'Failed', Inconclusive: 'Inconclusive' } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export const InconclusiveAction = { Wait: 'wait', Proceed: 'proceed', Rollback: 'rollback' } as const;
export type InconclusiveAction = (typeof InconclusiveAction)[keyof typeof InconclusiveAction];

export interface AnalysisSettings {
  /** The new version may exceed the stable version's error rate by at most this (0–1; 0.02 = 2 points). */
  readonly maxErrorRateIncrease: number;
  /** An absolute ceiling on the new version's error rate (0–1), whatever the stable version does. */
  readonly maxErrorRate?: number;
  /** Fewer invocations of the new version in the window than this is Inconclusive. */
  readonly minInvocations: number;
  /** What an Inconclusive verdict at the end of a step does. */
  readonly onInconclusive: InconclusiveAction;
  /** With `wait`: how long a step may overrun waiting for enough invocations before rolling back. */
  readonly maxWaitMinutes: number;
}

export const DEFAULT_ANALYSIS: AnalysisSettings = {
  maxErrorRateIncrease: 0.02,
  minInvocations: 50,
  onInconclusive: InconclusiveAction.Wait,
  maxWaitMinutes: 30,
};

export interface VersionSample {
  readonly invocations: number;
  readonly errors: number;
}

export interface AnalysisInput {
  readonly stable: VersionSample;
  readonly canary: VersionSample;
}

export interface AnalysisResult {
  readonly verdict: Verdict;
  /** One line a human reads in `ferry status` and in a rollback reason. */
  readonly detail: string;
}

/** Errors/Invocations, 0 without invocations; Errors above Invocations (late metrics) count as 1. */
export function errorRate(sample: VersionSample): number {
  if (sample.invocations <= 0) return 0;
  return Math.min(1, Math.max(0, sample.errors) / sample.invocations);
}

const pct = (rate: number) => `${(rate * 100).toFixed(1)}%`;

/**
 * Judges one window. The stable rate is the baseline only when the stable version itself had
 * enough invocations; otherwise the baseline is 0 (a new version may not error more than the
 * allowed increase on its own).
 */
export function judgeCanary(input: AnalysisInput, settings: AnalysisSettings): AnalysisResult {
  const { canary, stable } = input;
  if (canary.invocations < settings.minInvocations) {
    return {
      verdict: Verdict.Inconclusive,
      detail: `${canary.invocations} invocation(s) of the new version, fewer than the ${settings.minInvocations} needed to judge`,
    };
  }
  const canaryRate = errorRate(canary);
  const baselineKnown = stable.invocations >= settings.minInvocations;
  const stableRate = baselineKnown ? errorRate(stable) : 0;
  const seen = `new version ${pct(canaryRate)} errors over ${canary.invocations} invocations, stable ${baselineKnown ? `${pct(stableRate)} over ${stable.invocations}` : `not enough invocations (${stable.invocations}), baseline 0%`}`;
  if (settings.maxErrorRate !== undefined && canaryRate > settings.maxErrorRate) {
    return { verdict: Verdict.Failed, detail: `${seen}: above the ${pct(settings.maxErrorRate)} ceiling` };
  }
  // A tiny epsilon keeps 0.1 + 0.02 from failing a rate of exactly 0.12.
  if (canaryRate > stableRate + settings.maxErrorRateIncrease + 1e-9) {
    return {
      verdict: Verdict.Failed,
      detail: `${seen}: more than ${pct(settings.maxErrorRateIncrease)} above the stable version`,
    };
  }
  return { verdict: Verdict.Successful, detail: seen };
}
