/**
 * Client-side pacing under Lambda's per-account-and-Region rate limits: every control-plane call
 * but GetFunction and GetPolicy (invocations excluded) shares 15 requests/s. ferry reads functions
 * with GetFunctionConfiguration, which draws on that shared budget too (GetFunction's own 100/s
 * would come with a code download URL the deploy role has no use for). A fan-out into one account
 * that keeps under the limit finishes sooner than one that hammers it and backs off.
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
  /** Shared control-plane budget per account and Region (requests/s). */
  readonly controlPerSecond: number;
}

/** Just under the documented limit, so ferry alone never trips it. */
export const DEFAULT_LAMBDA_RATE_LIMITS: LambdaRateLimits = { controlPerSecond: 14 };

export interface AccountPacers {
  readonly control: Pacer;
}

/** One pacer per account and Region, shared by every deployment in this process. */
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
