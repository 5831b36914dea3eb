/**
 * The deployment ledger in the artifact bucket. Each attempt is one immutable object written
 * create-only (If-None-Match: *), so concurrent writers never overwrite each other; the current
 * state per app and stage is one object updated by compare-and-swap (If-Match on the ETag read),
 * re-read and re-applied when another writer got there first.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { isCorruptDocument, type ObjectStorePort } from '../aws/s3.js';
import { type BackoffPolicy, computeBackoffDelay } from '../core/backoff.js';
import { ConflictError, describeError, InternalError, isFerryError } from '../core/errors.js';
import {
  applyEntryToCurrent,
  buildLedgerEntry,
  type CurrentState,
  currentKey,
  entriesPrefix,
  entryKey,
  isEntryKey,
  type LedgerEntry,
  LedgerOutcome,
  type LedgerSource,
  type PipelineContext,
  REJECTED_APP,
  sortEntryKeysNewestFirst,
  type Trigger,
  UPLOAD_STAGE,
} from '../core/ledger-model.js';

export interface LedgerDeps {
  readonly config: { readonly artifactBucket: string };
  readonly store: ObjectStorePort;
  readonly now: () => number;
  readonly identifyCaller?: () => Promise<string>;
  /** Jittered pause between compare-and-swap retries (absent: retry at once). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Fresh id and start time for an attempt. */
export function startAttempt(deps: Pick<LedgerDeps, 'now'>): { id: string; startedAt: string } {
  return { id: randomUUID(), startedAt: new Date(deps.now()).toISOString() };
}

/** The ARN ferry runs as; 'unknown' when it cannot be found (the deployment does not depend on it). */
export async function resolveCaller(deps: LedgerDeps, given?: string): Promise<string> {
  if (given) return given;
  try {
    return (await deps.identifyCaller?.()) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Writes one entry, create-only. A clash (the same id twice) is a bug, never an overwrite. */
export async function writeEntry(deps: LedgerDeps, entry: LedgerEntry): Promise<string> {
  const key = entryKey(entry);
  const put = await deps.store.putJson(deps.config.artifactBucket, key, entry, { ifNoneMatch: '*' });
  if (!put.ok) {
    throw new ConflictError(
      'LEDGER_ENTRY_EXISTS',
      `Ledger entry ${key} already exists; entries are never overwritten.`,
      {
        context: { key },
      },
    );
  }
  return key;
}

export async function readCurrent(deps: LedgerDeps, app: string, stage: string): Promise<CurrentState | undefined> {
  return (await getCurrent(deps, app, stage))?.value;
}

/**
 * The stored current state with its ETag. A corrupt object is never ignored or overwritten (the
 * order check depends on it): the error names the object and how to repair it.
 */
async function getCurrent(
  deps: LedgerDeps,
  app: string,
  stage: string,
): Promise<{ value: CurrentState; etag: string } | undefined> {
  const bucket = deps.config.artifactBucket;
  const key = currentKey(app, stage);
  try {
    return await deps.store.getJson<CurrentState>(bucket, key);
  } catch (error) {
    if (!isCorruptDocument(error)) throw error;
    const etag = error.context.etag;
    throw new InternalError(
      'LEDGER_CURRENT_CORRUPT',
      `The ledger's current state of ${app}/${stage}, s3://${bucket}/${key} (ETag ${etag || 'unknown'}), is not valid JSON, so ferry cannot tell which build ${stage} runs and deploys nothing there. Restore a previous version of that object (the artifact bucket is versioned), or delete it: the next successful deployment of ${stage} writes a fresh one (the entries under ${entriesPrefix(app, stage)} keep the history; until then the order check has no baseline).`,
      { cause: error, context: { app, stage, bucket, key, etag } },
    );
  }
}

const CAS_BACKOFF: BackoffPolicy = { maxAttempts: 25, baseDelayMs: 20, maxDelayMs: 1_000 };

/** Applies an entry to its stage's current state with compare-and-swap; returns the state after. */
export async function updateCurrent(deps: LedgerDeps, entry: LedgerEntry): Promise<CurrentState | undefined> {
  const bucket = deps.config.artifactBucket;
  const key = currentKey(entry.app, entry.stage);
  for (let attempt = 1; attempt <= CAS_BACKOFF.maxAttempts; attempt++) {
    const stored = await getCurrent(deps, entry.app, entry.stage);
    const next = applyEntryToCurrent(stored?.value, entry);
    if (next === undefined) return stored?.value;
    const put = await deps.store.putJson(
      bucket,
      key,
      next,
      stored === undefined ? { ifNoneMatch: '*' } : { ifMatch: stored.etag },
    );
    if (put.ok) return next;
    // Another writer got there first: re-read and re-apply, spread apart so contenders do not collide again.
    await deps.sleep?.(computeBackoffDelay(attempt, CAS_BACKOFF, deps.random ?? Math.random));
  }
  throw new ConflictError(
    'LEDGER_CURRENT_CONTENDED',
    `The current state of ${entry.app}/${entry.stage} kept changing while ferry recorded entry ${entry.id}; the entry itself is recorded. Retrying the deployment converges.`,
    { context: { app: entry.app, stage: entry.stage, entryId: entry.id, entryKey: entryKey(entry) } },
  );
}

/** Writes the entry, then folds it into the current state. */
export async function recordAttempt(deps: LedgerDeps, entry: LedgerEntry): Promise<CurrentState | undefined> {
  await writeEntry(deps, entry);
  return updateCurrent(deps, entry);
}

export interface RejectedInput {
  readonly app?: string;
  /** The stage when known; rejections that reach no stage go under `_upload` (known app) or `_rejected`. */
  readonly stage?: string;
  readonly build?: string;
  /** The object the input named; a schedule's input names none. */
  readonly source?: LedgerSource;
  readonly trigger: Trigger;
  readonly caller?: string;
  readonly pipeline?: PipelineContext;
  readonly startedAt?: string;
  readonly error: unknown;
}

/**
 * Records an input refused before anything changed. An unknown or unparsable app goes under
 * `ledger/_rejected/`, so every rejected input is in the ledger with its reason.
 */
export async function recordRejected(deps: LedgerDeps, input: RejectedInput): Promise<LedgerEntry> {
  const { id, startedAt } = startAttempt(deps);
  const app = input.app ?? REJECTED_APP;
  const entry = buildLedgerEntry({
    attempt: { id, startedAt: input.startedAt ?? startedAt },
    app,
    stage: input.stage ?? (app === REJECTED_APP ? 'uploads' : UPLOAD_STAGE),
    build: input.build ?? '',
    ...(input.source ? { source: input.source } : {}),
    trigger: input.trigger,
    caller: await resolveCaller(deps, input.caller),
    ...(input.pipeline ? { pipeline: input.pipeline } : {}),
    endedAt: new Date(deps.now()).toISOString(),
    outcome: LedgerOutcome.Rejected,
    reason: describeError(input.error),
    ...(isFerryError(input.error) ? { code: input.error.code } : {}),
  });
  await writeEntry(deps, entry);
  return entry;
}

export interface HistoryRequest {
  readonly app: string;
  readonly stage?: string;
  /** Default 50. */
  readonly limit?: number;
}

/** The ledger entries of an app (one stage, or all), newest first. */
export async function readHistory(deps: LedgerDeps, req: HistoryRequest): Promise<LedgerEntry[]> {
  const bucket = deps.config.artifactBucket;
  const keys = (await deps.store.listKeys(bucket, entriesPrefix(req.app, req.stage))).filter(isEntryKey);
  const wanted = sortEntryKeysNewestFirst(keys).slice(0, Math.max(0, req.limit ?? 50));
  return readEntries(deps, wanted);
}

async function readEntries(deps: LedgerDeps, keys: readonly string[]): Promise<LedgerEntry[]> {
  const limit = pLimit(8);
  const docs = await Promise.all(
    keys.map((k) => limit(() => deps.store.getJson<LedgerEntry>(deps.config.artifactBucket, k))),
  );
  return docs.flatMap((d) => (d ? [d.value] : []));
}
