/**
 * The shell every change to a stage runs in, a release as much as a rollback: the stage's lease
 * (taken, renewed while the work runs, released or handed over at the end, and logged if another
 * run took it over), and the attempt (id and start time) that the stage's ledger entry records.
 */
import type { Runtime } from '../runtime/create-runtime.js';
import type { DeployLog } from './deploy-log.js';
import { type HeldLease, logLeaseLost, withLease } from './lease.js';
import { startAttempt } from './ledger.js';

export interface StageScope {
  readonly app: string;
  readonly stage: string;
  /** What the lease names as being deployed (a build id, or `rollback`). */
  readonly build: string;
  /** Who holds the lease: the caller recorded in the ledger. */
  readonly holder: string;
  readonly leaseWaitMs?: number;
}

export interface StageShell {
  /** The ledger entry's id and start time. */
  readonly attempt: { readonly id: string; readonly startedAt: string };
  readonly held: HeldLease;
  /** Leaves the lease held past this run (shards carry it on and release it). */
  readonly handOverLease: () => void;
}

export function runInStage<T>(
  runtime: Runtime,
  log: DeployLog,
  scope: StageScope,
  work: (shell: StageShell) => Promise<T>,
): Promise<T> {
  return withLease(
    runtime,
    {
      app: scope.app,
      stage: scope.stage,
      build: scope.build,
      holder: scope.holder,
      ...(scope.leaseWaitMs ? { maxWaitMs: scope.leaseWaitMs } : {}),
    },
    (held, handOverLease) => work({ attempt: startAttempt(runtime), held, handOverLease }),
    (held, lost) => logLeaseLost(log, held, lost, scope.app, scope.stage),
  );
}
