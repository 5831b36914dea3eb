/**
 * Executes traffic shifts. A shift's state lives in the ledger (traffic-store.ts); each advance runs
 * under the stage's lease and is write-ahead: the next state, with the alias moves it needs as
 * `pending`, is written by compare-and-swap on the state read, then the moves are applied, then
 * cleared. A tick delivered twice finds the state already advanced; a run that crashed after the
 * write leaves the moves pending, and the next tick applies them before deciding anything else.
 * No Lambda waits through a step: the one-minute tick (handlers/traffic-tick.ts) comes back.
 */
import pLimit from 'p-limit';
import type { Target } from '../core/config.js';
import { describeError, isFerryError, isTransient } from '../core/errors.js';
import { type LedgerEntry, LedgerOutcome, type LedgerTarget } from '../core/ledger-model.js';
import { shouldPrune } from '../core/prune-plan.js';
import { buildSessionName } from '../core/session-name.js';
import {
  clearPending,
  decideShift,
  describeNeeds,
  type EndRequest,
  endShift,
  type ShiftDecision,
  type ShiftEvent,
  type ShiftOverride,
  type ShiftSettings,
  type ShiftState,
  ShiftStatus,
  startShift,
} from '../core/traffic-shift.js';
import type { WaveSize } from '../core/traffic-waves.js';
import { planWaves } from '../core/traffic-waves.js';
import type { Runtime } from '../runtime/create-runtime.js';
import type { DeployLog } from './deploy-log.js';
import { logLeaseLost, withLease } from './lease.js';
import { updateCurrent, writeEntry } from './ledger.js';
import { DEPLOYMENT_DETAIL_TYPE, publishNotifications } from './notify.js';
import { pruneTarget } from './prune.js';
import { readGates } from './traffic-gates.js';
import { applyShiftActions, describeMoveFailures } from './traffic-moves.js';
import { readShift, readTrafficIndex, updateTrafficIndex, writeShift } from './traffic-store.js';

export const SHIFT_DETAIL_TYPE = DEPLOYMENT_DETAIL_TYPE;

export interface ShiftCommand {
  readonly kind: 'continue' | 'abort';
  readonly caller: string;
}

export interface AdvanceOptions {
  readonly command?: ShiftCommand;
  /** End the shift (superseded by a newer build, aborted by `ferry rollback`). */
  readonly end?: Omit<EndRequest, 'now'>;
  /** How long to wait for a deployment holding the stage's lease (the tick waits briefly: it comes back in a minute). */
  readonly leaseWaitMs?: number;
}

/** At most this many decisions per advance: hook → first step, or 100 % → hook → bake → next wave. */
const MAX_DECISIONS = 8;

function stageTargets(runtime: Runtime, app: string, stage: string): Map<string, Target> {
  return new Map((runtime.config.apps[app]?.targets[stage] ?? []).map((t) => [t.id, t] as const));
}

/** Takes the stage's lease and advances its shift (if any). */
export async function advanceShift(
  runtime: Runtime,
  log: DeployLog,
  app: string,
  stage: string,
  options: AdvanceOptions = {},
): Promise<ShiftState | undefined> {
  return withLease(
    runtime,
    {
      app,
      stage,
      build: 'traffic',
      holder: options.command?.caller ?? 'traffic-tick',
      ...(options.leaseWaitMs ? { maxWaitMs: options.leaseWaitMs } : {}),
    },
    () => advanceHeldShift(runtime, log, app, stage, options),
    (held, lost) => logLeaseLost(log, held, lost, app, stage),
  );
}

/** Advances the stage's shift as far as it goes now; the caller holds the stage's lease. */
export async function advanceHeldShift(
  runtime: Runtime,
  log: DeployLog,
  app: string,
  stage: string,
  options: AdvanceOptions = {},
): Promise<ShiftState | undefined> {
  const stored = await readShift(runtime, app, stage);
  if (stored === undefined) return undefined;
  let state = stored.value;
  let etag: string | undefined = stored.etag;
  const targets = stageTargets(runtime, app, stage);
  const session = buildSessionName(app, state.build);
  let { command, end } = options;
  const save = async (next: ShiftState): Promise<boolean> => {
    const written = await writeShift(runtime, next, etag);
    if (written === undefined) {
      log.info('traffic shift advanced by another run; this one stops', {
        app,
        stage,
        shiftId: state.id,
        seq: state.seq,
      });
      return false;
    }
    await notify(runtime, log, state, next);
    etag = written;
    state = next;
    return true;
  };
  for (let i = 0; i < MAX_DECISIONS; i++) {
    if (state.pending.length > 0) {
      const failures = await applyShiftActions(runtime, state, state.pending, targets, session);
      const nowIso = new Date(runtime.now()).toISOString();
      if (failures.length === 0) {
        if (!(await save(clearPending(state, nowIso)))) return state;
        logPosition(log, state);
        continue;
      }
      const reason = describeMoveFailures(failures);
      if (state.status !== ShiftStatus.InFlight) {
        // Restoring failed: the moves stay pending and the next tick applies them again.
        log.error('traffic could not be restored on every target; the next tick retries', {
          app,
          stage,
          shiftId: state.id,
          reason,
        });
        throw failures[0]?.error;
      }
      const refused = failures.find((f) => isFerryError(f.error) && f.error.code === 'TRAFFIC_ROUTING_REFUSED');
      const failed = endShift(state, {
        status: ShiftStatus.Failed,
        reason: `moving traffic failed: ${reason}`,
        code: refused ? 'TRAFFIC_ROUTING_REFUSED' : 'TRAFFIC_MOVE_FAILED',
        now: nowIso,
      });
      if (!(await save(failed.next))) return state;
      continue;
    }
    if (state.status !== ShiftStatus.InFlight) {
      await finishShift(runtime, log, state, etag);
      return state;
    }
    const nowIso = new Date(runtime.now()).toISOString();
    let decision: ShiftDecision;
    if (end) {
      decision = endShift(state, { ...end, now: nowIso });
      end = undefined;
    } else {
      try {
        const gates = await readGates(runtime, state, describeNeeds(state), targets, session, runtime.now());
        decision = decideShift(state, {
          now: nowIso,
          readings: gates.readings,
          ...(gates.hook ? { hook: gates.hook } : {}),
          ...(command ? { command } : {}),
        });
      } catch (error) {
        // Throttling and network faults: the next tick reads again. A gate ferry may not read guards nothing.
        if (isTransient(error)) throw error;
        decision = endShift(state, {
          status: ShiftStatus.Failed,
          reason: `the gates could not be read: ${describeError(error)}`,
          code: isFerryError(error) ? error.code : 'TRAFFIC_GATE_UNREADABLE',
          now: nowIso,
        });
      }
      command = undefined;
    }
    if (!decision.changed) return state;
    if (!(await save(decision.next))) return state;
  }
  return state;
}

function logPosition(log: DeployLog, state: ShiftState): void {
  log.info(`traffic ${state.status === ShiftStatus.InFlight ? state.position.phase : state.status}`, {
    app: state.app,
    stage: state.stage,
    build: state.build,
    shiftId: state.id,
    wave: state.position.wave + 1,
    waves: state.waves.length,
    percent: state.position.percent,
    ...(state.reason ? { reason: state.reason } : {}),
  });
}

/** Publishes the events `next` added; a notification that fails is logged, never fails the shift. */
async function notify(runtime: Runtime, log: DeployLog, before: ShiftState, next: ShiftState): Promise<void> {
  const added =
    next.events.length >= before.events.length ? next.events.slice(before.events.length) : next.events.slice(-1);
  if (added.length === 0 || added.every((e) => before.events.includes(e))) return;
  await publishShiftEvents(runtime, log, next, added);
}

export async function publishShiftEvents(
  runtime: Runtime,
  log: DeployLog,
  state: ShiftState,
  events: readonly ShiftEvent[],
): Promise<void> {
  await publishNotifications(
    runtime,
    log,
    { app: state.app, stage: state.stage, build: state.build, deploymentId: state.id },
    events.map((e) => ({
      app: state.app,
      stage: state.stage,
      build: state.build,
      deploymentId: state.id,
      shiftId: state.id,
      policy: state.settings.policy.name,
      state: e.state,
      percent: e.percent,
      wave: e.wave + 1,
      waves: state.waves.length,
      detail: e.detail,
      ...(e.code ? { code: e.code } : {}),
      at: e.at,
      trigger: state.trigger,
      caller: state.caller,
    })),
  );
}

const END_OUTCOME: Record<Exclude<ShiftStatus, 'in-flight'>, LedgerEntry['outcome']> = {
  succeeded: LedgerOutcome.Succeeded,
  'rolled-back': LedgerOutcome.RolledBack,
  superseded: LedgerOutcome.Superseded,
  failed: LedgerOutcome.Failed,
};

/**
 * Records the end of a shift once: the entry (create-only, with an id derived from the shift, so a
 * crash and retry never writes two), the stage's current state (100 %: the build goes live now,
 * and promotions count its soak from here), then leaves the in-flight index.
 */
async function finishShift(
  runtime: Runtime,
  log: DeployLog,
  state: ShiftState,
  etag: string | undefined,
): Promise<void> {
  if (state.endEntryId === undefined && state.status !== ShiftStatus.InFlight) {
    const entry = buildShiftEntry(runtime, state, END_OUTCOME[state.status], `${state.id}-end`, state.updatedAt);
    try {
      await writeEntry(runtime, entry);
    } catch (error) {
      if (!(isFerryError(error) && error.code === 'LEDGER_ENTRY_EXISTS')) throw error;
    }
    await updateCurrent(runtime, entry);
    await writeShift(runtime, { ...state, endEntryId: entry.id, seq: state.seq + 1 }, etag);
    logPosition(log, state);
    if (state.status === ShiftStatus.Succeeded) await pruneShifted(runtime, log, state);
  }
  await updateTrafficIndex(runtime, state.app, state.stage, { remove: state.id });
}

/**
 * After a shift completed at 100 %, old versions are pruned as after an all-at-once deployment:
 * never the new version, nor the stable one it replaced (the rollback target), nor any version an
 * alias points or routes to. Best effort: a failure is logged, the shift stands.
 */
async function pruneShifted(runtime: Runtime, log: DeployLog, state: ShiftState): Promise<void> {
  const keep = runtime.config.apps[state.app]?.keepVersions;
  if (keep === undefined) return;
  const targets = stageTargets(runtime, state.app, state.stage);
  const session = buildSessionName(state.app, state.build);
  const limit = pLimit(runtime.config.concurrency);
  await Promise.all(
    Object.values(state.targets).map((t) =>
      limit(async () => {
        const target = targets.get(t.targetId);
        if (!target || !shouldPrune(t.newVersion, keep)) return;
        try {
          const lambda = await runtime.lambdaFor(target, session);
          await pruneTarget(lambda, target, keep, [t.stableVersion], log);
        } catch (error) {
          log.warn('pruning failed; the deployment stands', { target: t.targetId, reason: describeError(error) });
        }
      }),
    ),
  );
}

export function buildShiftEntry(
  runtime: Runtime,
  state: ShiftState,
  outcome: LedgerEntry['outcome'],
  id: string,
  endedAt: string,
): LedgerEntry {
  const targets = stageTargets(runtime, state.app, state.stage);
  const live = outcome === LedgerOutcome.Succeeded || outcome === LedgerOutcome.Shifting;
  const rows: LedgerTarget[] = [
    ...Object.values(state.targets).map((t) => ({
      id: t.targetId,
      previous: t.stableVersion,
      version: live ? t.newVersion : t.stableVersion,
    })),
    ...Object.entries(state.settled).map(([targetId, version]) => ({ id: targetId, previous: undefined, version })),
  ].map((row) => {
    const t = targets.get(row.id);
    return {
      targetId: row.id,
      account: t?.accountId ?? row.id.split('/')[0] ?? '',
      region: t?.region ?? '',
      function: t?.functionName ?? '',
      alias: t?.alias ?? '',
      ...(row.previous ? { previousVersion: row.previous } : {}),
      version: row.version,
      outcome: outcome === LedgerOutcome.Succeeded ? 'deployed' : outcome === LedgerOutcome.Failed ? 'failed' : outcome,
    };
  });
  return {
    schema: 1,
    id,
    app: state.app,
    stage: state.stage,
    build: state.build,
    codeSha256: state.codeSha256,
    ...(state.source ? { source: state.source } : {}),
    targets: rows,
    trigger: state.trigger as LedgerEntry['trigger'],
    caller: state.caller,
    ...(state.pipeline ? { pipeline: state.pipeline } : {}),
    startedAt: state.startedAt,
    endedAt,
    outcome,
    reason:
      outcome === LedgerOutcome.Shifting
        ? `shifting with ${state.settings.policy.name} over ${state.waves.length} wave(s)`
        : (state.reason ?? `${state.build} serves 100% after ${state.settings.policy.name}`),
    ...(state.code ? { code: state.code } : {}),
    shift: { id: state.id, policy: state.settings.policy.name },
    ...(state.overrides.length > 0 ? { overrides: state.overrides } : {}),
  };
}

export interface StartShiftRequest {
  readonly id: string;
  readonly app: string;
  readonly stage: string;
  readonly build: string;
  readonly codeSha256: string;
  readonly source?: ShiftState['source'];
  readonly trigger: string;
  readonly caller: string;
  readonly pipeline?: ShiftState['pipeline'];
  readonly settings: ShiftSettings & { readonly waves: readonly WaveSize[] };
  /** Per target: the version the alias served and the version just published. */
  readonly targets: readonly {
    readonly targetId: string;
    readonly previousVersion?: string;
    readonly version: string;
  }[];
  readonly overrides: readonly ShiftOverride[];
}

/**
 * Starts a shift (the caller holds the stage's lease and has published the new versions without
 * moving any alias), records it, and takes the first step at once. Targets with no stable version
 * to shift from (a new alias) or already serving the build are settled, not shifted. Returns
 * undefined when no target needs a shift.
 */
export async function startStageShift(
  runtime: Runtime,
  log: DeployLog,
  req: StartShiftRequest,
): Promise<ShiftState | undefined> {
  const shifted = req.targets.filter((t) => t.previousVersion !== undefined && t.previousVersion !== t.version);
  if (shifted.length === 0) return undefined;
  const settled = Object.fromEntries(
    req.targets.filter((t) => !shifted.includes(t)).map((t) => [t.targetId, t.version] as const),
  );
  const { waves: sizes, ...settings } = req.settings;
  const state = startShift({
    id: req.id,
    app: req.app,
    stage: req.stage,
    build: req.build,
    codeSha256: req.codeSha256,
    ...(req.source ? { source: req.source } : {}),
    trigger: req.trigger,
    caller: req.caller,
    ...(req.pipeline ? { pipeline: req.pipeline } : {}),
    settings,
    settled,
    waves: planWaves(
      shifted.map((t) => t.targetId),
      sizes,
    ),
    targets: shifted.map((t) => ({
      targetId: t.targetId,
      stableVersion: t.previousVersion as string,
      newVersion: t.version,
    })),
    overrides: req.overrides,
    now: new Date(runtime.now()).toISOString(),
  });
  const existing = await readShift(runtime, req.app, req.stage);
  if (existing && existing.value.status === ShiftStatus.InFlight) {
    throw new Error(`bug: a shift (${existing.value.id}) is still in flight in ${req.app}/${req.stage}`);
  }
  // In the index first: a shift written but not indexed would never be ticked.
  await updateTrafficIndex(runtime, req.app, req.stage, { add: state.id });
  if ((await writeShift(runtime, state, existing?.etag)) === undefined) {
    throw new Error(`bug: the traffic state of ${req.app}/${req.stage} changed under the stage's lease`);
  }
  await writeEntry(runtime, buildShiftEntry(runtime, state, LedgerOutcome.Shifting, state.id, state.startedAt));
  await publishShiftEvents(runtime, log, state, state.events);
  return advanceHeldShift(runtime, log, req.app, req.stage);
}

/** A stage whose lease a deployment holds is ticked again next minute rather than holding up the others. */
const TICK_LEASE_WAIT_MS = 15_000;

export interface TickSummary {
  readonly inFlight: number;
  readonly results: readonly {
    readonly app: string;
    readonly stage: string;
    readonly status?: ShiftStatus;
    readonly percent?: number;
    readonly error?: string;
  }[];
}

/**
 * One tick: reads the index of in-flight shifts (one GetObject when nothing is in flight) and
 * advances each. A stage whose advance fails does not stop the others; the error is reported.
 */
export async function runTrafficTick(runtime: Runtime, log: DeployLog): Promise<TickSummary> {
  const index = await readTrafficIndex(runtime);
  const stages = Object.keys(index.shifts);
  const results: TickSummary['results'][number][] = [];
  for (const key of stages) {
    const [app, stage] = key.split('/') as [string, string];
    try {
      const state = await advanceShift(runtime, log, app, stage, { leaseWaitMs: TICK_LEASE_WAIT_MS });
      if (state === undefined) {
        // Indexed but never written (a crash between the two writes): nothing to tick.
        await updateTrafficIndex(runtime, app, stage, { remove: index.shifts[key] ?? '' });
      }
      results.push({ app, stage, ...(state ? { status: state.status, percent: state.position.percent } : {}) });
    } catch (error) {
      log.error('traffic tick failed for a stage; the next tick retries', { app, stage, reason: describeError(error) });
      results.push({ app, stage, error: describeError(error) });
    }
  }
  return { inFlight: stages.length, results };
}
