/**
 * The per-stage lease that keeps two deployments of one app and stage from interleaving, as pure
 * decisions: take a free lease, take over an expired or released one (compare-and-swap on its
 * ETag), or wait for its holder. A live holder renews its lease as it works, so the expiry is
 * short and a crashed run's lease lapses within one lease period; a corrupt lease is taken over too.
 */

export interface Lease {
  readonly owner: string;
  readonly app: string;
  readonly stage: string;
  readonly build: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
  readonly released?: boolean;
}

/** The lease document as read: parsed, or present but unreadable (not JSON), with its ETag either way. */
export type StoredLease =
  | { readonly value: Lease; readonly etag: string }
  | { readonly corrupt: true; readonly etag: string };

export type LeaseDecision =
  | { readonly action: 'create' }
  | { readonly action: 'take-over'; readonly etag: string; readonly why: 'expired' | 'released' | 'corrupt' }
  | { readonly action: 'wait'; readonly holder: Lease };

/**
 * How far past now + leaseSeconds a stored expiry may lie and still be believed: the writer's
 * clock may run ahead of ours. Further out, the lease was not written by a holder ferry knows.
 */
export const LEASE_CLOCK_SKEW_MS = 60_000;

/**
 * An expiry beyond now + leaseSeconds + LEASE_CLOCK_SKEW_MS is corrupt: no
 * live holder writes one (they renew leaseSeconds at a time), so no object can freeze the stage.
 */
export function decideLease(existing: StoredLease | undefined, nowMs: number, leaseSeconds: number): LeaseDecision {
  if (existing === undefined) return { action: 'create' };
  const { etag } = existing;
  // A damaged lease (not JSON, or JSON that is not an object) names no live holder: take it over
  // with If-Match on its ETag, so a corrupt object never blocks the stage and two takers never both win.
  if ('corrupt' in existing || !isLeaseObject(existing.value)) return { action: 'take-over', etag, why: 'corrupt' };
  const { value } = existing;
  if (value.released === true) return { action: 'take-over', etag, why: 'released' };
  const expires = Date.parse(value.expiresAt);
  // An unreadable expiry is treated as expired: a damaged lease must not block the stage forever.
  if (Number.isNaN(expires) || expires <= nowMs) return { action: 'take-over', etag, why: 'expired' };
  if (expires > nowMs + leaseSeconds * 1000 + LEASE_CLOCK_SKEW_MS) {
    return { action: 'take-over', etag, why: 'corrupt' };
  }
  return { action: 'wait', holder: value };
}

function isLeaseObject(value: unknown): value is Lease {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function buildLease(
  input: { owner: string; app: string; stage: string; build: string },
  nowMs: number,
  leaseSeconds: number,
): Lease {
  return {
    ...input,
    acquiredAt: new Date(nowMs).toISOString(),
    expiresAt: new Date(nowMs + leaseSeconds * 1000).toISOString(),
  };
}

/** The holder's lease pushed out to `leaseSeconds` from now, keeping its owner and acquisition time. */
export function extendLease(lease: Lease, nowMs: number, leaseSeconds: number): Lease {
  return { ...lease, expiresAt: new Date(nowMs + leaseSeconds * 1000).toISOString() };
}

/**
 * How often a live holder renews: three times per lease period, so two renewals can fail (a slow or
 * throttled S3 write) before the lease lapses, and a crashed holder's lease lapses within leaseSeconds.
 */
export function computeRenewEveryMs(leaseSeconds: number): number {
  return Math.max(1, Math.floor((leaseSeconds * 1000) / 3));
}

/**
 * How long to wait for a held lease by default: longer than one lease period, so a retry after a
 * crash outlasts the dead holder's expiry and takes the lease over instead of timing out.
 */
export function computeDefaultLeaseWaitMs(leaseSeconds: number): number {
  return Math.ceil(leaseSeconds * 1000 * 1.5);
}

/**
 * Jittered wait before looking at a held lease again: grows from ~100 ms to a 2 s ceiling, never
 * past the holder's expiry (plus a little), so waiters spread out and notice an expiry promptly.
 */
export function computeLeaseWait(attempt: number, holderExpiresInMs: number, random: () => number): number {
  const ceiling = Math.min(2_000, 100 * 2 ** Math.min(attempt, 10));
  const jittered = ceiling / 2 + Math.floor(random() * (ceiling / 2));
  return Math.max(10, Math.min(jittered, Math.max(0, holderExpiresInMs) + 50));
}
