/**
 * S3 ObjectCreated → deploy. Thin: parse the records, hand each to the engine, report. Rejected
 * inputs are logged and not retried; failed deployments fail the invocation so Lambda's retries
 * and the on-failure destination take over (every step is idempotent, so a retry converges).
 * The same function receives ferry's own shard events (core/shard-plan.ts): a stage too large or
 * too long for one invocation continues there.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { describeError } from '../core/errors.js';
import { readShardEvent } from '../core/shard-plan.js';
import { type BuildDeployResult, BuildStatus, type DeployLog } from '../engine/deploy-build.js';
import { deployUpload, describeUploader, type UploadDeployResult } from '../engine/deploy-upload.js';
import { runStageShard, type ShardRunResult } from '../engine/stage-shard-run.js';
import { createColdStartRuntime } from '../runtime/cold-start.js';
import type { Runtime } from '../runtime/create-runtime.js';
import { logger } from '../runtime/logger.js';

export interface UploadSummary {
  readonly results: ReadonlyArray<
    Pick<BuildDeployResult, 'app' | 'build' | 'status'> & { key: string; reason?: string }
  >;
  /** For a shard event: what this invocation did with the shard. */
  readonly shard?: ShardRunResult;
}

/** The part of Lambda's context ferry reads: how long the invocation has left. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/** Raised after all records were processed, when at least one deployment failed. */
export class DeploymentsFailedError extends Error {
  constructor(readonly failures: string[]) {
    super(`${failures.length} deployment(s) failed: ${failures.join('; ')}`);
    this.name = 'DeploymentsFailedError';
  }
}

/** The fields of an S3 event record ferry reads, checked: anything else is a malformed event. */
interface UploadRecord {
  readonly eventName: string;
  readonly region: string;
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly size?: number;
  readonly principalId?: string;
}

/**
 * Reads one record of an S3 notification, or says what is missing. A malformed event (a test
 * invocation, a wrong trigger) is rejected with that reason instead of failing on a TypeError,
 * which Lambda would retry twice and then send to the failure queue for nothing.
 */
export function readUploadRecord(record: unknown): UploadRecord | { readonly problem: string } {
  const r = asRecord(record);
  const s3 = asRecord(r?.s3);
  const object = asRecord(s3?.object);
  const bucket = asRecord(s3?.bucket)?.name;
  const problems = [
    typeof r?.eventName === 'string' ? undefined : 'eventName',
    typeof r?.awsRegion === 'string' ? undefined : 'awsRegion',
    typeof bucket === 'string' && bucket !== '' ? undefined : 's3.bucket.name',
    typeof object?.key === 'string' && object.key !== '' ? undefined : 's3.object.key',
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0 || !r || !object) return { problem: `missing or not a string: ${problems.join(', ')}` };
  const principalId = asRecord(r.userIdentity)?.principalId;
  return {
    eventName: r.eventName as string,
    region: r.awsRegion as string,
    bucket: bucket as string,
    key: object.key as string,
    ...(typeof object.versionId === 'string' && object.versionId !== '' ? { versionId: object.versionId } : {}),
    ...(typeof object.size === 'number' ? { size: object.size } : {}),
    ...(typeof principalId === 'string' ? { principalId } : {}),
  };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function createArtifactUploadedHandler(getRuntime: () => Runtime, log: DeployLog = logger) {
  return async (event: unknown, context?: InvocationContext): Promise<UploadSummary> => {
    const budget =
      typeof context?.getRemainingTimeInMillis === 'function'
        ? { remainingMs: () => context.getRemainingTimeInMillis() }
        : undefined;
    const shardEvent = readShardEvent(event);
    if (shardEvent !== undefined) {
      if ('problem' in shardEvent) {
        log.error('event rejected: a malformed shard event; nothing deployed', {
          reason: shardEvent.problem,
          errorCode: 'SHARD_EVENT_INVALID',
        });
        return { results: [] };
      }
      // Without a context (not in Lambda) the shard has all the time it needs.
      const shard = await runStageShard(getRuntime(), log, shardEvent, budget ?? { remainingMs: () => Infinity });
      return { results: [], shard };
    }
    const records = asRecord(event)?.Records;
    if (!Array.isArray(records)) {
      // Nothing here names an app or a key, so there is nothing to file in the ledger.
      log.error('event rejected: not an S3 notification (no Records list); nothing deployed', {
        eventType: event === null ? 'null' : Array.isArray(event) ? 'array' : typeof event,
        errorCode: 'UPLOAD_EVENT_INVALID',
      });
      return { results: [] };
    }
    const runtime = getRuntime();
    const results: UploadSummary['results'][number][] = [];
    const failures: string[] = [];
    for (const [index, raw] of records.entries()) {
      const record = readUploadRecord(raw);
      if ('problem' in record) {
        const reason = `UPLOAD_EVENT_INVALID: record ${index} of the S3 event is malformed (${record.problem}); nothing deployed`;
        log.error('upload rejected: malformed S3 event record', {
          record: index,
          reason,
          errorCode: 'UPLOAD_EVENT_INVALID',
        });
        results.push({ app: '', build: '', status: BuildStatus.Rejected, key: '', reason });
        continue;
      }
      // The uploader, for the ledger: who put the artifact there, not the role ferry runs as.
      const caller = describeUploader(record.principalId);
      if (!record.eventName.startsWith('ObjectCreated:')) {
        log.info('event ignored', { key: record.key, eventName: record.eventName });
        continue;
      }
      // The key as the event names it: deployUpload decodes it (and files a malformed one in the ledger).
      let result: UploadDeployResult;
      try {
        result = await deployUpload(
          runtime,
          log,
          {
            bucket: record.bucket,
            key: record.key,
            region: record.region,
            ...(record.versionId ? { versionId: record.versionId } : {}),
            ...(record.size === undefined ? {} : { sizeBytes: record.size }),
            caller,
          },
          budget,
        );
      } catch (error) {
        // Transient (a held lease, the ledger unreachable): the other records still run, then Lambda retries.
        log.error('deployment interrupted', { key: record.key, reason: describeError(error) });
        results.push({ app: '', build: '', status: BuildStatus.Failed, key: record.key, reason: describeError(error) });
        failures.push(`${record.key}: ${describeError(error)}`);
        continue;
      }
      const { key } = result;
      const reason = result.error ? describeError(result.error) : undefined;
      results.push({ app: result.app, build: result.build, status: result.status, key, ...(reason ? { reason } : {}) });
      if (result.status === BuildStatus.Failed) failures.push(`${key}: ${summarizeFailure(result)}`);
    }
    if (failures.length > 0) throw new DeploymentsFailedError(failures);
    return { results };
  };
}

function summarizeFailure(result: BuildDeployResult): string {
  if (result.error) return describeError(result.error);
  const failed = result.stages.flatMap((s) => s.outcomes.filter((o) => o.error));
  return failed.map((o) => `${o.target.id}: ${describeError(o.error)}`).join(', ');
}

const getDefaultRuntime = createColdStartRuntime();

export const handler = middy(createArtifactUploadedHandler(getDefaultRuntime)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
