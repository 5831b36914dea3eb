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

export async function loadEngine(): Promise<CliEngine> {
  const [build, promotion, back, status, ledger, staged, adoption, traffic, store] = await Promise.all([
    import('../engine/deploy-build.js'),
    import('../engine/promote.js'),
    import('../engine/rollback.js'),
    import('../engine/status.js'),
    import('../engine/ledger.js'),
    import('../engine/staged-copy.js'),
    import('../engine/adopt.js'),
    import('../engine/traffic.js'),
    import('../engine/traffic-store.js'),
  ]);
  return {
    deployBuild: build.deployBuild,
    promote: promotion.promote,
    rollback: back.rollback,
    readStatus: status.readStatus,
    readHistory: ledger.readHistory,
    recordDirectDeployCopy: staged.recordDirectDeployCopy,
    adopt: adoption.adopt,
    advanceShift: traffic.advanceShift,
    readShift: async (runtime, app, stage) => (await store.readShift(runtime, app, stage))?.value,
    resolveCaller: ledger.resolveCaller,
  };
}

/** The runtime from the caller's credential chain and the SDK's standard configuration. */
export async function createCliRuntime(config: FerryConfig, options: RuntimeOptions): Promise<Runtime> {
  const { createRuntime } = await import('../runtime/create-runtime.js');
  return createRuntime(config, options);
}
