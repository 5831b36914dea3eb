/**
 * EventBridge `rate(1 minute)` → advance every in-flight traffic shift one decision further. Thin:
 * the engine reads the index of in-flight shifts (one GetObject when none is in flight) and
 * advances each under its stage's lease. A missed or late tick is caught by the next one; a
 * duplicated tick finds the state already advanced. Stages that failed are reported by throwing
 * after the others ran, so the failure shows in the function's metrics; the next tick retries.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DeployLog } from '../engine/deploy-build.js';
import { runTrafficTick, type TickSummary } from '../engine/traffic.js';
import { createColdStartRuntime } from '../runtime/cold-start.js';
import type { Runtime } from '../runtime/create-runtime.js';
import { logger } from '../runtime/logger.js';

export class TrafficTickFailedError extends Error {
  constructor(readonly failures: string[]) {
    super(`${failures.length} shift(s) could not be advanced: ${failures.join('; ')}`);
    this.name = 'TrafficTickFailedError';
  }
}

export function createTrafficTickHandler(getRuntime: () => Runtime, log: DeployLog = logger) {
  return async (_event: unknown): Promise<TickSummary> => {
    const summary = await runTrafficTick(getRuntime(), log);
    const failures = summary.results.filter((r) => r.error !== undefined).map((r) => `${r.app}/${r.stage}: ${r.error}`);
    if (failures.length > 0) throw new TrafficTickFailedError(failures);
    return summary;
  };
}

const getDefaultRuntime = createColdStartRuntime();

export const handler = middy(createTrafficTickHandler(getDefaultRuntime)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
