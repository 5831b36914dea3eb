/**
 * S3 ObjectCreated → deploy. Thin: parse the records, hand each to the engine, report. Rejected
 * inputs are logged and not retried; failed deployments fail the invocation so Lambda's retries
 * and the on-failure destination take over (every step is idempotent, so a retry converges).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { S3Event } from 'aws-lambda';
import { decodeEventKey } from '../core/artifact-key.js';
import { describeError, InputError } from '../core/errors.js';
import { type BuildDeployResult, BuildStatus, type DeployLog } from '../engine/deploy-build.js';
import { deployUpload, describeUploader, recordRejectedUpload } from '../engine/deploy-upload.js';
import { createRuntime, type Runtime } from '../runtime/create-runtime.js';
import { loadConfig } from '../runtime/load-config.js';
import { logger } from '../runtime/logger.js';

export interface UploadSummary {
  readonly results: ReadonlyArray<
    Pick<BuildDeployResult, 'app' | 'build' | 'status'> & { key: string; reason?: string }
  >;
}

/** Raised after all records were processed, when at least one deployment failed. */
export class DeploymentsFailedError extends Error {
  constructor(readonly failures: string[]) {
    super(`${failures.length} deployment(s) failed: ${failures.join('; ')}`);
    this.name = 'DeploymentsFailedError';
  }
}

export function createArtifactUploadedHandler(getRuntime: () => Runtime, log: DeployLog = logger) {
  return async (event: S3Event): Promise<UploadSummary> => {
    const runtime = getRuntime();
    const results: UploadSummary['results'][number][] = [];
    const failures: string[] = [];
    for (const record of event.Records ?? []) {
      // The uploader, for the ledger: who put the artifact there, not the role ferry runs as.
      const caller = describeUploader(record.userIdentity?.principalId);
      let key: string;
      try {
        key = decodeEventKey(record.s3.object.key);
      } catch (error) {
        log.warn('upload rejected', { key: record.s3.object.key, reason: describeError(error) });
        if (error instanceof InputError) {
          await recordRejectedUpload(
            runtime,
            log,
            {
              bucket: record.s3.bucket.name,
              key: record.s3.object.key,
              region: record.awsRegion,
              ...(record.s3.object.versionId ? { versionId: record.s3.object.versionId } : {}),
              caller,
            },
            error,
          );
        }
        results.push({
          app: '',
          build: '',
          status: BuildStatus.Rejected,
          key: record.s3.object.key,
          reason: describeError(error),
        });
        continue;
      }
      if (!record.eventName.startsWith('ObjectCreated:')) {
        log.info('event ignored', { key, eventName: record.eventName });
        continue;
      }
      let result: BuildDeployResult;
      try {
        result = await deployUpload(runtime, log, {
          bucket: record.s3.bucket.name,
          key,
          region: record.awsRegion,
          ...(record.s3.object.versionId ? { versionId: record.s3.object.versionId } : {}),
          ...(typeof record.s3.object.size === 'number' ? { sizeBytes: record.s3.object.size } : {}),
          caller,
        });
      } catch (error) {
        // Transient (a held lease, the ledger unreachable): the other records still run, then Lambda retries.
        log.error('deployment interrupted', { key, reason: describeError(error) });
        results.push({ app: '', build: '', status: BuildStatus.Failed, key, reason: describeError(error) });
        failures.push(`${key}: ${describeError(error)}`);
        continue;
      }
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

let runtime: Runtime | undefined;
const getDefaultRuntime = (): Runtime => {
  // Built once per cold start; configuration errors surface on the first invocation with the field named.
  runtime ??= createRuntime(loadConfig());
  return runtime;
};

export const handler = middy(createArtifactUploadedHandler(getDefaultRuntime)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
