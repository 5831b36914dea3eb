/**
 * The per-app-and-stage lease in the artifact bucket (`leases/<app>/<stage>.json`): taken with a
 * create-only write, or by compare-and-swap over an expired, released or corrupt lease; renewed by
 * its live holder every leaseSeconds/3 (compare-and-swap on the latest ETag), so a crashed run's
 * lease lapses within leaseSeconds; released by a compare-and-swap that marks it released. Waiting
 * for a holder uses jittered backoff up to a bound (default 1.5 × leaseSeconds, longer than a dead
 * holder's lease can last), then throws a transient TimeoutError so Lambda's retry takes over.
 */
import { randomUUID } from 'node:crypto';
import { isCorruptDocument, type ObjectStorePort } from '../aws/s3.js';
import { TimeoutError } from '../core/errors.js';
import {
  buildLease,
  computeDefaultLeaseWaitMs,
  computeLeaseWait,
  computeRenewEveryMs,
  decideLease,
  extendLease,
  type Lease,
  type StoredLease,
} from '../core/lease-plan.js';
import { leaseKey } from '../core/ledger-model.js';
import type { DeployLog } from './deploy-log.js';

/** Calls `tick` every `everyMs` until the returned function is called. */
export type RepeatEvery = (tick: () => Promise<void>, everyMs: number) => () => void;

export interface LeaseDeps {
  readonly config: { readonly artifactBucket: string; readonly leaseSeconds: number };
  readonly store: ObjectStorePort;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  /** Schedules lease renewals; default an unref'd setInterval. Tests pass one they drive by hand. */
  readonly repeatEvery?: RepeatEvery;
}

export interface LeaseRequest {
  readonly app: string;
  readonly stage: string;
  readonly build: string;
  /** Who holds it, for humans reading the lease: the caller ARN or a trigger name. */
  readonly holder: string;
  /** How long to wait for a held lease before giving up. Default 1.5 × leaseSeconds. */
  readonly maxWaitMs?: number;
}

export interface HeldLease {
  readonly key: string;
  readonly lease: Lease;
  readonly etag: string;
  /** How long acquiring waited for another holder. */
  readonly waitedMs: number;
  /** Set when acquiring replaced another run's lease, and why. */
  readonly tookOver?: 'expired' | 'released' | 'corrupt';
}

/** When a held lease turned out to belong to someone else: at a renewal, or at the release. */
export interface LeaseLost {
  readonly when: 'renewal' | 'release';
}

export async function acquireLease(deps: LeaseDeps, req: LeaseRequest): Promise<HeldLease> {
  const bucket = deps.config.artifactBucket;
  const key = leaseKey(req.app, req.stage);
  const owner = `${req.holder}#${randomUUID()}`;
  const maxWaitMs = req.maxWaitMs ?? computeDefaultLeaseWaitMs(deps.config.leaseSeconds);
  const started = deps.now();
  const deadline = started + maxWaitMs;
  let holder: Lease | undefined;
  for (let attempt = 0; ; attempt++) {
    const existing = await readLease(deps.store, bucket, key);
    const now = deps.now();
    const decision = decideLease(existing, now, deps.config.leaseSeconds);
    if (decision.action !== 'wait') {
      const lease = buildLease(
        { owner, app: req.app, stage: req.stage, build: req.build },
        now,
        deps.config.leaseSeconds,
      );
      const put = await deps.store.putJson(
        bucket,
        key,
        lease,
        decision.action === 'create' ? { ifNoneMatch: '*' } : { ifMatch: decision.etag },
      );
      if (put.ok) {
        return {
          key,
          lease,
          etag: put.etag,
          waitedMs: now - started,
          ...(decision.action === 'take-over' ? { tookOver: decision.why } : {}),
        };
      }
      // Someone else took it between our read and write: look again straight away.
      continue;
    }
    holder = decision.holder;
    if (now >= deadline) break;
    const wait = computeLeaseWait(attempt, Date.parse(holder.expiresAt) - now, deps.random);
    await deps.sleep(Math.min(wait, Math.max(1, deadline - now)));
  }
  throw new TimeoutError(
    'LEASE_TIMEOUT',
    `Another deployment of ${req.app} to ${req.stage} (build ${holder?.build ?? '?'}, ${holder?.owner ?? '?'}) held the lease for longer than ${Math.round(maxWaitMs / 1000)} s; it expires at ${holder?.expiresAt ?? '?'}. Retry later (Lambda retries automatically).`,
    { context: { app: req.app, stage: req.stage, holderBuild: holder?.build } },
  );
}

/** The stored lease; a body that is not JSON comes back as corrupt with its ETag, to be taken over. */
async function readLease(store: ObjectStorePort, bucket: string, key: string): Promise<StoredLease | undefined> {
  try {
    return await store.getJson<Lease>(bucket, key);
  } catch (error) {
    const etag = isCorruptDocument(error) ? error.context.etag : undefined;
    // Without an ETag a take-over could not be conditional: surface the error rather than overwrite blindly.
    if (typeof etag === 'string' && etag !== '') return { corrupt: true, etag };
    throw error;
  }
}

/**
 * Pushes the held lease's expiry out to leaseSeconds from now (compare-and-swap on its latest ETag).
 * Returns the renewed lease, or undefined when someone else took it over.
 */
export async function renewLease(deps: LeaseDeps, held: HeldLease): Promise<HeldLease | undefined> {
  const lease = extendLease(held.lease, deps.now(), deps.config.leaseSeconds);
  const put = await deps.store.putJson(deps.config.artifactBucket, held.key, lease, { ifMatch: held.etag });
  return put.ok ? { ...held, lease, etag: put.etag } : undefined;
}

/** Marks the lease released; false when someone already took it over (our run outlived the expiry). */
export async function releaseLease(deps: LeaseDeps, held: HeldLease): Promise<boolean> {
  const released: Lease = { ...held.lease, released: true };
  const put = await deps.store.putJson(deps.config.artifactBucket, held.key, released, { ifMatch: held.etag });
  return put.ok;
}

const repeatWithTimer: RepeatEvery = (tick, everyMs) => {
  const timer = setInterval(() => void tick(), everyMs);
  // A pending renewal never keeps a CLI process (or a test worker) alive.
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * Runs `fn` holding the stage's lease, renewing it while `fn` works, and releases it whatever
 * happens. `onLost` is called at most once, when a renewal or the release finds that someone else
 * took the lease over (this run outlived its expiry); the run itself carries on and is not failed.
 * `fn` may hand the lease over instead (`handOver()`): it is then left held, for the invocations
 * that carry the deployment on (the shards, which renew and release it by its owner).
 */
export async function withLease<T>(
  deps: LeaseDeps,
  req: LeaseRequest,
  fn: (held: HeldLease, handOver: () => void) => Promise<T>,
  onLost?: (held: HeldLease, lost: LeaseLost) => void,
): Promise<T> {
  const acquired = await acquireLease(deps, req);
  let current = acquired;
  let lost = false;
  let stopped = false;
  let renewing: Promise<void> | undefined;
  const markLost = (when: LeaseLost['when']) => {
    if (lost) return;
    lost = true;
    try {
      onLost?.(current, { when });
    } catch {
      // A failing log callback must not fail the deployment it reports on.
    }
  };
  const renew = async () => {
    try {
      const renewed = await renewLease(deps, current);
      if (renewed) current = renewed;
      else markLost('renewal');
    } catch {
      // A failed write (network, throttling) is not a take-over: the next tick tries again well before expiry.
    }
  };
  const tick = (): Promise<void> => {
    if (stopped || lost) return Promise.resolve();
    // One renewal at a time, each on the ETag the previous one returned.
    if (renewing === undefined) {
      const running: Promise<void> = renew().finally(() => {
        if (renewing === running) renewing = undefined;
      });
      renewing = running;
    }
    return renewing;
  };
  const stop = (deps.repeatEvery ?? repeatWithTimer)(tick, computeRenewEveryMs(deps.config.leaseSeconds));
  let handedOver = false;
  try {
    return await fn(acquired, () => {
      handedOver = true;
    });
  } finally {
    stopped = true;
    stop();
    // Release on the ETag of the last renewal, never one a renewal in flight is about to replace.
    await renewing;
    if (!lost && !handedOver) {
      const ok = await releaseLease(deps, current).catch(() => false);
      if (!ok) markLost('release');
    }
  }
}

/** Another run took the stage's lease over (it found it expired): this run held it too long. */
export function logLeaseLost(log: DeployLog, held: HeldLease, lost: LeaseLost, app: string, stage: string): void {
  log.warn(`the lease was taken over (found at ${lost.when}); this run held it past leaseSeconds without renewing`, {
    app,
    stage,
    owner: held.lease.owner,
  });
}

/** A lease several invocations share by its owner (the shards of one deployment). */
export interface SharedLease {
  readonly app: string;
  readonly stage: string;
  readonly owner: string;
}

const SHARED_LEASE_ATTEMPTS = 8;

/**
 * Pushes a shared lease's expiry out, if it is still this owner's and not released: the shards of
 * one deployment renew it concurrently, so a lost compare-and-swap re-reads and tries again. False
 * when someone else holds it (it lapsed and was taken over) or it was released.
 */
export async function renewSharedLease(deps: LeaseDeps, shared: SharedLease): Promise<boolean> {
  return updateSharedLease(deps, shared, (lease) => extendLease(lease, deps.now(), deps.config.leaseSeconds));
}

/** Marks a shared lease released, if it is still this owner's; false when it was not (already released, or taken over). */
export async function releaseSharedLease(deps: LeaseDeps, shared: SharedLease): Promise<boolean> {
  return updateSharedLease(deps, shared, (lease) => ({ ...lease, released: true }));
}

async function updateSharedLease(
  deps: LeaseDeps,
  shared: SharedLease,
  change: (lease: Lease) => Lease,
): Promise<boolean> {
  const bucket = deps.config.artifactBucket;
  const key = leaseKey(shared.app, shared.stage);
  for (let attempt = 0; attempt < SHARED_LEASE_ATTEMPTS; attempt++) {
    const stored = await readLease(deps.store, bucket, key);
    if (stored === undefined || 'corrupt' in stored) return false;
    if (stored.value.owner !== shared.owner || stored.value.released === true) return false;
    const put = await deps.store.putJson(bucket, key, change(stored.value), { ifMatch: stored.etag });
    if (put.ok) return true;
    await deps.sleep(computeLeaseWait(attempt, 1_000, deps.random));
  }
  return false;
}
