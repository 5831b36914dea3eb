/**
 * The per-app-and-stage lease in the artifact bucket (`leases/<app>/<stage>.json`): taken with a
 * create-only write, or by compare-and-swap over an expired or released lease; released by a
 * compare-and-swap that marks it released. Waiting for a holder uses jittered backoff up to a
 * bound, then throws a transient TimeoutError so Lambda's retry takes over.
 */
import { randomUUID } from 'node:crypto';
import type { ObjectStorePort } from '../aws/s3.js';
import { TimeoutError } from '../core/errors.js';
import { buildLease, computeLeaseWait, decideLease, type Lease } from '../core/lease-plan.js';
import { leaseKey } from '../core/ledger-model.js';

export interface LeaseDeps {
  readonly config: { readonly artifactBucket: string; readonly leaseSeconds: number };
  readonly store: ObjectStorePort;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

export interface LeaseRequest {
  readonly app: string;
  readonly stage: string;
  readonly build: string;
  /** Who holds it, for humans reading the lease: the caller ARN or a trigger name. */
  readonly holder: string;
  /** How long to wait for a held lease before giving up. Default 2 minutes. */
  readonly maxWaitMs?: number;
}

export interface HeldLease {
  readonly key: string;
  readonly lease: Lease;
  readonly etag: string;
  /** How long acquiring waited for another holder. */
  readonly waitedMs: number;
}

export const DEFAULT_LEASE_WAIT_MS = 120_000;

export async function acquireLease(deps: LeaseDeps, req: LeaseRequest): Promise<HeldLease> {
  const bucket = deps.config.artifactBucket;
  const key = leaseKey(req.app, req.stage);
  const owner = `${req.holder}#${randomUUID()}`;
  const started = deps.now();
  const deadline = started + (req.maxWaitMs ?? DEFAULT_LEASE_WAIT_MS);
  let holder: Lease | undefined;
  for (let attempt = 0; ; attempt++) {
    const existing = await deps.store.getJson<Lease>(bucket, key);
    const now = deps.now();
    const decision = decideLease(existing, now);
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
      if (put.ok) return { key, lease, etag: put.etag, waitedMs: now - started };
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
    `Another deployment of ${req.app} to ${req.stage} (build ${holder?.build ?? '?'}, ${holder?.owner ?? '?'}) held the lease for longer than ${Math.round((req.maxWaitMs ?? DEFAULT_LEASE_WAIT_MS) / 1000)} s; it expires at ${holder?.expiresAt ?? '?'}. Retry later (Lambda retries automatically).`,
    { context: { app: req.app, stage: req.stage, holderBuild: holder?.build } },
  );
}

/** Marks the lease released; false when someone already took it over (our run outlived the expiry). */
export async function releaseLease(deps: LeaseDeps, held: HeldLease): Promise<boolean> {
  const released: Lease = { ...held.lease, released: true };
  const put = await deps.store.putJson(deps.config.artifactBucket, held.key, released, { ifMatch: held.etag });
  return put.ok;
}

/** Runs `fn` holding the stage's lease, and releases it whatever happens. */
export async function withLease<T>(
  deps: LeaseDeps,
  req: LeaseRequest,
  fn: (held: HeldLease) => Promise<T>,
  onReleaseLost?: (held: HeldLease) => void,
): Promise<T> {
  const held = await acquireLease(deps, req);
  try {
    return await fn(held);
  } finally {
    const ok = await releaseLease(deps, held).catch(() => false);
    if (!ok) onReleaseLost?.(held);
  }
}
