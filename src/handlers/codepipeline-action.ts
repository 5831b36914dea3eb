/**
 * CodePipeline invoke action → deploy, then report the job result exactly once per invocation.
 * Thin: parse the job and its UserParameters, run the pipeline engine, send the report. Any
 * exception becomes a failure report; if the report itself cannot be sent, the invocation throws
 * so the failure is visible (the action would otherwise wait for its timeout).
 *
 * The event carries the pipeline's temporary artifact credentials: it is never logged (the
 * Powertools middleware is told not to log events), and only the job id, app and stage are.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { createPipelineJobPort, type PipelineJobPort } from '../aws/codepipeline.js';
import { createObjectStore, type ObjectStorePort } from '../aws/s3.js';
import { describeError, InputError, isFerryError } from '../core/errors.js';
import {
  type ArtifactCredentials,
  type PipelineJob,
  parsePipelineJob,
  parseUserParameters,
  readJobId,
} from '../core/pipeline-job.js';
import type { DeployLog } from '../engine/deploy-build.js';
import {
  DEFAULT_SAFETY_MARGIN_MS,
  type PipelineReport,
  recordRejectedJob,
  reportForError,
  runPipelineJob,
} from '../engine/pipeline-deploy.js';
import { createColdStartRuntime } from '../runtime/cold-start.js';
import type { Runtime, SdkOverrides } from '../runtime/create-runtime.js';
import { logger } from '../runtime/logger.js';

/** The part of Lambda's context the handler uses. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

export interface CodePipelineActionOptions {
  readonly getRuntime: () => Runtime;
  readonly getReporter: () => PipelineJobPort;
  readonly log?: DeployLog;
  /** Builds a store that reads the pipeline's artifact bucket with the job's credentials. */
  readonly openSourceStore?: (credentials: ArtifactCredentials, runtime: Runtime) => ObjectStorePort;
  readonly safetyMarginMs?: number;
}

export interface PipelineActionResult {
  readonly jobId: string;
  readonly result: PipelineReport['kind'];
}

/** The pipeline's artifact store, read with the job's own credentials and the SDK's standard endpoint configuration. */
export function openArtifactStoreWithJobCredentials(
  credentials: ArtifactCredentials,
  region: string,
  env: NodeJS.ProcessEnv = process.env,
  sdk: SdkOverrides = {},
): ObjectStorePort {
  return createObjectStore(
    new S3Client({
      ...sdk,
      region,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
      forcePathStyle: env.FERRY_S3_FORCE_PATH_STYLE === 'true',
    }),
  );
}

export function createCodePipelineActionHandler(options: CodePipelineActionOptions) {
  const log = options.log ?? logger;
  const openSourceStore =
    options.openSourceStore ??
    ((credentials: ArtifactCredentials, runtime: Runtime) =>
      // The artifact store is in the pipeline's Region, which is this function's Region.
      openArtifactStoreWithJobCredentials(
        credentials,
        process.env.AWS_REGION ?? runtime.config.region,
        process.env,
        runtime.sdk,
      ));

  return async (event: unknown, context: InvocationContext): Promise<PipelineActionResult> => {
    const jobId = readJobId(event);
    if (!jobId) {
      log.error('not a CodePipeline job event: no job id, so no result can be reported');
      throw new InputError('PIPELINE_EVENT_INVALID', 'The event is not a CodePipeline job (no "CodePipeline.job".id).');
    }
    let keys: Record<string, string> = { jobId };
    let report: PipelineReport;
    let job: PipelineJob | undefined;
    let parsed = false;
    try {
      job = parsePipelineJob(event);
      const params = parseUserParameters(job.userParameters);
      parsed = true;
      keys = { jobId, app: params.app, stage: params.stage };
      log.info('pipeline job started', { ...keys, continued: job.continuationToken !== undefined });
      const runtime = options.getRuntime();
      report = await runPipelineJob(
        {
          runtime,
          log,
          openSourceStore: (credentials) => openSourceStore(credentials, runtime),
          remainingTimeMs: () => context.getRemainingTimeInMillis(),
          safetyMarginMs: options.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS,
        },
        job,
        params,
      );
    } catch (error) {
      report = reportForError(error);
      log[isFerryError(error) && !error.transient ? 'warn' : 'error']('pipeline job failed', {
        ...keys,
        reason: describeError(error),
        errorCode: isFerryError(error) ? error.code : undefined,
      });
      // Past parsing, the pipeline engine records its own refusals; a job refused while parsing is recorded here.
      if (!parsed) await recordUnparsedJob(options.getRuntime, log, jobId, job, error);
    }
    await sendReport(options.getReporter(), jobId, report);
    log.info('pipeline job reported', {
      ...keys,
      result: report.kind,
      ...(report.kind === 'failure' ? { failureType: report.type, message: report.message } : {}),
      ...(report.kind === 'success' ? { outputVariables: report.outputVariables } : {}),
    });
    return { jobId, result: report.kind };
  };
}

/** Best effort: a job whose event or UserParameters were refused still reaches the ledger, if ferry's runtime can be built. */
async function recordUnparsedJob(
  getRuntime: () => Runtime,
  log: DeployLog,
  jobId: string,
  job: PipelineJob | undefined,
  error: unknown,
): Promise<void> {
  let runtime: Runtime;
  try {
    runtime = getRuntime();
  } catch {
    return; // No configuration, no ledger: the failure report and the log line carry the reason.
  }
  const named = peekParameters(job?.userParameters);
  const input = job?.inputArtifacts[0];
  await recordRejectedJob(runtime, log, {
    jobId,
    ...(job?.executionId ? { executionId: job.executionId } : {}),
    ...named,
    ...(input ? { artifact: input } : {}),
    error,
  });
}

/** The app and stage that UserParameters name, read leniently (they failed validation) to file the refusal under the app. */
function peekParameters(text: string | undefined): { app?: string; stage?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null) return {};
  const { app, stage } = value as { app?: unknown; stage?: unknown };
  return {
    ...(typeof app === 'string' ? { app } : {}),
    ...(typeof stage === 'string' ? { stage } : {}),
  };
}

async function sendReport(reporter: PipelineJobPort, jobId: string, report: PipelineReport): Promise<void> {
  switch (report.kind) {
    case 'success':
      return reporter.putJobSuccess({
        jobId,
        executionDetails: { summary: report.summary, percentComplete: 100 },
        outputVariables: report.outputVariables,
      });
    case 'continue':
      return reporter.putJobSuccess({
        jobId,
        continuationToken: report.continuationToken,
        executionDetails: { summary: report.summary, percentComplete: report.percentComplete },
      });
    case 'failure':
      return reporter.putJobFailure({ jobId, type: report.type, message: report.message });
  }
}

const getDefaultRuntime = createColdStartRuntime();
let reporter: PipelineJobPort | undefined;

export const handler = middy(
  createCodePipelineActionHandler({
    // Built once per cold start; a configuration error becomes the job's failure report.
    getRuntime: getDefaultRuntime,
    // Reports go to the pipeline's Region (this function's), with ferry's own role.
    getReporter: () => {
      reporter ??= createPipelineJobPort(new CodePipelineClient({}));
      return reporter;
    },
  }),
).use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }));
