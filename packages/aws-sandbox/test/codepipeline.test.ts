import {
  CodePipelineClient,
  InvalidJobStateException,
  JobNotFoundException,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, type Sandbox, startSandbox } from '../src/index.js';
import { catchError, NO_RETRY } from './helpers.js';

describe('sandbox CodePipeline job results', () => {
  let sandbox: Sandbox;
  let pipelineAccount: CreatedAccount;
  let codepipeline: CodePipelineClient;

  beforeEach(async () => {
    sandbox = await startSandbox();
    pipelineAccount = sandbox.createAccount();
    codepipeline = new CodePipelineClient({ ...sandbox.clientConfig(pipelineAccount.credentials), ...NO_RETRY });
  });
  afterEach(() => sandbox.stop());

  const createJob = () =>
    sandbox.codepipeline.createJob({
      accountId: pipelineAccount.accountId,
      functionName: 'ferry',
      userParameters: '{"app":"orders"}',
    });

  it('accepts one success for an in-progress job and refuses a second report', async () => {
    // AWS CodePipeline API Reference, PutJobSuccessResult: InvalidJobStateException when the job is not in progress.
    const event = createJob();
    const jobId = event['CodePipeline.job'].id;
    await codepipeline.send(
      new PutJobSuccessResultCommand({
        jobId,
        executionDetails: { summary: 'deployed build 42', percentComplete: 100 },
        outputVariables: { version: '7' },
      }),
    );
    expect(sandbox.codepipeline.getJobResult(jobId)).toMatchObject({
      status: 'Succeeded',
      success: { executionDetails: { summary: 'deployed build 42' }, outputVariables: { version: '7' } },
    });
    const again = await catchError(codepipeline.send(new PutJobSuccessResultCommand({ jobId })));
    expect(again).toBeInstanceOf(InvalidJobStateException);
    const failAfter = await catchError(
      codepipeline.send(
        new PutJobFailureResultCommand({ jobId, failureDetails: { type: 'JobFailed', message: 'late' } }),
      ),
    );
    expect(failAfter).toBeInstanceOf(InvalidJobStateException);
  });

  it('records a failure once', async () => {
    // AWS CodePipeline API Reference, PutJobFailureResult: failureDetails {type, message (1-5000)}.
    const jobId = createJob()['CodePipeline.job'].id;
    await codepipeline.send(
      new PutJobFailureResultCommand({
        jobId,
        failureDetails: { type: 'ConfigurationError', message: 'unknown app', externalExecutionId: 'run-1' },
      }),
    );
    expect(sandbox.codepipeline.getJobResult(jobId)).toMatchObject({
      status: 'Failed',
      failure: { failureDetails: { type: 'ConfigurationError' } },
    });
    const again = await catchError(
      codepipeline.send(
        new PutJobFailureResultCommand({ jobId, failureDetails: { type: 'JobFailed', message: 'again' } }),
      ),
    );
    expect(again).toBeInstanceOf(InvalidJobStateException);
  });

  it('answers JobNotFoundException for an unknown job and for another account job', async () => {
    // AWS CodePipeline API Reference, PutJobSuccessResult errors: JobNotFoundException.
    const unknown = await catchError(
      codepipeline.send(new PutJobSuccessResultCommand({ jobId: '11111111-2222-3333-4444-555555555555' })),
    );
    expect(unknown).toBeInstanceOf(JobNotFoundException);
    const other = sandbox.createAccount();
    const jobId = createJob()['CodePipeline.job'].id;
    const foreign = new CodePipelineClient({ ...sandbox.clientConfig(other.credentials), ...NO_RETRY });
    await expect(foreign.send(new PutJobSuccessResultCommand({ jobId }))).rejects.toBeInstanceOf(JobNotFoundException);
  });

  it('validates the documented limits with ValidationException', async () => {
    // AWS CodePipeline API Reference, PutJobSuccessResult: continuationToken at most 2048 characters;
    // "outputVariables can be included only when there is no continuation token on the request".
    const jobId = createJob()['CodePipeline.job'].id;
    const longToken = await catchError(
      codepipeline.send(new PutJobSuccessResultCommand({ jobId, continuationToken: 'x'.repeat(2049) })),
    );
    expect(longToken).toBeInstanceOf(ValidationException);
    const both = await catchError(
      codepipeline.send(
        new PutJobSuccessResultCommand({ jobId, continuationToken: 'step-2', outputVariables: { a: 'b' } }),
      ),
    );
    expect(both).toBeInstanceOf(ValidationException);
    const longMessage = await catchError(
      codepipeline.send(
        new PutJobFailureResultCommand({ jobId, failureDetails: { type: 'JobFailed', message: 'm'.repeat(5001) } }),
      ),
    );
    expect(longMessage).toBeInstanceOf(ValidationException);
    const badId = await catchError(codepipeline.send(new PutJobSuccessResultCommand({ jobId: 'not-a-job-id' })));
    expect(badId).toBeInstanceOf(ValidationException);
    expect(sandbox.codepipeline.getJobResult(jobId)?.status).toBe('InProgress');
  });

  it('continues a job with a continuation token as a new in-progress job carrying the token', async () => {
    // AWS CodePipeline User Guide, Lambda invoke action: a success with a continuation token makes
    // CodePipeline invoke the function again with that token.
    const jobId = createJob()['CodePipeline.job'].id;
    await codepipeline.send(new PutJobSuccessResultCommand({ jobId, continuationToken: 'waiting-for-update' }));
    const next = sandbox.codepipeline.getJobResult(jobId)?.continuation;
    expect(next?.['CodePipeline.job'].data.continuationToken).toBe('waiting-for-update');
    const nextId = next?.['CodePipeline.job'].id ?? '';
    expect(nextId).not.toBe(jobId);
    await codepipeline.send(new PutJobSuccessResultCommand({ jobId: nextId }));
    expect(sandbox.codepipeline.getJobResult(nextId)?.status).toBe('Succeeded');
  });

  it('hands out artifact credentials that read the input artifact and nothing else', async () => {
    sandbox.createBucket({ accountId: pipelineAccount.accountId, name: 'pipeline-artifacts' });
    const owner = new S3Client({ ...sandbox.clientConfig(pipelineAccount.credentials), ...NO_RETRY });
    await owner.send(new PutObjectCommand({ Bucket: 'pipeline-artifacts', Key: 'in/source.zip', Body: 'zip' }));
    await owner.send(new PutObjectCommand({ Bucket: 'pipeline-artifacts', Key: 'other.zip', Body: 'no' }));
    const event = sandbox.codepipeline.createJob({
      accountId: pipelineAccount.accountId,
      inputArtifacts: [{ name: 'SourceOutput', bucket: 'pipeline-artifacts', key: 'in/source.zip' }],
    });
    const job = event['CodePipeline.job'];
    expect(job.data.inputArtifacts[0]?.location).toEqual({
      type: 'S3',
      s3Location: { bucketName: 'pipeline-artifacts', objectKey: 'in/source.zip' },
    });
    const artifactS3 = new S3Client({ ...sandbox.clientConfig(job.data.artifactCredentials), ...NO_RETRY });
    const object = await artifactS3.send(new GetObjectCommand({ Bucket: 'pipeline-artifacts', Key: 'in/source.zip' }));
    expect(await object.Body?.transformToString()).toBe('zip');
    const denied = await catchError(
      artifactS3.send(new GetObjectCommand({ Bucket: 'pipeline-artifacts', Key: 'other.zip' })),
    );
    expect(denied.name).toBe('AccessDenied');
  });
});
