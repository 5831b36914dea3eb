/**
 * Lambda's API request quotas, per account and Region (Lambda quotas page, "Lambda API requests"):
 * GetFunction 100 requests/s, GetPolicy 15 requests/s, and every other control-plane call
 * (invocation excluded) shares 15 requests/s. None can be increased.
 *
 * The page states rates per second and no burst size, so each quota is a token bucket holding
 * one second's worth of requests and refilling continuously on the sandbox clock: a client may
 * spend the whole second at once, and then gets one more request every 1/rate seconds.
 */
import type { Clock } from '../contracts.js';

export const RateClass = {
  GetFunction: 'GetFunction',
  GetPolicy: 'GetPolicy',
  ControlPlane: 'ControlPlane',
  /** Invoke is governed by concurrency, not by these request quotas. */
  Unlimited: 'Unlimited',
} as const;
export type RateClass = (typeof RateClass)[keyof typeof RateClass];

const requestsPerSecond: Readonly<Record<Exclude<RateClass, 'Unlimited'>, number>> = {
  GetFunction: 100,
  GetPolicy: 15,
  ControlPlane: 15,
};

/** Which quota an operation draws from. */
export function classifyOperation(operation: string): RateClass {
  if (operation === 'Invoke') return RateClass.Unlimited;
  if (operation === 'GetFunction') return RateClass.GetFunction;
  if (operation === 'GetPolicy') return RateClass.GetPolicy;
  return RateClass.ControlPlane;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface RateLimiter {
  /** Takes one token for the call, or says how long to wait when the bucket is empty. */
  take(accountId: string, region: string, operation: string): RateDecision;
}

export function createRateLimiter(clock: Clock): RateLimiter {
  const buckets = new Map<string, Bucket>();
  return {
    take(accountId, region, operation) {
      const rateClass = classifyOperation(operation);
      if (rateClass === RateClass.Unlimited) return { allowed: true };
      const rate = requestsPerSecond[rateClass];
      const key = `${accountId}/${region}/${rateClass}`;
      const now = clock.now();
      const bucket = refill(buckets.get(key) ?? { tokens: rate, updatedAt: now }, rate, now);
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      const waitMs = ((1 - bucket.tokens) * 1000) / rate;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
  };
}

function refill(bucket: Bucket, rate: number, now: number): Bucket {
  const elapsedMs = Math.max(0, now - bucket.updatedAt);
  return { tokens: Math.min(rate, bucket.tokens + (elapsedMs * rate) / 1000), updatedAt: now };
}
