/**
 * The state machine of one traffic shift, as plain data. A shift moves the new version of a build
 * onto the aliases of a stage's targets wave by wave: before-traffic hook → weighted steps → 100 %
 * → after-traffic hook → bake → next wave … → succeeded. Any gate failing (an alarm in ALARM, the
 * analysis Failed, a hook failing) ends it `rolled-back`, with every target of the waves reached
 * so far restored to its stable version in one decision.
 *
 * The engine asks what to read (`describeNeeds`), reads it, asks what to do (`decideShift`), writes
 * the next state first (compare-and-swap on the previous one, so a tick delivered twice advances
 * once) with the alias moves as `pending`, then applies them and clears them. Pure: no AWS here.
 */
import type { LedgerSource } from './ledger-model.js';
import type { AnalysisResult, AnalysisSettings } from './traffic-analysis.js';
import { InconclusiveAction, Verdict } from './traffic-analysis.js';
import type { TrafficPolicy } from './traffic-policy.js';

export const ShiftStatus = {
  InFlight: 'in-flight',
  Succeeded: 'succeeded',
  RolledBack: 'rolled-back',
  /** A newer build arrived: traffic went back to the stable version and the newer build shifts instead. */
  Superseded: 'superseded',
  /** Lambda refused the routing (or another error that is not a gate): traffic back, nothing judged. */
  Failed: 'failed',
} as const;
export type ShiftStatus = (typeof ShiftStatus)[keyof typeof ShiftStatus];

export const ShiftPhase = {
  BeforeTraffic: 'before-traffic',
  Shifting: 'shifting',
  AfterTraffic: 'after-traffic',
  Baking: 'baking',
  Done: 'done',
} as const;
export type ShiftPhase = (typeof ShiftPhase)[keyof typeof ShiftPhase];

/** A hook: the new version invoked by its qualifier with `payload`, or the named test function. */
export interface HookSpec {
  readonly function?: string;
  readonly payload?: unknown;
}

export interface ShiftTarget {
  readonly targetId: string;
  readonly stableVersion: string;
  readonly newVersion: string;
}

export type ShiftAction =
  /** The alias serves stable with `percent` % to the new version (weighted routing). */
  | { readonly kind: 'route'; readonly targetIds: readonly string[]; readonly percent: number }
  /** The alias serves the new version, no routing. */
  | { readonly kind: 'promote'; readonly targetIds: readonly string[] }
  /** The alias serves the stable version, no routing. */
  | { readonly kind: 'restore'; readonly targetIds: readonly string[] };

export interface AlarmReading {
  readonly name: string;
  /** OK | ALARM | INSUFFICIENT_DATA, or MISSING when no such alarm exists. */
  readonly state: string;
}

export interface GateReadings {
  readonly alarms?: readonly AlarmReading[];
  readonly analysis?: AnalysisResult;
}

export interface HookResult {
  readonly kind: 'before' | 'after';
  readonly passed: boolean;
  readonly detail: string;
}

/** The state-change notifications (EventBridge detail `state`). */
export const ShiftEventState = {
  Started: 'started',
  Shifting: 'shifting',
  Baking: 'baking',
  Succeeded: 'succeeded',
  RolledBack: 'rolled-back',
  Superseded: 'superseded',
  Failed: 'failed',
} as const;
export type ShiftEventState = (typeof ShiftEventState)[keyof typeof ShiftEventState];

export interface ShiftEvent {
  readonly at: string;
  readonly state: ShiftEventState;
  readonly wave: number;
  /** The new version's percentage after the event. */
  readonly percent: number;
  readonly detail: string;
  readonly code?: string;
}

/** An operator's choice recorded with the shift (who, what). */
export interface ShiftOverride {
  readonly at: string;
  readonly caller: string;
  readonly what: string;
}

export interface ShiftSettings {
  readonly policy: TrafficPolicy;
  readonly alarms: readonly string[];
  readonly ignoreAlarms: boolean;
  readonly analysis?: AnalysisSettings;
  readonly beforeTraffic?: HookSpec;
  readonly afterTraffic?: HookSpec;
  readonly bakeMinutes: number;
}

export interface ShiftPosition {
  readonly wave: number;
  /** The step within the wave's policy while shifting; -1 before the first. */
  readonly step: number;
  readonly phase: ShiftPhase;
  /** When the phase (or step) began. */
  readonly since: string;
  /** The new version's percentage on the wave's targets. */
  readonly percent: number;
}

export interface ShiftState {
  readonly schema: 1;
  readonly id: string;
  readonly app: string;
  readonly stage: string;
  readonly build: string;
  readonly codeSha256: string;
  /** The artifact object, so the entry that ends the shift lets promotions find it. */
  readonly source?: LedgerSource;
  readonly trigger: string;
  readonly caller: string;
  readonly pipeline?: { readonly jobId: string; readonly executionId?: string };
  readonly startedAt: string;
  readonly updatedAt: string;
  /** Incremented by every write: the compare-and-swap generation. */
  readonly seq: number;
  readonly settings: ShiftSettings;
  /** Target ids per wave, in order. */
  readonly waves: readonly (readonly string[])[];
  readonly targets: Readonly<Record<string, ShiftTarget>>;
  /** Targets already serving the new version without a shift (a new alias, or already there): id → version. */
  readonly settled: Readonly<Record<string, string>>;
  readonly position: ShiftPosition;
  readonly status: ShiftStatus;
  readonly reason?: string;
  readonly code?: string;
  /** Alias moves decided and recorded but not yet confirmed applied (write-ahead). */
  readonly pending: readonly ShiftAction[];
  /** The last gate readings, for `ferry status`. */
  readonly gates?: GateReadings & { readonly at: string };
  readonly overrides: readonly ShiftOverride[];
  readonly events: readonly ShiftEvent[];
  /** The ledger entry that recorded the end, once written. */
  readonly endEntryId?: string;
}

/** What starts a shift: the state's identity fields, plus its targets as a list and the time. */
export type StartShiftInput = Pick<
  ShiftState,
  'id' | 'app' | 'stage' | 'build' | 'codeSha256' | 'source' | 'trigger' | 'caller' | 'pipeline' | 'settings' | 'waves'
> & {
  readonly settled?: ShiftState['settled'];
  readonly targets: readonly ShiftTarget[];
  readonly overrides?: ShiftState['overrides'];
  readonly now: string;
};

/** At most this many events are kept in the state object (the ledger entries keep the outcome). */
const MAX_EVENTS = 200;

export function startShift(input: StartShiftInput): ShiftState {
  const targets: Record<string, ShiftTarget> = {};
  for (const t of input.targets) targets[t.targetId] = t;
  const waves = input.waves.map((w) => w.filter((id) => targets[id] !== undefined)).filter((w) => w.length > 0);
  return {
    schema: 1,
    id: input.id,
    app: input.app,
    stage: input.stage,
    build: input.build,
    codeSha256: input.codeSha256,
    ...(input.source ? { source: input.source } : {}),
    trigger: input.trigger,
    caller: input.caller,
    ...(input.pipeline ? { pipeline: input.pipeline } : {}),
    startedAt: input.now,
    updatedAt: input.now,
    seq: 0,
    settings: input.settings,
    waves,
    targets,
    settled: input.settled ?? {},
    position: { wave: 0, step: -1, phase: ShiftPhase.BeforeTraffic, since: input.now, percent: 0 },
    status: ShiftStatus.InFlight,
    pending: [],
    overrides: input.overrides ?? [],
    events: [
      {
        at: input.now,
        state: ShiftEventState.Started,
        wave: 0,
        percent: 0,
        detail: `${input.settings.policy.name} over ${waves.length} wave(s) of ${input.targets.length} target(s)`,
      },
    ],
  };
}

export interface ShiftNeeds {
  readonly alarms: readonly string[];
  /** Read the analysis over [since, now) for the wave's targets. */
  readonly analysisSince?: string;
  readonly hook?: 'before' | 'after';
}

/** What the next decision needs read: nothing for a shift that has ended or has moves pending. */
export function describeNeeds(state: ShiftState): ShiftNeeds {
  if (state.status !== ShiftStatus.InFlight || state.pending.length > 0) return { alarms: [] };
  const { settings, position } = state;
  const alarms = settings.ignoreAlarms ? [] : settings.alarms;
  const hook =
    position.phase === ShiftPhase.BeforeTraffic && settings.beforeTraffic
      ? 'before'
      : position.phase === ShiftPhase.AfterTraffic && settings.afterTraffic
        ? 'after'
        : undefined;
  const analysis = position.phase === ShiftPhase.Shifting && settings.analysis !== undefined;
  return { alarms, ...(analysis ? { analysisSince: position.since } : {}), ...(hook ? { hook } : {}) };
}

export interface ShiftInput {
  readonly now: string;
  readonly readings: GateReadings;
  readonly hook?: HookResult;
  /** An operator's command: continue skips the rest of a hold; abort rolls back. */
  readonly command?: { readonly kind: 'continue' | 'abort'; readonly caller: string };
}

export interface ShiftDecision {
  readonly next: ShiftState;
  readonly actions: readonly ShiftAction[];
  /** False when nothing worth writing changed (the engine writes nothing). */
  readonly changed: boolean;
}

const MINUTE = 60_000;

/** One step of the state machine. Never decides twice from the same state: the engine writes `next` before acting. */
export function decideShift(state: ShiftState, input: ShiftInput): ShiftDecision {
  if (state.status !== ShiftStatus.InFlight || state.pending.length > 0) {
    return { next: state, actions: [], changed: false };
  }
  const { now } = input;
  const withGates = recordGates(state, input);
  if (input.command?.kind === 'abort') {
    return endShift(withOverride(withGates, input.command.caller, 'abort', now), {
      status: ShiftStatus.RolledBack,
      reason: `aborted by ${input.command.caller}`,
      code: 'TRAFFIC_ABORTED',
      now,
    });
  }
  const missing = (input.readings.alarms ?? []).filter((a) => a.state === 'MISSING').map((a) => a.name);
  if (missing.length > 0 && !state.settings.ignoreAlarms) {
    // An alarm that cannot be read guards nothing (CodeDeploy stops too, unless told to ignore poll failures).
    return endShift(withGates, {
      status: ShiftStatus.Failed,
      reason: `alarm ${missing.join(', ')} does not exist (or the deploy role may not read it); create it or fix traffic.alarms`,
      code: 'TRAFFIC_ALARM_MISSING',
      now,
    });
  }
  const firing = (input.readings.alarms ?? []).filter((a) => a.state === 'ALARM').map((a) => a.name);
  if (firing.length > 0 && !state.settings.ignoreAlarms) {
    return endShift(withGates, {
      status: ShiftStatus.RolledBack,
      reason: `alarm ${firing.join(', ')} in ALARM`,
      code: 'TRAFFIC_ALARM',
      now,
    });
  }
  const forced = input.command?.kind === 'continue';
  const base = forced ? withOverride(withGates, input.command?.caller ?? 'unknown', 'continue', now) : withGates;
  const { position, settings } = base;
  const steps = settings.policy.steps;
  const wave = base.waves[position.wave] ?? [];
  switch (position.phase) {
    case ShiftPhase.BeforeTraffic: {
      if (settings.beforeTraffic) {
        if (input.hook?.kind !== 'before') return unchanged(state, base);
        if (!input.hook.passed) {
          return endShift(base, {
            status: ShiftStatus.RolledBack,
            reason: `before-traffic hook failed: ${input.hook.detail}`,
            code: 'TRAFFIC_HOOK_FAILED',
            now,
          });
        }
      }
      return moveTo(base, now, steps.length > 0 ? stepPosition(base, 0, now) : fullPosition(base, now));
    }
    case ShiftPhase.Shifting: {
      const step = steps[position.step];
      if (step === undefined) return moveTo(base, now, fullPosition(base, now));
      const analysis = input.readings.analysis;
      if (analysis?.verdict === Verdict.Failed) {
        return endShift(base, {
          status: ShiftStatus.RolledBack,
          reason: `analysis failed at ${position.percent}%: ${analysis.detail}`,
          code: 'TRAFFIC_ANALYSIS_FAILED',
          now,
        });
      }
      const elapsed = Date.parse(now) - Date.parse(position.since);
      if (!forced && elapsed < step.minutes * MINUTE) return unchanged(state, base);
      if (!forced && settings.analysis && analysis?.verdict !== Verdict.Successful) {
        const onInconclusive = settings.analysis.onInconclusive;
        const overdue = elapsed >= (step.minutes + settings.analysis.maxWaitMinutes) * MINUTE;
        if (onInconclusive === InconclusiveAction.Rollback || (onInconclusive === InconclusiveAction.Wait && overdue)) {
          return endShift(base, {
            status: ShiftStatus.RolledBack,
            reason: `analysis inconclusive at ${position.percent}%${overdue ? ` after waiting ${settings.analysis.maxWaitMinutes} extra minutes` : ''}: ${analysis?.detail ?? 'no metrics'}`,
            code: 'TRAFFIC_ANALYSIS_INCONCLUSIVE',
            now,
          });
        }
        if (onInconclusive === InconclusiveAction.Wait) return unchanged(state, base);
      }
      const nextStep = position.step + 1;
      return moveTo(base, now, nextStep < steps.length ? stepPosition(base, nextStep, now) : fullPosition(base, now));
    }
    case ShiftPhase.AfterTraffic: {
      if (settings.afterTraffic) {
        if (input.hook?.kind !== 'after') return unchanged(state, base);
        if (!input.hook.passed) {
          return endShift(base, {
            status: ShiftStatus.RolledBack,
            reason: `after-traffic hook failed: ${input.hook.detail}`,
            code: 'TRAFFIC_HOOK_FAILED',
            now,
          });
        }
      }
      return moveTo(base, now, { ...position, phase: ShiftPhase.Baking, since: now });
    }
    case ShiftPhase.Baking: {
      const elapsed = Date.parse(now) - Date.parse(position.since);
      if (!forced && elapsed < settings.bakeMinutes * MINUTE) return unchanged(state, base);
      if (position.wave + 1 < base.waves.length) {
        return moveTo(base, now, {
          wave: position.wave + 1,
          step: -1,
          phase: ShiftPhase.BeforeTraffic,
          since: now,
          percent: 0,
        });
      }
      return finish(base, now, wave);
    }
    default:
      return unchanged(state, base);
  }
}

function stepPosition(state: ShiftState, step: number, now: string): ShiftPosition {
  const percent = state.settings.policy.steps[step]?.percent ?? 100;
  return { wave: state.position.wave, step, phase: ShiftPhase.Shifting, since: now, percent };
}

/** 100 % on the wave: after-traffic hook next (a no-op phase without a hook). */
function fullPosition(state: ShiftState, now: string): ShiftPosition {
  return {
    wave: state.position.wave,
    step: state.settings.policy.steps.length,
    phase: ShiftPhase.AfterTraffic,
    since: now,
    percent: 100,
  };
}

/** Moves to a new position; the alias moves it needs, and its event, come from the change. */
function moveTo(state: ShiftState, now: string, position: ShiftPosition): ShiftDecision {
  const wave = state.waves[position.wave] ?? [];
  const actions: ShiftAction[] = [];
  let event: Omit<ShiftEvent, 'at' | 'wave'> | undefined;
  if (position.percent !== state.position.percent || position.wave !== state.position.wave) {
    if (position.percent >= 100) actions.push({ kind: 'promote', targetIds: wave });
    else if (position.percent > 0) actions.push({ kind: 'route', targetIds: wave, percent: position.percent });
    if (position.percent > 0) {
      event = {
        state: ShiftEventState.Shifting,
        percent: position.percent,
        detail: `${position.percent}% on wave ${position.wave + 1} of ${state.waves.length}`,
      };
    }
  }
  if (position.phase === ShiftPhase.Baking && state.settings.bakeMinutes > 0) {
    event = {
      state: ShiftEventState.Baking,
      percent: 100,
      detail: `baking wave ${position.wave + 1} of ${state.waves.length} for ${state.settings.bakeMinutes} minute(s)`,
    };
  }
  const next: ShiftState = {
    ...state,
    seq: state.seq + 1,
    updatedAt: now,
    position,
    pending: actions,
    events: event ? appendEvent(state.events, { at: now, wave: position.wave, ...event }) : state.events,
  };
  return { next, actions, changed: true };
}

function finish(state: ShiftState, now: string, lastWave: readonly string[]): ShiftDecision {
  const next: ShiftState = {
    ...state,
    seq: state.seq + 1,
    updatedAt: now,
    status: ShiftStatus.Succeeded,
    position: { ...state.position, phase: ShiftPhase.Done, since: now, percent: 100 },
    pending: [],
    events: appendEvent(state.events, {
      at: now,
      state: ShiftEventState.Succeeded,
      wave: state.position.wave,
      percent: 100,
      detail: `${state.build} serves 100% on all ${Object.keys(state.targets).length} target(s) (${lastWave.length} in the last wave)`,
    }),
  };
  return { next, actions: [], changed: true };
}

export interface EndRequest {
  readonly status: Exclude<ShiftStatus, 'in-flight' | 'succeeded'>;
  readonly reason: string;
  readonly code: string;
  readonly now: string;
}

/**
 * Ends an in-flight shift: every target of the waves reached so far goes back to its stable
 * version with no routing, in one decision (rolled back, superseded, or failed).
 */
export function endShift(state: ShiftState, end: EndRequest): ShiftDecision {
  if (state.status !== ShiftStatus.InFlight) return { next: state, actions: [], changed: false };
  const reached = state.waves.slice(0, state.position.wave + 1).flat();
  const actions: ShiftAction[] = reached.length > 0 ? [{ kind: 'restore', targetIds: reached }] : [];
  const eventState =
    end.status === ShiftStatus.Superseded
      ? ShiftEventState.Superseded
      : end.status === ShiftStatus.Failed
        ? ShiftEventState.Failed
        : ShiftEventState.RolledBack;
  const next: ShiftState = {
    ...state,
    seq: state.seq + 1,
    updatedAt: end.now,
    status: end.status,
    reason: end.reason,
    code: end.code,
    position: { ...state.position, phase: ShiftPhase.Done, since: end.now, percent: 0 },
    // Moves not yet applied are replaced: restoring is the only move that still matters.
    pending: actions,
    events: appendEvent(state.events, {
      at: end.now,
      state: eventState,
      wave: state.position.wave,
      percent: 0,
      detail: end.reason,
      code: end.code,
    }),
  };
  return { next, actions, changed: true };
}

/** The state once its pending moves are applied. */
export function clearPending(state: ShiftState, now: string): ShiftState {
  return { ...state, seq: state.seq + 1, updatedAt: now, pending: [] };
}

function unchanged(original: ShiftState, withGates: ShiftState): ShiftDecision {
  // Gate readings and overrides are worth a write when they changed; the position did not.
  const changed =
    JSON.stringify(stripAt(original.gates)) !== JSON.stringify(stripAt(withGates.gates)) ||
    original.overrides.length !== withGates.overrides.length;
  if (!changed) return { next: original, actions: [], changed: false };
  return {
    next: { ...withGates, seq: original.seq + 1, updatedAt: withGates.gates?.at ?? original.updatedAt },
    actions: [],
    changed: true,
  };
}

function stripAt(gates: ShiftState['gates']): GateReadings | undefined {
  if (gates === undefined) return undefined;
  const { at: _at, ...rest } = gates;
  return rest;
}

function recordGates(state: ShiftState, input: ShiftInput): ShiftState {
  const { alarms, analysis } = input.readings;
  if (alarms === undefined && analysis === undefined) return state;
  return {
    ...state,
    gates: {
      at: input.now,
      ...(alarms !== undefined ? { alarms } : state.gates?.alarms ? { alarms: state.gates.alarms } : {}),
      ...(analysis !== undefined ? { analysis } : {}),
    },
  };
}

function withOverride(state: ShiftState, caller: string, what: string, now: string): ShiftState {
  return { ...state, overrides: [...state.overrides, { at: now, caller, what }] };
}

function appendEvent(events: readonly ShiftEvent[], event: ShiftEvent): ShiftEvent[] {
  return [...events, event].slice(-MAX_EVENTS);
}

/** When the current hold ends (step, bake), for `ferry status`; undefined while waiting on a hook or done. */
export function nextStepAt(state: ShiftState): string | undefined {
  if (state.status !== ShiftStatus.InFlight) return undefined;
  const { position, settings } = state;
  const minutes =
    position.phase === ShiftPhase.Shifting
      ? settings.policy.steps[position.step]?.minutes
      : position.phase === ShiftPhase.Baking
        ? settings.bakeMinutes
        : undefined;
  if (minutes === undefined) return undefined;
  return new Date(Date.parse(position.since) + minutes * MINUTE).toISOString();
}

/** Target id → the new version's percentage on it now (0 before its wave, 100 after). */
export function describeWeights(state: ShiftState): Record<string, number> {
  const weights: Record<string, number> = {};
  state.waves.forEach((wave, i) => {
    const percent =
      state.status !== ShiftStatus.InFlight
        ? state.status === ShiftStatus.Succeeded
          ? 100
          : 0
        : i < state.position.wave
          ? 100
          : i === state.position.wave
            ? state.position.percent
            : 0;
    for (const id of wave) weights[id] = percent;
  });
  return weights;
}

/** An in-flight shift as `ferry status` shows it: where it is, what each target serves, the gates. */
export interface ShiftSummary {
  readonly id: string;
  readonly build: string;
  readonly policy: string;
  readonly phase: ShiftPhase;
  /** 1-based. */
  readonly wave: number;
  readonly waves: number;
  readonly startedAt: string;
  /** Target id → the new version's percentage on it now. */
  readonly weights: Readonly<Record<string, number>>;
  /** When the current step or bake ends; absent while a hook decides. */
  readonly nextStepAt?: string;
  /** The gates as last read, and when. */
  readonly gates: {
    readonly alarms: readonly AlarmReading[];
    readonly analysis?: AnalysisResult;
    readonly readAt?: string;
  };
}

/** The summary of a shift still in flight; undefined once it ended. */
export function summarizeShift(state: ShiftState): ShiftSummary | undefined {
  if (state.status !== ShiftStatus.InFlight) return undefined;
  const next = nextStepAt(state);
  return {
    id: state.id,
    build: state.build,
    policy: state.settings.policy.name,
    phase: state.position.phase,
    wave: state.position.wave + 1,
    waves: state.waves.length,
    startedAt: state.startedAt,
    weights: describeWeights(state),
    ...(next ? { nextStepAt: next } : {}),
    gates: {
      alarms: state.gates?.alarms ?? [],
      ...(state.gates?.analysis ? { analysis: state.gates.analysis } : {}),
      ...(state.gates?.at ? { readAt: state.gates.at } : {}),
    },
  };
}
