/**
 * CodePipeline jobs for the Lambda invoke action. Tests create a job and get the event CodePipeline
 * would send (`{"CodePipeline.job": …}`, CodePipeline User Guide, "Invoke an AWS Lambda function in a
 * pipeline"), with artifact credentials that are real sandbox credentials limited to the artifacts.
 */
import { randomUUID } from 'node:crypto';
import type { AccountStore, SandboxCredentials } from '../accounts.js';
import type { Clock } from '../contracts.js';
import type { PolicyDocument } from '../policy.js';

export interface ArtifactInput {
  name: string;
  bucket: string;
  key: string;
}

export interface CreateJobInput {
  accountId: string;
  functionName?: string;
  userParameters?: string;
  inputArtifacts?: ArtifactInput[];
  outputArtifacts?: ArtifactInput[];
  /** Only for continued jobs: the token the previous invocation returned. */
  continuationToken?: string;
}

export interface CodePipelineJobEvent {
  'CodePipeline.job': {
    id: string;
    accountId: string;
    data: {
      actionConfiguration: { configuration: { FunctionName: string; UserParameters?: string } };
      inputArtifacts: ArtifactDescription[];
      outputArtifacts: ArtifactDescription[];
      artifactCredentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
      continuationToken?: string;
    };
  };
}

interface ArtifactDescription {
  name: string;
  revision: string | null;
  location: { type: 'S3'; s3Location: { bucketName: string; objectKey: string } };
}

export const JobStatus = { InProgress: 'InProgress', Succeeded: 'Succeeded', Failed: 'Failed' } as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export interface JobResult {
  readonly jobId: string;
  readonly status: JobStatus;
  /** The PutJobSuccessResult / PutJobFailureResult input as received (without jobId). */
  readonly success?: Record<string, unknown>;
  readonly failure?: Record<string, unknown>;
  /** When success carried a continuationToken: the next job CodePipeline invokes the function with. */
  readonly continuation?: CodePipelineJobEvent;
}

interface Job {
  readonly input: CreateJobInput;
  readonly event: CodePipelineJobEvent;
  result: JobResult;
}

/** Artifact credentials last an hour, like the pipeline role session they stand for. */
const ARTIFACT_CREDENTIALS_TTL_MS = 3600_000;

export class JobStore {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly accounts: AccountStore,
    private readonly clock: Clock,
  ) {}

  createJob(input: CreateJobInput): CodePipelineJobEvent {
    if (!this.accounts.hasAccount(input.accountId)) throw new Error(`unknown account ${input.accountId}`);
    const id = randomUUID();
    const credentials = this.issueArtifactCredentials(id, input);
    const event: CodePipelineJobEvent = {
      'CodePipeline.job': {
        id,
        accountId: input.accountId,
        data: {
          actionConfiguration: {
            configuration: {
              FunctionName: input.functionName ?? 'ferry',
              ...(input.userParameters !== undefined ? { UserParameters: input.userParameters } : {}),
            },
          },
          inputArtifacts: (input.inputArtifacts ?? []).map(describeArtifact),
          outputArtifacts: (input.outputArtifacts ?? []).map(describeArtifact),
          artifactCredentials: {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
            sessionToken: credentials.sessionToken as string,
          },
          ...(input.continuationToken !== undefined ? { continuationToken: input.continuationToken } : {}),
        },
      },
    };
    this.jobs.set(id, { input, event, result: { jobId: id, status: JobStatus.InProgress } });
    return structuredClone(event);
  }

  findJob(jobId: string): { accountId: string; status: JobStatus } | undefined {
    const job = this.jobs.get(jobId);
    return job && { accountId: job.input.accountId, status: job.result.status };
  }

  getJobResult(jobId: string): JobResult | undefined {
    const job = this.jobs.get(jobId);
    return job && structuredClone(job.result);
  }

  recordSuccess(jobId: string, success: Record<string, unknown>): void {
    const job = this.requireJob(jobId);
    const token = success.continuationToken;
    const continuation =
      typeof token === 'string' ? this.createJob({ ...job.input, continuationToken: token }) : undefined;
    job.result = { jobId, status: JobStatus.Succeeded, success, ...(continuation ? { continuation } : {}) };
  }

  recordFailure(jobId: string, failure: Record<string, unknown>): void {
    const job = this.requireJob(jobId);
    job.result = { jobId, status: JobStatus.Failed, failure };
  }

  private requireJob(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`unknown job ${jobId}`);
    return job;
  }

  /** Read access to the input artifacts and write access to the output artifacts, nothing else. */
  private issueArtifactCredentials(jobId: string, input: CreateJobInput): SandboxCredentials {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:GetObjectVersion'],
          Resource: (input.inputArtifacts ?? []).map((a) => `arn:aws:s3:::${a.bucket}/${a.key}`),
        },
        {
          Effect: 'Allow',
          Action: ['s3:PutObject'],
          Resource: (input.outputArtifacts ?? []).map((a) => `arn:aws:s3:::${a.bucket}/${a.key}`),
        },
      ],
    };
    return this.accounts.issueTemporaryCredentials({
      caller: {
        accountId: input.accountId,
        arn: `arn:aws:sts::${input.accountId}:assumed-role/CodePipelineArtifactAccess/${jobId}`,
      },
      expiresAt: this.clock.now() + ARTIFACT_CREDENTIALS_TTL_MS,
      identityPolicies: [policy],
    });
  }
}

function describeArtifact(artifact: ArtifactInput): ArtifactDescription {
  return {
    name: artifact.name,
    revision: null,
    location: { type: 'S3', s3Location: { bucketName: artifact.bucket, objectKey: artifact.key } },
  };
}
