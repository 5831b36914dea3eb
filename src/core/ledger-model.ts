/**
 * The deployment ledger as plain data: one immutable entry per attempt, and the current state of
 * each app and stage derived from those entries. Where the records live (object keys) and how an
 * entry changes the current state are decided here; writing them is the engine's job.
 */
import { compareBuilds } from './artifact-key.js';

export const Trigger = { Upload: 'upload', Schedule: 'schedule', Pipeline: 'pipeline', Cli: 'cli' } as const;
export type Trigger = (typeof Trigger)[keyof typeof Trigger];

export const LedgerOutcome = {
  Succeeded: 'succeeded',
  Failed: 'failed',
  /** The input was refused before anything changed (bad key, unknown app, bad zip). */
  Rejected: 'rejected',
  /** Not deployed on purpose: older than what the stage runs, or a build the stage was rolled back from. */
  Skipped: 'skipped',
  RolledBack: 'rolled-back',
  /** `ferry adopt`: the versions the aliases already served, recorded as the stage's starting point. */
  Adopted: 'adopted',
  /** A traffic shift started: the stage still runs its stable build until the shift reaches 100 %. */
  Shifting: 'shifting',
  /** A newer build arrived during the shift: traffic went back to the stable version. */
  Superseded: 'superseded',
} as const;
export type LedgerOutcome = (typeof LedgerOutcome)[keyof typeof LedgerOutcome];

/** Where rejected uploads go when no app (or no stage) can be named. */
export const REJECTED_APP = '_rejected';
/** The pseudo-stage for uploads of a known app that could not be routed to any stage. */
export const UPLOAD_STAGE = '_upload';

export interface LedgerSource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly region?: string;
}

export interface LedgerTarget {
  readonly targetId: string;
  readonly account: string;
  readonly region: string;
  readonly function: string;
  readonly alias: string;
  readonly previousVersion?: string;
  readonly version?: string;
  /** deployed | unchanged | failed | rolled-back | unchanged… (the per-target status). */
  readonly outcome: string;
  readonly reason?: string;
  readonly code?: string;
}

export interface PipelineContext {
  readonly jobId: string;
  readonly executionId?: string;
}

export interface LedgerEntry {
  readonly schema: 1;
  readonly id: string;
  readonly app: string;
  readonly stage: string;
  readonly build: string;
  readonly codeSha256?: string;
  readonly source?: LedgerSource;
  readonly targets: readonly LedgerTarget[];
  readonly trigger: Trigger;
  /** The ARN ferry ran as (STS GetCallerIdentity), or 'unknown'. */
  readonly caller: string;
  readonly pipeline?: PipelineContext;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly outcome: LedgerOutcome;
  readonly reason?: string;
  /** Error code of the reason, when there is one. */
  readonly code?: string;
  /** An operator's --force: the checks it went past (a missing promotion rule, soak, window…); the caller is who. */
  readonly forced?: readonly string[];
  /** The traffic shift this entry starts or ends (see ShiftState), with its policy. */
  readonly shift?: { readonly id: string; readonly policy: string };
  /** Operator overrides (--traffic allAtOnce, --ignore-alarms, continue, abort), with who asked. */
  readonly overrides?: readonly { readonly at: string; readonly caller: string; readonly what: string }[];
}

/** What one attempt's ledger entry says; optional facts that are absent are left out of the entry. */
export interface EntryFacts {
  readonly attempt: { readonly id: string; readonly startedAt: string };
  readonly app: string;
  readonly stage: string;
  readonly build: string;
  readonly codeSha256?: string;
  readonly source?: LedgerSource;
  /** Default none: the attempt stopped before any target (skipped, rejected, failed early). */
  readonly targets?: readonly LedgerTarget[];
  readonly trigger: Trigger;
  readonly caller: string;
  readonly pipeline?: PipelineContext;
  readonly endedAt: string;
  readonly outcome: LedgerOutcome;
  readonly reason?: string;
  readonly code?: string;
  readonly forced?: readonly string[];
  readonly shift?: LedgerEntry['shift'];
  readonly overrides?: LedgerEntry['overrides'];
}

/**
 * The one place a ledger entry is assembled, so every writer (deploys, skips, rejections,
 * rollbacks, adoptions) records the same shape: no undefined fields, and no empty lists for
 * `forced` or `overrides`.
 */
export function buildLedgerEntry(facts: EntryFacts): LedgerEntry {
  const { attempt, targets, codeSha256, source, pipeline, reason, code, forced, shift, overrides, ...rest } = facts;
  return {
    schema: 1,
    id: attempt.id,
    app: rest.app,
    stage: rest.stage,
    build: rest.build,
    ...(codeSha256 === undefined ? {} : { codeSha256 }),
    ...(source === undefined ? {} : { source }),
    targets: targets ?? [],
    trigger: rest.trigger,
    caller: rest.caller,
    ...(pipeline === undefined ? {} : { pipeline }),
    startedAt: attempt.startedAt,
    endedAt: rest.endedAt,
    outcome: rest.outcome,
    ...(reason === undefined ? {} : { reason }),
    ...(code === undefined ? {} : { code }),
    ...(forced === undefined ? {} : { forced }),
    ...(shift === undefined ? {} : { shift }),
    ...(overrides === undefined || overrides.length === 0 ? {} : { overrides }),
  };
}

/** Where an artifact object is, as the ledger records it (the version id only when the bucket has one). */
export function describeSource(location: LedgerSource): LedgerSource {
  return {
    bucket: location.bucket,
    key: location.key,
    ...(location.versionId ? { versionId: location.versionId } : {}),
    ...(location.region ? { region: location.region } : {}),
  };
}

export interface CurrentState {
  readonly schema: 1;
  readonly app: string;
  readonly stage: string;
  readonly build: string;
  readonly codeSha256: string;
  readonly source?: LedgerSource;
  /** When this build first went live on every target of the stage. */
  readonly liveSince: string;
  /** Target id → the version its alias points at, as ferry left it. */
  readonly targets: Readonly<Record<string, string>>;
  /** The last time a deployment into this stage failed (blocks promotions with requireNoFailures). */
  readonly lastFailureAt?: string;
  /** Set by a rollback: builds up to this one are not redeployed by uploads or schedules. */
  readonly rolledBackFrom?: string;
  readonly lastEntryId: string;
  readonly updatedAt: string;
}

export const LEDGER_PREFIX = 'ledger/';
export const LEASE_PREFIX = 'leases/';

/** Sortable, colon-free timestamp for object keys: 20261122T081500.123Z. */
export function formatKeyTime(iso: string): string {
  return iso.replace(/[-:]/g, '');
}

export function entriesPrefix(app: string, stage?: string): string {
  return stage === undefined ? `${LEDGER_PREFIX}${app}/` : `${LEDGER_PREFIX}${app}/${stage}/entries/`;
}

export function entryKey(entry: Pick<LedgerEntry, 'app' | 'stage' | 'startedAt' | 'id'>): string {
  return `${entriesPrefix(entry.app, entry.stage)}${formatKeyTime(entry.startedAt)}-${entry.id}.json`;
}

export function currentKey(app: string, stage: string): string {
  return `${LEDGER_PREFIX}${app}/${stage}/current.json`;
}

/** The stage's traffic shift (the latest one; its history is in the entries). */
export function trafficKey(app: string, stage: string): string {
  return `${LEDGER_PREFIX}${app}/${stage}/traffic.json`;
}

/** The index of in-flight shifts: the tick's one read when nothing is shifting. `_` keeps it clear of app names. */
export const TRAFFIC_INDEX_KEY = `${LEDGER_PREFIX}_traffic/in-flight.json`;

export function leaseKey(app: string, stage: string): string {
  return `${LEASE_PREFIX}${app}/${stage}.json`;
}

export function isEntryKey(key: string): boolean {
  return /\/entries\/[^/]+\.json$/.test(key);
}

/** Newest first, by the time in the key's file name (then by the id, so the order is total). */
export function sortEntryKeysNewestFirst(keys: readonly string[]): string[] {
  const name = (k: string) => k.slice(k.lastIndexOf('/') + 1);
  return [...keys].sort((a, b) => (name(a) < name(b) ? 1 : name(a) > name(b) ? -1 : 0));
}

/**
 * How one entry changes the current state of its stage. Successful deployments and rollbacks make
 * their build current; a failure only stamps lastFailureAt; skipped and rejected attempts change
 * nothing. A successful deployment of an older build never moves the state backwards (only a
 * rollback does), so a late writer cannot undo a newer one. Returns undefined for "no change".
 */
export function applyEntryToCurrent(current: CurrentState | undefined, entry: LedgerEntry): CurrentState | undefined {
  const stamp = { lastEntryId: entry.id, updatedAt: entry.endedAt };
  if (entry.outcome === LedgerOutcome.Failed) {
    if (current === undefined || !entry.targets.some((t) => t.outcome === 'failed')) return undefined;
    return { ...current, ...stamp, lastFailureAt: entry.endedAt };
  }
  if (entry.shift !== undefined && entry.outcome === LedgerOutcome.RolledBack) {
    // A shift rolled back by a gate: the stage still runs its stable build; the failed build is not
    // brought back by a redelivery or a schedule, and counts as a failure for requireNoFailures.
    if (current === undefined) return undefined;
    return {
      ...current,
      ...stamp,
      lastFailureAt: entry.endedAt,
      rolledBackFrom: laterBuild(current.rolledBackFrom, entry.build) ?? entry.build,
    };
  }
  // An adoption is a starting point only: once the stage has a recorded build, ferry's own history wins.
  if (entry.outcome === LedgerOutcome.Adopted && current !== undefined) return undefined;
  if (
    entry.outcome !== LedgerOutcome.Succeeded &&
    entry.outcome !== LedgerOutcome.RolledBack &&
    entry.outcome !== LedgerOutcome.Adopted
  ) {
    return undefined;
  }
  if (entry.codeSha256 === undefined) return undefined;
  const rollback = entry.outcome === LedgerOutcome.RolledBack;
  if (current !== undefined && !rollback && compareBuilds(entry.build, current.build) < 0) return undefined;

  const sameBuild = current !== undefined && current.build === entry.build && current.codeSha256 === entry.codeSha256;
  const targets: Record<string, string> = sameBuild ? { ...current.targets } : {};
  for (const t of entry.targets) if (t.version !== undefined && t.outcome !== 'failed') targets[t.targetId] = t.version;
  const rolledBackFrom = rollback
    ? laterBuild(current?.rolledBackFrom, current?.build)
    : current?.rolledBackFrom !== undefined && compareBuilds(entry.build, current.rolledBackFrom) <= 0
      ? current.rolledBackFrom
      : undefined;
  const source = entry.source ?? (sameBuild ? current.source : undefined);
  return {
    schema: 1,
    app: entry.app,
    stage: entry.stage,
    build: entry.build,
    codeSha256: entry.codeSha256,
    ...(source ? { source } : {}),
    liveSince: sameBuild ? current.liveSince : entry.endedAt,
    targets,
    ...(current?.lastFailureAt ? { lastFailureAt: current.lastFailureAt } : {}),
    ...(rolledBackFrom !== undefined && rolledBackFrom !== entry.build ? { rolledBackFrom } : {}),
    ...stamp,
  };
}

function laterBuild(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareBuilds(a, b) >= 0 ? a : b;
}
