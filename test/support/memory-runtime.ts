/**
 * A Runtime wired to in-memory S3 and Lambda, for engine unit tests: no SDK clients, a settable
 * clock, backoff sleeps that yield briefly (so lease waiters interleave with the holder), and lease
 * renewals that run only when a test calls `renewLeases()` (no real timers).
 */
import type { FerryConfig } from '../../src/core/config.js';
import type { LeaseDeps } from '../../src/engine/lease.js';
import type { Runtime } from '../../src/runtime/create-runtime.js';
import { MemoryLambda } from './memory-lambda.js';
import { MemoryS3 } from './memory-s3.js';

export interface MemoryRuntime {
  /** Carries `repeatEvery`, which withLease picks up from the runtime it is given. */
  readonly runtime: Runtime & Required<Pick<LeaseDeps, 'repeatEvery'>>;
  readonly s3: MemoryS3;
  readonly lambda: MemoryLambda;
  /** Moves the clock (ms since epoch). */
  setNow(ms: number): void;
  advance(ms: number): void;
  /** Runs one renewal of every lease held through withLease right now, and waits for them. */
  renewLeases(): Promise<void>;
  /** Renewal schedules started and not yet stopped, with their period. */
  readonly renewals: ReadonlySet<{ readonly everyMs: number }>;
}

export function createMemoryRuntime(
  config: FerryConfig,
  start = Date.parse('2026-11-23T08:00:00.000Z'),
): MemoryRuntime {
  const s3 = new MemoryS3();
  const lambda = new MemoryLambda((bucket, key, versionId) => s3.readArtifactVersion(bucket, key, versionId));
  let now = start;
  const renewals = new Set<{ readonly everyMs: number; readonly tick: () => Promise<void> }>();
  const runtime: MemoryRuntime['runtime'] = {
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
    repeatEvery: (tick, everyMs) => {
      const schedule = { everyMs, tick };
      renewals.add(schedule);
      return () => renewals.delete(schedule);
    },
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
    renewLeases: async () => {
      await Promise.all([...renewals].map((r) => r.tick()));
    },
    renewals,
  };
}
