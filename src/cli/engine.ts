/**
 * The engine functions the CLI calls: the same ones the Lambda handlers use. Loaded on first use
 * (dynamic import), so commands that never touch AWS start without loading the SDK.
 */

import type { FerryConfig } from '../core/config.js';
import type { ShiftState } from '../core/traffic-shift.js';
import type { adopt } from '../engine/adopt.js';
import type { deployBuild } from '../engine/deploy-build.js';
import type { readHistory, resolveCaller } from '../engine/ledger.js';
import type { promote } from '../engine/promote.js';
import type { rollback } from '../engine/rollback.js';
import type { recordDirectDeployCopy } from '../engine/staged-copy.js';
import type { readStatus } from '../engine/status.js';
import type { advanceShift } from '../engine/traffic.js';
import type { Runtime, RuntimeOptions } from '../runtime/create-runtime.js';

export interface CliEngine {
  readonly adopt: typeof adopt;
  readonly deployBuild: typeof deployBuild;
  readonly promote: typeof promote;
  readonly rollback: typeof rollback;
  readonly readStatus: typeof readStatus;
  readonly readHistory: typeof readHistory;
  readonly recordDirectDeployCopy: typeof recordDirectDeployCopy;
  readonly advanceShift: typeof advanceShift;
  readonly readShift: (runtime: Runtime, app: string, stage: string) => Promise<ShiftState | undefined>;
  readonly resolveCaller: typeof resolveCaller;
}

/**
 * The engine, each function loading its own module on its first call: a command imports only what
 * it runs (with the CLI bundle split at these imports, `ferry deploy` never parses the traffic
 * engine, `ferry history` never the deploy engine).
 */
export function loadEngine(): CliEngine {
  return {
    deployBuild: async (...args) => (await import('../engine/deploy-build.js')).deployBuild(...args),
    promote: async (...args) => (await import('../engine/promote.js')).promote(...args),
    rollback: async (...args) => (await import('../engine/rollback.js')).rollback(...args),
    readStatus: async (...args) => (await import('../engine/status.js')).readStatus(...args),
    readHistory: async (...args) => (await import('../engine/ledger.js')).readHistory(...args),
    recordDirectDeployCopy: async (...args) =>
      (await import('../engine/staged-copy.js')).recordDirectDeployCopy(...args),
    adopt: async (...args) => (await import('../engine/adopt.js')).adopt(...args),
    advanceShift: async (...args) => (await import('../engine/traffic.js')).advanceShift(...args),
    readShift: async (runtime, app, stage) =>
      (await (await import('../engine/traffic-store.js')).readShift(runtime, app, stage))?.value,
    resolveCaller: async (...args) => (await import('../engine/ledger.js')).resolveCaller(...args),
  };
}

/** The runtime from the caller's credential chain and the SDK's standard configuration. */
export async function createCliRuntime(config: FerryConfig, options: RuntimeOptions): Promise<Runtime> {
  const { createRuntime } = await import('../runtime/create-runtime.js');
  return createRuntime(config, options);
}
