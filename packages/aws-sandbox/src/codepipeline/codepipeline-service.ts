/**
 * CodePipeline over JSON 1.1 (`X-Amz-Target: CodePipeline_20150709.<Operation>`): the two calls a
 * Lambda invoke action makes. Constraints are those of the CodePipeline API Reference
 * (PutJobSuccessResult, PutJobFailureResult); a job takes one result, while InProgress.
 */
import {
  type Authorizer,
  AwsError,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxService,
} from '../contracts.js';
import { describeDenial } from '../iam.js';
import { generateRequestId } from '../ids.js';
import { JobStatus, type JobStore } from './jobs.js';

const TARGET_PREFIX = 'CodePipeline_20150709.';
const JOB_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FAILURE_TYPES = [
  'JobFailed',
  'ConfigurationError',
  'PermissionError',
  'RevisionOutOfSync',
  'RevisionUnavailable',
  'SystemUnavailable',
];

export function createCodePipelineService(deps: { jobs: JobStore; authorizer: Authorizer }): SandboxService {
  return {
    signingName: 'codepipeline',
    operation(req) {
      const target = req.headers['x-amz-target'] ?? '';
      return target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : 'Unknown';
    },
    async handle(req, operation) {
      const input = parseJsonBody(req);
      if (operation !== 'PutJobSuccessResult' && operation !== 'PutJobFailureResult') {
        throw new AwsError('UnknownOperationException', 400, `Operation ${operation} is not supported by the sandbox`);
      }
      if (!deps.authorizer.isAllowed(req.caller, `codepipeline:${operation}`, '*')) {
        throw new AwsError('AccessDeniedException', 400, describeDenial(req.caller, `codepipeline:${operation}`, '*'));
      }
      const { jobId, ...result } = input;
      if (operation === 'PutJobSuccessResult') {
        validateSuccess(input);
        requireInProgressJob(deps.jobs, req, jobId as string);
        deps.jobs.recordSuccess(jobId as string, result);
      } else {
        validateFailure(input);
        requireInProgressJob(deps.jobs, req, jobId as string);
        deps.jobs.recordFailure(jobId as string, result);
      }
      return answerJson(req, 200, {});
    },
    renderError(error, req) {
      return answerJson(req, error.status, { __type: error.code, message: error.message });
    },
  };
}

function answerJson(req: SandboxRequest, status: number, body: unknown): SandboxResponse {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': req.requestId ?? generateRequestId() },
    body: JSON.stringify(body),
  };
}

function parseJsonBody(req: SandboxRequest): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(req.body.toString('utf8') || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new AwsError('SerializationException', 400, 'Request body is not a JSON object');
}

/** Jobs belong to the pipeline's account: others cannot see them (JobNotFoundException). */
function requireInProgressJob(jobs: JobStore, req: SandboxRequest, jobId: string): void {
  const job = jobs.findJob(jobId);
  if (!job || job.accountId !== req.caller.accountId)
    throw new AwsError('JobNotFoundException', 400, `Job ${jobId} not found`);
  if (job.status !== JobStatus.InProgress) {
    throw new AwsError(
      'InvalidJobStateException',
      400,
      `Job ${jobId} is in state ${job.status}; only InProgress jobs accept a result`,
    );
  }
}

type Problems = string[];

function checkLength(
  problems: Problems,
  path: string,
  value: unknown,
  min: number,
  max: number,
  required = false,
): void {
  if (value === undefined || value === null) {
    if (required) problems.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
    return;
  }
  if (typeof value !== 'string')
    return void problems.push(`Value at '${path}' failed to satisfy constraint: Member must be a string`);
  if (value.length < min)
    problems.push(
      `Value '${value}' at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`,
    );
  if (value.length > max)
    problems.push(
      `Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
}

function checkJobId(problems: Problems, jobId: unknown): void {
  checkLength(problems, 'jobId', jobId, 1, 36, true);
  if (typeof jobId === 'string' && !JOB_ID_PATTERN.test(jobId)) {
    problems.push(
      `Value '${jobId}' at 'jobId' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
    );
  }
}

function throwIfProblems(problems: Problems): void {
  if (problems.length === 0) return;
  const label = problems.length === 1 ? '1 validation error detected' : `${problems.length} validation errors detected`;
  throw new AwsError('ValidationException', 400, `${label}: ${problems.join('; ')}`);
}

function validateSuccess(input: Record<string, unknown>): void {
  const problems: Problems = [];
  checkJobId(problems, input.jobId);
  checkLength(problems, 'continuationToken', input.continuationToken, 1, 2048);
  const revision = input.currentRevision as Record<string, unknown> | undefined;
  if (revision) {
    checkLength(problems, 'currentRevision.revision', revision.revision, 1, 1500, true);
    checkLength(problems, 'currentRevision.changeIdentifier', revision.changeIdentifier, 1, 100, true);
    checkLength(problems, 'currentRevision.revisionSummary', revision.revisionSummary, 1, 2048);
  }
  const details = input.executionDetails as Record<string, unknown> | undefined;
  if (details) {
    checkLength(problems, 'executionDetails.summary', details.summary, 1, 2048);
    checkLength(problems, 'executionDetails.externalExecutionId', details.externalExecutionId, 1, 1500);
    const percent = details.percentComplete;
    if (
      percent !== undefined &&
      (typeof percent !== 'number' || !Number.isInteger(percent) || percent < 0 || percent > 100)
    ) {
      problems.push(
        `Value '${String(percent)}' at 'executionDetails.percentComplete' failed to satisfy constraint: Member must have value between 0 and 100`,
      );
    }
  }
  throwIfProblems(problems);
  if (input.continuationToken !== undefined && input.outputVariables !== undefined) {
    // API Reference: "outputVariables can be included only when there is no continuation token on the request."
    throw new AwsError(
      'ValidationException',
      400,
      'outputVariables can be included only when there is no continuation token on the request.',
    );
  }
}

function validateFailure(input: Record<string, unknown>): void {
  const problems: Problems = [];
  checkJobId(problems, input.jobId);
  const details = input.failureDetails as Record<string, unknown> | undefined;
  if (!details) {
    problems.push("Value null at 'failureDetails' failed to satisfy constraint: Member must not be null");
  } else {
    if (typeof details.type !== 'string' || !FAILURE_TYPES.includes(details.type)) {
      problems.push(
        `Value '${String(details.type)}' at 'failureDetails.type' failed to satisfy constraint: Member must satisfy enum value set: [${FAILURE_TYPES.join(', ')}]`,
      );
    }
    checkLength(problems, 'failureDetails.message', details.message, 1, 5000, true);
    checkLength(problems, 'failureDetails.externalExecutionId', details.externalExecutionId, 1, 1500);
  }
  throwIfProblems(problems);
}
