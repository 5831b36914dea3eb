/**
 * Traffic policies: how an alias moves from the stable version to the new one. `allAtOnce` is
 * today's single alias move; `canary` and `linear` shift through weighted alias routing in steps,
 * each held for some minutes. CodeDeploy's predefined names (Canary10Percent5Minutes,
 * Linear10PercentEvery1Minute, with or without `CodeDeployDefault.Lambda`) and the CodePipeline
 * Lambda deploy action's CanaryXPercentYMinutes / LinearXPercentEveryYMinute(s) are accepted, so
 * settings carry over; custom steps are plain data. Pure: no AWS here.
 */

/** One held weight: the new version gets `percent` % of invocations for `minutes`. */
export interface TrafficStep {
  readonly percent: number;
  readonly minutes: number;
}

/** A resolved policy: no steps means all at once. After the last step the alias moves to 100 %. */
export interface TrafficPolicy {
  /** The name as configured (or a canonical name for object forms), for logs and the ledger. */
  readonly name: string;
  readonly steps: readonly TrafficStep[];
}

export const ALL_AT_ONCE: TrafficPolicy = { name: 'allAtOnce', steps: [] };

/** CodeDeploy's bounds: at most 99 % per step, at most 2,880 minutes from the first shift to the last. */
export const TRAFFIC_LIMITS = { maxPercent: 99, maxTotalMinutes: 2_880, maxSteps: 100 } as const;

/** The policy forms a configuration may hold (after schema validation). */
export type TrafficPolicySpec =
  | string
  | { readonly canary: { readonly percent: number; readonly minutes: number } }
  | { readonly linear: { readonly percent: number; readonly everyMinutes: number } }
  | { readonly steps: readonly TrafficStep[] };

export type PolicyResult =
  | { readonly ok: true; readonly policy: TrafficPolicy }
  | { readonly ok: false; readonly problem: string };

const NAMED_CANARY = /^(?:CodeDeployDefault\.Lambda)?Canary(\d{1,2})Percent(\d{1,4})Minutes?$/;
const NAMED_LINEAR = /^(?:CodeDeployDefault\.Lambda)?Linear(\d{1,2})PercentEvery(\d{1,4})Minutes?$/;
const NAMED_ALL = /^(?:CodeDeployDefault\.Lambda)?AllAtOnce$/i;

/** Resolves a configured policy into its steps, or says what is wrong (the caller names the field). */
export function resolveTrafficPolicy(spec: TrafficPolicySpec): PolicyResult {
  if (typeof spec === 'string') return resolveNamed(spec);
  if ('canary' in spec) {
    const { percent, minutes } = spec.canary;
    return checked(`Canary${percent}Percent${minutes}Minutes`, [{ percent, minutes }]);
  }
  if ('linear' in spec) {
    const { percent, everyMinutes } = spec.linear;
    return checked(`Linear${percent}PercentEvery${everyMinutes}Minutes`, linearSteps(percent, everyMinutes));
  }
  const name = `custom(${spec.steps.map((s) => `${s.percent}%/${s.minutes}m`).join(',')})`;
  return checked(name, spec.steps);
}

function resolveNamed(name: string): PolicyResult {
  if (NAMED_ALL.test(name)) return { ok: true, policy: ALL_AT_ONCE };
  const canary = NAMED_CANARY.exec(name);
  if (canary) return checked(name, [{ percent: Number(canary[1]), minutes: Number(canary[2]) }]);
  const linear = NAMED_LINEAR.exec(name);
  if (linear) return checked(name, linearSteps(Number(linear[1]), Number(linear[2])));
  return {
    ok: false,
    problem: `unknown policy '${name}'; expected allAtOnce, Canary<percent>Percent<minutes>Minutes (e.g. Canary10Percent5Minutes), Linear<percent>PercentEvery<minutes>Minute(s) (e.g. Linear10PercentEvery1Minute), or an object {canary}, {linear} or {steps}`,
  };
}

/** Linear: percent, 2×percent, … below 100, each held for the interval (as CodeDeploy shifts). */
function linearSteps(percent: number, everyMinutes: number): TrafficStep[] {
  // Out of range: let the step check name the percent.
  if (!(percent >= 1 && percent <= TRAFFIC_LIMITS.maxPercent)) return [{ percent, minutes: everyMinutes }];
  const steps: TrafficStep[] = [];
  for (let p = percent; p < 100 && steps.length <= TRAFFIC_LIMITS.maxSteps; p += percent) {
    steps.push({ percent: p, minutes: everyMinutes });
  }
  return steps;
}

function checked(name: string, steps: readonly TrafficStep[]): PolicyResult {
  if (steps.length === 0) return { ok: false, problem: 'a custom policy needs at least one step' };
  if (steps.length > TRAFFIC_LIMITS.maxSteps) {
    return { ok: false, problem: `${steps.length} steps; at most ${TRAFFIC_LIMITS.maxSteps}` };
  }
  let previous = 0;
  for (const [i, step] of steps.entries()) {
    if (!Number.isInteger(step.percent) || step.percent < 1 || step.percent > TRAFFIC_LIMITS.maxPercent) {
      return { ok: false, problem: `step ${i + 1}: percent ${step.percent} must be a whole number from 1 to 99` };
    }
    if (step.percent <= previous) {
      return {
        ok: false,
        problem: `step ${i + 1}: percent ${step.percent} must be above the previous step's ${previous}`,
      };
    }
    if (!Number.isInteger(step.minutes) || step.minutes < 1) {
      return { ok: false, problem: `step ${i + 1}: minutes ${step.minutes} must be a whole number of at least 1` };
    }
    previous = step.percent;
  }
  const total = totalShiftMinutes({ name, steps });
  if (total > TRAFFIC_LIMITS.maxTotalMinutes) {
    return {
      ok: false,
      problem: `the steps take ${total} minutes from the first shift to the last; at most ${TRAFFIC_LIMITS.maxTotalMinutes} (48 hours)`,
    };
  }
  return { ok: true, policy: { name, steps: [...steps] } };
}

/** True for the single alias move (no weighted routing). */
export function isAllAtOnce(policy: TrafficPolicy): boolean {
  return policy.steps.length === 0;
}

/** Minutes from the first weighted shift to the move to 100 %. */
export function totalShiftMinutes(policy: TrafficPolicy): number {
  return policy.steps.reduce((sum, s) => sum + s.minutes, 0);
}

/** The alias weight of the new version (0–1, Lambda's AdditionalVersionWeights) for a percent. */
export function weightOf(percent: number): number {
  return Math.round(percent * 100) / 10_000;
}
