/**
 * EventBridge schedule → promotions. Thin: read the optional filter ({app, from, to}, given as the
 * rule's input, or under `detail`), run the matching promotion rules, log one summary line per
 * rule. Only failed deployments fail the invocation; "nothing to promote" and "waiting" are normal.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { describeError, InputError } from '../core/errors.js';
import type { DeployLog } from '../engine/deploy-build.js';
import {
  type PromotionResult,
  PromotionStatus,
  recordRejectedSchedule,
  runScheduledPromotions,
  type ScheduleFilter,
} from '../engine/promote.js';
import { createColdStartRuntime } from '../runtime/cold-start.js';
import type { Runtime } from '../runtime/create-runtime.js';
import { logger } from '../runtime/logger.js';

export interface PromotionSummary {
  readonly results: readonly Pick<PromotionResult, 'app' | 'from' | 'to' | 'status' | 'build' | 'reason'>[];
}

/** Raised after every rule ran, when at least one promotion deployment failed. */
export class PromotionsFailedError extends Error {
  constructor(readonly failures: string[]) {
    super(`${failures.length} promotion(s) failed: ${failures.join('; ')}`);
    this.name = 'PromotionsFailedError';
  }
}

/** Reads {app?, from?, to?} from the event itself (serverless `input:`) or its `detail` (a plain schedule event). */
/** Where the filter fields are: the rule's input itself, or a scheduled event's non-empty `detail`. */
function readScheduleSource(event: unknown): Record<string, unknown> {
  if (!isRecord(event)) return {};
  return isRecord(event.detail) && Object.keys(event.detail).length > 0 ? event.detail : event;
}

export function parseScheduleFilter(event: unknown): ScheduleFilter {
  // EventBridge sends the rule's input (serverless `input: {}` at least) or a scheduled event: an
  // object either way. Anything else (null, a string, an array) is not "every rule": it is refused.
  if (!isRecord(event)) {
    throw new InputError(
      'SCHEDULE_INPUT_INVALID',
      `The schedule input must be a JSON object ({} for every rule, or {app, from, to}); got ${describeType(event)}. Fix the rule's input.`,
    );
  }
  const source = readScheduleSource(event);
  const filter: { app?: string; from?: string; to?: string } = {};
  for (const field of ['app', 'from', 'to'] as const) {
    const value = source[field];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') {
      throw new InputError(
        'SCHEDULE_INPUT_INVALID',
        `The schedule input's '${field}' must be a string; got ${typeof value}. Fix the rule's input.`,
      );
    }
    filter[field] = value;
  }
  return filter;
}

export function createScheduledPromotionHandler(getRuntime: () => Runtime, log: DeployLog = logger) {
  return async (event: unknown): Promise<PromotionSummary> => {
    let results: PromotionResult[];
    let filter: ScheduleFilter;
    try {
      filter = parseScheduleFilter(event);
      results = await runScheduledPromotions(getRuntime(), log, filter);
    } catch (error) {
      // A misconfigured schedule input never succeeds on retry: log it and stop.
      if (error instanceof InputError) {
        log.error('scheduled promotion rejected', { reason: describeError(error), errorCode: error.code });
        await recordRejectedSchedule(getRuntime(), log, readScheduleSource(event), error);
        return { results: [] };
      }
      throw error;
    }
    if (results.length === 0) log.info('no promotion rule matches the schedule', { filter });
    for (const r of results) {
      const line = { app: r.app, from: r.from, to: r.to, status: r.status, build: r.build, reason: r.reason };
      // Refused: the ledger disagrees with what the source stage serves; a retry cannot fix that, a human must look.
      if (r.status === PromotionStatus.Failed || r.status === PromotionStatus.Refused)
        log.error(`promotion ${r.status}`, line);
      else log.info(`promotion ${r.status}`, line);
    }
    const failures = results
      .filter((r) => r.status === PromotionStatus.Failed)
      .map((r) => `${r.app} ${r.from}→${r.to}: ${r.reason}`);
    if (failures.length > 0) throw new PromotionsFailedError(failures);
    return {
      results: results.map((r) => ({
        app: r.app,
        from: r.from,
        to: r.to,
        status: r.status,
        reason: r.reason,
        ...(r.build ? { build: r.build } : {}),
      })),
    };
  };
}

function describeType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const getDefaultRuntime = createColdStartRuntime();

export const handler = middy(createScheduledPromotionHandler(getDefaultRuntime)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
