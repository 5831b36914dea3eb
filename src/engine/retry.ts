/**
 * Retries transient Lambda answers (update in progress, throttling, 5xx) with jittered backoff.
 * When retries run out the last error is thrown: a retry loop never turns failure into success.
 */
import { type BackoffPolicy, computeBackoffDelay } from '../core/backoff.js';
import { isFerryError } from '../core/errors.js';

export interface RetryDeps {
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  /** Called before each retry, for logging and counting. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; code: string }) => void;
}

/** How often and how long a Lambda call is retried in place (retrying-lambda.ts). */
export const LAMBDA_RETRY_POLICY: BackoffPolicy = { maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 5_000 };

/**
 * The error codes worth retrying in place: the same call can succeed moments later. Lambda
 * clients make a single attempt each (create-runtime.ts), so this loop is the only retry layer for
 * Lambda calls: its attempts are the attempts, paced per account, never multiplied by the SDK's.
 */
const RETRYABLE_CODES = new Set([
  'LAMBDA_UPDATE_IN_PROGRESS',
  'LAMBDA_RESOURCE_CONFLICT',
  'LAMBDA_THROTTLED',
  'LAMBDA_UNAVAILABLE',
]);

export function isRetryableInPlace(error: unknown): boolean {
  return isFerryError(error) && RETRYABLE_CODES.has(error.code);
}

export async function retryTransient<T>(call: () => Promise<T>, policy: BackoffPolicy, deps: RetryDeps): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isRetryableInPlace(error) || attempt >= policy.maxAttempts) throw error;
      const delayMs = computeBackoffDelay(attempt, policy, deps.random);
      deps.onRetry?.({ attempt, delayMs, code: isFerryError(error) ? error.code : 'unknown' });
      await deps.sleep(delayMs);
    }
  }
}
