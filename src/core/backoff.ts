/** Retry timing, as pure functions: exponential backoff with full jitter, capped. */

export interface BackoffPolicy {
  /** Total attempts, including the first. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Delay before retry number `retry` (1-based): uniform in [0, min(max, base·2^(retry-1))].
 * Full jitter spreads many throttled callers apart instead of retrying in lockstep.
 */
export function computeBackoffDelay(retry: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** Poll delays while waiting for an update: quick at first (most sandbox and small updates settle fast), then steady. */
export function computePollDelay(poll: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.max(0, poll));
}
