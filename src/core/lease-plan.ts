/**
 * The per-stage lease that keeps two deployments of one app and stage from interleaving, as pure
 * decisions: take a free lease, take over an expired or released one (compare-and-swap on its
 * ETag), or wait for its holder. The expiry means a crashed run never blocks a stage forever.
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

export type LeaseDecision =
  | { readonly action: 'create' }
  | { readonly action: 'take-over'; readonly etag: string; readonly why: 'expired' | 'released' }
  | { readonly action: 'wait'; readonly holder: Lease };

export function decideLease(existing: { value: Lease; etag: string } | undefined, nowMs: number): LeaseDecision {
  if (existing === undefined) return { action: 'create' };
  const { value, etag } = existing;
  if (value.released === true) return { action: 'take-over', etag, why: 'released' };
  const expires = Date.parse(value.expiresAt);
  // An unreadable expiry is treated as expired: a damaged lease must not block the stage forever.
  if (Number.isNaN(expires) || expires <= nowMs) return { action: 'take-over', etag, why: 'expired' };
  return { action: 'wait', holder: value };
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

/**
 * Jittered wait before looking at a held lease again: grows from ~100 ms to a 2 s ceiling, never
 * past the holder's expiry (plus a little), so waiters spread out and notice an expiry promptly.
 */
export function computeLeaseWait(attempt: number, holderExpiresInMs: number, random: () => number): number {
  const ceiling = Math.min(2_000, 100 * 2 ** Math.min(attempt, 10));
  const jittered = ceiling / 2 + Math.floor(random() * (ceiling / 2));
  return Math.max(10, Math.min(jittered, Math.max(0, holderExpiresInMs) + 50));
}
