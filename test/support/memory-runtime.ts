/**
 * A Runtime wired to in-memory S3 and Lambda, for engine unit tests: no SDK clients, a settable
 * clock, and backoff sleeps that yield briefly (so lease waiters interleave with the holder).
 */
import type { FerryConfig } from '../../src/core/config.js';
import type { Runtime } from '../../src/runtime/create-runtime.js';
import { MemoryLambda } from './memory-lambda.js';
import { MemoryS3 } from './memory-s3.js';

export interface MemoryRuntime {
  readonly runtime: Runtime;
  readonly s3: MemoryS3;
  readonly lambda: MemoryLambda;
  /** Moves the clock (ms since epoch). */
  setNow(ms: number): void;
  advance(ms: number): void;
}

export function createMemoryRuntime(
  config: FerryConfig,
  start = Date.parse('2026-11-23T08:00:00.000Z'),
): MemoryRuntime {
  const s3 = new MemoryS3();
  const lambda = new MemoryLambda();
  let now = start;
  const runtime: Runtime = {
    config,
    store: s3.store(),
    assumer: {
      assume: async () => ({
        accessKeyId: 'A',
        secretAccessKey: 'S',
        sessionToken: 'T',
        expiration: new Date(now + 3_600_000),
      }),
    },
    lambdaFor: async (target) => lambda.port(target),
    // Time passes a little on every read, so entries written one after another have distinct times.
    now: () => now++,
    // Backoff sleeps yield for at most 2 ms of real time and leave the clock alone: lease expiry
    // happens only when a test moves the clock.
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 2))),
    random: Math.random,
    identifyCaller: async () => 'arn:aws:sts::111111111111:assumed-role/ferry/test',
  };
  return {
    runtime,
    s3,
    lambda,
    setNow: (ms) => {
      now = ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}
