/**
 * The CodePipeline adapter: a job worker's two reports. The only place that sends CodePipeline
 * commands. Enforces the API's limits before sending (CodePipeline API Reference,
 * PutJobSuccessResult and FailureDetails) and translates its exceptions into ferry errors.
 */
import {
  type CodePipelineClient,
  CodePipelineServiceException,
  InvalidJobStateException,
  JobNotFoundException,
  OutputVariablesSizeExceededException,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import { AccessError, InputError, InternalError } from '../core/errors.js';
import type { PipelineFailureType } from '../core/pipeline-job.js';
import { CONTINUATION_TOKEN_MAX, truncateText } from '../core/pipeline-job.js';

/** API limits: FailureDetails.message 1–5000, ExecutionDetails.summary ≤ 2048, externalExecutionId ≤ 1500. */
export const PIPELINE_LIMITS = {
  failureMessage: 5000,
  summary: 2048,
  continuationToken: CONTINUATION_TOKEN_MAX,
  externalExecutionId: 1500,
  /** Output variable names follow CodePipeline's variable name pattern, 1–128 characters. */
  variableName: /^[A-Za-z0-9@\-_]{1,128}$/,
  /** Pipeline variable values are at most 1000 characters. */
  variableValue: 1000,
} as const;

export interface JobSuccess {
  readonly jobId: string;
  /** "Still working": CodePipeline invokes the action again with this token. */
  readonly continuationToken?: string;
  readonly executionDetails?: {
    readonly summary?: string;
    readonly externalExecutionId?: string;
    readonly percentComplete?: number;
  };
  /** Only on the final success: the API refuses them next to a continuation token. */
  readonly outputVariables?: Readonly<Record<string, string>>;
  readonly currentRevision?: { readonly revision: string; readonly changeIdentifier: string };
}

export interface JobFailure {
  readonly jobId: string;
  readonly type: PipelineFailureType;
  readonly message: string;
  readonly externalExecutionId?: string;
}

export interface PipelineJobPort {
  putJobSuccess(input: JobSuccess): Promise<void>;
  putJobFailure(input: JobFailure): Promise<void>;
}

export function createPipelineJobPort(client: CodePipelineClient): PipelineJobPort {
  return {
    async putJobSuccess(input) {
      checkSuccess(input);
      const details = input.executionDetails;
      try {
        await client.send(
          new PutJobSuccessResultCommand({
            jobId: input.jobId,
            ...(input.continuationToken ? { continuationToken: input.continuationToken } : {}),
            ...(details
              ? {
                  executionDetails: {
                    ...(details.summary ? { summary: truncateText(details.summary, PIPELINE_LIMITS.summary) } : {}),
                    ...(details.externalExecutionId ? { externalExecutionId: details.externalExecutionId } : {}),
                    ...(details.percentComplete === undefined ? {} : { percentComplete: details.percentComplete }),
                  },
                }
              : {}),
            ...(input.outputVariables ? { outputVariables: { ...input.outputVariables } } : {}),
            ...(input.currentRevision ? { currentRevision: { ...input.currentRevision } } : {}),
          }),
        );
      } catch (error) {
        throw translate(error, input.jobId, 'PutJobSuccessResult');
      }
    },

    async putJobFailure(input) {
      if (input.externalExecutionId && input.externalExecutionId.length > PIPELINE_LIMITS.externalExecutionId) {
        throw new InternalError('PIPELINE_RESULT_INVALID', 'externalExecutionId is longer than 1500 characters.');
      }
      try {
        await client.send(
          new PutJobFailureResultCommand({
            jobId: input.jobId,
            failureDetails: {
              type: input.type,
              // At least one character: an empty message is a ValidationException.
              message: truncateText(input.message || 'ferry failed without a message.', PIPELINE_LIMITS.failureMessage),
              ...(input.externalExecutionId ? { externalExecutionId: input.externalExecutionId } : {}),
            },
          }),
        );
      } catch (error) {
        throw translate(error, input.jobId, 'PutJobFailureResult');
      }
    },
  };
}

/** What cannot be shortened without changing its meaning is refused before sending. */
function checkSuccess(input: JobSuccess): void {
  const problems: string[] = [];
  const token = input.continuationToken;
  if (token !== undefined && (token.length < 1 || token.length > PIPELINE_LIMITS.continuationToken)) {
    problems.push(`continuationToken must be 1–${PIPELINE_LIMITS.continuationToken} characters (is ${token.length})`);
  }
  if (token !== undefined && input.outputVariables) {
    problems.push('outputVariables are only allowed on the final success, without a continuation token');
  }
  for (const [name, value] of Object.entries(input.outputVariables ?? {})) {
    if (!PIPELINE_LIMITS.variableName.test(name)) {
      problems.push(`output variable name '${name}' must match [A-Za-z0-9@\\-_]{1,128}`);
    }
    if (value.length < 1 || value.length > PIPELINE_LIMITS.variableValue) {
      problems.push(`output variable '${name}' must be 1–${PIPELINE_LIMITS.variableValue} characters`);
    }
  }
  const external = input.executionDetails?.externalExecutionId;
  if (external !== undefined && external.length > PIPELINE_LIMITS.externalExecutionId) {
    problems.push('executionDetails.externalExecutionId must be at most 1500 characters');
  }
  const percent = input.executionDetails?.percentComplete;
  if (percent !== undefined && !(Number.isInteger(percent) && percent >= 0 && percent <= 100)) {
    problems.push('executionDetails.percentComplete must be an integer from 0 to 100');
  }
  if (problems.length > 0) {
    throw new InternalError('PIPELINE_RESULT_INVALID', `ferry built an invalid job result: ${problems.join('; ')}.`, {
      context: { jobId: input.jobId },
    });
  }
}

function translate(error: unknown, jobId: string, operation: string): unknown {
  const options = { cause: error, context: { jobId, operation } };
  if (error instanceof InvalidJobStateException) {
    return new InputError(
      'PIPELINE_JOB_NOT_IN_PROGRESS',
      `Job ${jobId} no longer accepts a result (already reported, or timed out): ${error.message}`,
      options,
    );
  }
  if (error instanceof JobNotFoundException) {
    return new InputError(
      'PIPELINE_JOB_NOT_FOUND',
      `Job ${jobId} was not found. ferry reports with its own role, so the pipeline must be in ferry's account and Region.`,
      options,
    );
  }
  if (error instanceof ValidationException || error instanceof OutputVariablesSizeExceededException) {
    return new InternalError(
      'PIPELINE_RESULT_INVALID',
      `CodePipeline refused the job result: ${error.message}`,
      options,
    );
  }
  if (
    error instanceof CodePipelineServiceException &&
    (error.name === 'AccessDeniedException' || error.$metadata.httpStatusCode === 403)
  ) {
    return new AccessError(
      'PIPELINE_ACCESS_DENIED',
      `ferry may not call codepipeline:${operation}. Its execution role needs codepipeline:PutJobSuccessResult and codepipeline:PutJobFailureResult on "*".`,
      options,
    );
  }
  return error;
}
