/**
 * Where traffic shifts live in the ledger: one state object per stage (`ledger/<app>/<stage>/traffic.json`),
 * written by compare-and-swap on the ETag read, and one index of in-flight shifts
 * (`ledger/_traffic/in-flight.json`), so a tick with nothing in flight costs one GetObject.
 */
import type { ObjectStorePort, StoredDocument } from '../aws/s3.js';
import { computeBackoffDelay } from '../core/backoff.js';
import { ConflictError } from '../core/errors.js';
import { TRAFFIC_INDEX_KEY, trafficKey } from '../core/ledger-model.js';
import type { ShiftState } from '../core/traffic-shift.js';

export interface TrafficStoreDeps {
  readonly config: { readonly artifactBucket: string };
  readonly store: ObjectStorePort;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface TrafficIndex {
  readonly schema: 1;
  /** `<app>/<stage>` → the in-flight shift's id. */
  readonly shifts: Readonly<Record<string, string>>;
}

export function readShift(
  deps: TrafficStoreDeps,
  app: string,
  stage: string,
): Promise<StoredDocument<ShiftState> | undefined> {
  return deps.store.getJson<ShiftState>(deps.config.artifactBucket, trafficKey(app, stage));
}

/** Compare-and-swap: false when someone else wrote since `etag` was read (or created it first). */
export async function writeShift(
  deps: TrafficStoreDeps,
  state: ShiftState,
  etag: string | undefined,
): Promise<string | undefined> {
  const put = await deps.store.putJson(
    deps.config.artifactBucket,
    trafficKey(state.app, state.stage),
    state,
    etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag },
  );
  return put.ok ? put.etag : undefined;
}

export async function readTrafficIndex(deps: TrafficStoreDeps): Promise<TrafficIndex> {
  return (
    (await deps.store.getJson<TrafficIndex>(deps.config.artifactBucket, TRAFFIC_INDEX_KEY))?.value ?? {
      schema: 1,
      shifts: {},
    }
  );
}

const INDEX_BACKOFF = { maxAttempts: 20, baseDelayMs: 20, maxDelayMs: 500 };

/** Adds (id) or removes (undefined) a stage's in-flight shift; removing only the shift named, never a newer one. */
export async function updateTrafficIndex(
  deps: TrafficStoreDeps,
  app: string,
  stage: string,
  change: { readonly add: string } | { readonly remove: string },
): Promise<void> {
  const bucket = deps.config.artifactBucket;
  const key = `${app}/${stage}`;
  for (let attempt = 1; attempt <= INDEX_BACKOFF.maxAttempts; attempt++) {
    const stored = await deps.store.getJson<TrafficIndex>(bucket, TRAFFIC_INDEX_KEY);
    const shifts: Record<string, string> = { ...(stored?.value.shifts ?? {}) };
    if ('add' in change) {
      if (shifts[key] === change.add) return;
      shifts[key] = change.add;
    } else {
      if (shifts[key] !== change.remove) return;
      delete shifts[key];
    }
    const put = await deps.store.putJson(
      bucket,
      TRAFFIC_INDEX_KEY,
      { schema: 1, shifts },
      stored === undefined ? { ifNoneMatch: '*' } : { ifMatch: stored.etag },
    );
    if (put.ok) return;
    await deps.sleep?.(computeBackoffDelay(attempt, INDEX_BACKOFF, deps.random ?? Math.random));
  }
  throw new ConflictError(
    'TRAFFIC_INDEX_CONTENDED',
    `The index of in-flight shifts (s3://${bucket}/${TRAFFIC_INDEX_KEY}) kept changing while ferry updated ${key}; the next tick retries.`,
    { context: { app, stage } },
  );
}
