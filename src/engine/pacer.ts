/**
 * Client-side pacing under Lambda's per-account-and-Region rate limits (GetFunction 100/s, every
 * other control-plane call 15/s shared). A fan-out into one account that keeps under the limit
 * finishes sooner than one that hammers it and backs off.
 */

export interface Pacer {
  /** Resolves when the caller may send one request. */
  take(): Promise<void>;
}

export interface PacerDeps {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** A token bucket: `ratePerSecond` sustained, `burst` at once. Waiters are served in order. */
export function createPacer(ratePerSecond: number, burst: number, deps: PacerDeps): Pacer {
  const interval = 1000 / ratePerSecond;
  // The time at which the next request may go, given everything already granted.
  let nextFree = Number.NEGATIVE_INFINITY;
  return {
    async take() {
      const now = deps.now();
      const earliest = Math.max(nextFree, now - (burst - 1) * interval);
      nextFree = earliest + interval;
      const wait = earliest - now;
      if (wait > 0) await deps.sleep(wait);
    },
  };
}

export interface LambdaRateLimits {
  /** GetFunction budget per account and Region (requests/s). */
  readonly readsPerSecond: number;
  /** Shared control-plane budget per account and Region (requests/s). */
  readonly controlPerSecond: number;
}

/** Just under the documented limits, so ferry alone never trips them. */
export const DEFAULT_LAMBDA_RATE_LIMITS: LambdaRateLimits = { readsPerSecond: 90, controlPerSecond: 14 };

export interface AccountPacers {
  readonly reads: Pacer;
  readonly control: Pacer;
}

/** One pair of pacers per account and Region, shared by every deployment in this process. */
export function createPacerRegistry(
  limits: LambdaRateLimits,
  deps: PacerDeps,
): (account: string, region: string) => AccountPacers {
  const registry = new Map<string, AccountPacers>();
  return (account, region) => {
    const key = `${account}/${region}`;
    let pacers = registry.get(key);
    if (!pacers) {
      pacers = {
        reads: createPacer(limits.readsPerSecond, Math.max(1, Math.floor(limits.readsPerSecond / 10)), deps),
        // One deployment's calls (GetAlias, UpdateFunctionCode, PublishVersion, UpdateAlias, and a prune's
        // lists and deletes) may go back to back; the sustained rate stays under the quota
        // (burst + rate·t ≤ 15 + 15·t for a 15/s bucket), and half the budget is left to other callers.
        control: createPacer(limits.controlPerSecond, Math.max(1, Math.floor(limits.controlPerSecond / 2)), deps),
      };
      registry.set(key, pacers);
    }
    return pacers;
  };
}
