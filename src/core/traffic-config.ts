/**
 * The `traffic` configuration: per app and stage (`apps.<app>.traffic.<stage>`), overridable per
 * promotion rule (`apps.<app>.promotions[i].traffic`, field by field). Validated here with
 * field-named problems; resolved into the ShiftSettings a shift runs with.
 */
import * as z from 'zod/mini';
import { type AnalysisSettings, DEFAULT_ANALYSIS, InconclusiveAction } from './traffic-analysis.js';
import { ALL_AT_ONCE, resolveTrafficPolicy, type TrafficPolicy } from './traffic-policy.js';
import type { HookSpec, ShiftSettings } from './traffic-shift.js';
import { checkWaveSize, type WaveSize } from './traffic-waves.js';

const int = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));
const rate = () => z.number().check(z.minimum(0), z.maximum(1));

const stepSchema = z.strictObject({ percent: int(1, 99), minutes: int(1, 2880) });

const policySchema = z.union([
  z.string(),
  z.strictObject({ canary: stepSchema }),
  z.strictObject({ linear: z.strictObject({ percent: int(1, 99), everyMinutes: int(1, 2880) }) }),
  z.strictObject({ steps: z.array(stepSchema).check(z.minLength(1), z.maxLength(100)) }),
]);

const hookSchema = z.strictObject({
  /** A named test function in the target's account; absent: the new version itself, by its qualifier. */
  function: z.optional(z.string().check(z.regex(/^[a-zA-Z0-9-_]{1,64}$/, 'a Lambda function name'))),
  payload: z.optional(z.unknown()),
});

const analysisSchema = z.strictObject({
  enabled: z.optional(z.boolean()),
  maxErrorRateIncrease: z.optional(rate()),
  maxErrorRate: z.optional(rate()),
  minInvocations: z.optional(int(1, 10_000_000)),
  onInconclusive: z.optional(
    z.enum([InconclusiveAction.Wait, InconclusiveAction.Proceed, InconclusiveAction.Rollback]),
  ),
  maxWaitMinutes: z.optional(int(0, 2880)),
});

/** CloudWatch alarm names: 1–255 characters. CodeDeploy allows 10 per deployment group; so does ferry. */
const alarmSchema = z.string().check(z.minLength(1), z.maxLength(255));

export const trafficSchema = z.strictObject({
  policy: z.optional(policySchema),
  alarms: z.optional(z.array(alarmSchema).check(z.maxLength(10))),
  analysis: z.optional(analysisSchema),
  hooks: z.optional(z.strictObject({ beforeTraffic: z.optional(hookSchema), afterTraffic: z.optional(hookSchema) })),
  waves: z.optional(z.array(z.union([z.int(), z.string()])).check(z.maxLength(20))),
  bakeMinutes: z.optional(int(0, 2880)),
});

export type RawTraffic = z.infer<typeof trafficSchema>;

/** A validated traffic section (every field optional: an override names only what it changes). */
export interface TrafficSpec {
  readonly policy?: TrafficPolicy;
  readonly alarms?: readonly string[];
  readonly analysis?: { readonly enabled?: boolean } & Partial<AnalysisSettings>;
  readonly beforeTraffic?: HookSpec;
  readonly afterTraffic?: HookSpec;
  readonly waves?: readonly WaveSize[];
  readonly bakeMinutes?: number;
}

/** Checks what the schema cannot (policy names, wave sizes) and returns the spec; problems name `path`. */
export function buildTrafficSpec(raw: RawTraffic, path: string, problems: string[]): TrafficSpec {
  let policy: TrafficPolicy | undefined;
  if (raw.policy !== undefined) {
    const resolved = resolveTrafficPolicy(raw.policy);
    if (resolved.ok) policy = resolved.policy;
    else problems.push(`${path}.policy: ${resolved.problem}`);
  }
  raw.waves?.forEach((size, i) => {
    const problem = checkWaveSize(size as WaveSize);
    if (problem) problems.push(`${path}.waves[${i}]: ${problem}`);
  });
  const analysis = raw.analysis;
  if (
    analysis?.maxErrorRate !== undefined &&
    analysis.maxErrorRateIncrease !== undefined &&
    analysis.maxErrorRate < analysis.maxErrorRateIncrease
  ) {
    problems.push(
      `${path}.analysis.maxErrorRate: ${analysis.maxErrorRate} is below maxErrorRateIncrease ${analysis.maxErrorRateIncrease}; the ceiling would always win`,
    );
  }
  return {
    ...(policy ? { policy } : {}),
    ...(raw.alarms ? { alarms: [...new Set(raw.alarms)] } : {}),
    ...(analysis ? { analysis } : {}),
    ...(raw.hooks?.beforeTraffic ? { beforeTraffic: raw.hooks.beforeTraffic } : {}),
    ...(raw.hooks?.afterTraffic ? { afterTraffic: raw.hooks.afterTraffic } : {}),
    ...(raw.waves ? { waves: raw.waves as WaveSize[] } : {}),
    ...(raw.bakeMinutes !== undefined ? { bakeMinutes: raw.bakeMinutes } : {}),
  };
}

/** What an operator asked for on one deploy or promote (recorded in the ledger with the caller). */
export interface TrafficOverrides {
  /** `allAtOnce` moves the alias at once, gates and hooks skipped: the escape hatch for a fix. */
  readonly traffic?: 'allAtOnce';
  /** Alarms are not read (the fix ships while an alarm still fires); analysis and hooks still apply. */
  readonly ignoreAlarms?: boolean;
}

/**
 * The settings a shift into `stage` runs with: the stage's spec, overridden field by field by the
 * promotion rule's, then by the operator's overrides. Without a policy, or with `allAtOnce`, the
 * alias moves at once. The built-in analysis is on by default when no alarm is configured.
 */
export function resolveShiftSettings(
  stageSpec: TrafficSpec | undefined,
  ruleSpec: TrafficSpec | undefined,
  overrides: TrafficOverrides = {},
): ShiftSettings & { readonly waves: readonly WaveSize[] } {
  const spec: TrafficSpec = { ...stageSpec, ...ruleSpec };
  const alarms = spec.alarms ?? [];
  const { enabled, ...analysisFields } = spec.analysis ?? {};
  const analysisOn = enabled ?? alarms.length === 0;
  const analysis: AnalysisSettings | undefined = analysisOn ? { ...DEFAULT_ANALYSIS, ...analysisFields } : undefined;
  const policy = overrides.traffic === 'allAtOnce' ? ALL_AT_ONCE : (spec.policy ?? ALL_AT_ONCE);
  return {
    policy,
    alarms,
    ignoreAlarms: overrides.ignoreAlarms === true,
    ...(analysis ? { analysis } : {}),
    ...(spec.beforeTraffic ? { beforeTraffic: spec.beforeTraffic } : {}),
    ...(spec.afterTraffic ? { afterTraffic: spec.afterTraffic } : {}),
    bakeMinutes: spec.bakeMinutes ?? 0,
    waves: spec.waves ?? [],
  };
}
