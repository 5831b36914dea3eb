import {
  CodePipelineClient,
  CodePipelineServiceException,
  InvalidJobStateException,
  JobNotFoundException,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createPipelineJobPort } from '../../../src/aws/codepipeline.js';
import { AccessError, InputError, InternalError } from '../../../src/core/errors.js';

const jobId = '11111111-abcd-1111-abcd-111111abcdef';
const codepipeline = mockClient(CodePipelineClient);
// Test files share a worker's modules (vitest.config.ts): give the client's real send back.
afterAll(() => codepipeline.restore());
const port = () => createPipelineJobPort(new CodePipelineClient({ region: 'eu-west-1' }));
const meta = { $metadata: {} };

beforeEach(() => {
  codepipeline.reset();
  codepipeline.on(PutJobSuccessResultCommand).resolves({});
  codepipeline.on(PutJobFailureResultCommand).resolves({});
});

describe('CodePipeline adapter', () => {
  it('sends a final success with output variables and a summary cut to 2048 characters', async () => {
    await port().putJobSuccess({
      jobId,
      executionDetails: { summary: 's'.repeat(3000), percentComplete: 100 },
      outputVariables: { version: '7', previousVersion: 'none' },
    });
    const input = codepipeline.commandCalls(PutJobSuccessResultCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ jobId, outputVariables: { version: '7', previousVersion: 'none' } });
    expect(input?.executionDetails?.summary).toHaveLength(2048);
    expect(input?.continuationToken).toBeUndefined();
  });

  it('sends a continuation without output variables', async () => {
    await port().putJobSuccess({ jobId, continuationToken: 'ferry1.x.y', executionDetails: { percentComplete: 50 } });
    expect(codepipeline).toHaveReceivedCommandWith(PutJobSuccessResultCommand, {
      jobId,
      continuationToken: 'ferry1.x.y',
      executionDetails: { percentComplete: 50 },
    });
  });

  it.each([
    [{ continuationToken: 'x'.repeat(2049) }, /continuationToken must be 1–2048/],
    [{ continuationToken: 't', outputVariables: { a: 'b' } }, /only allowed on the final success/],
    [{ outputVariables: { 'bad/name': 'x' } }, /name 'bad\/name' must match/],
    [{ outputVariables: { ok: '' } }, /'ok' must be 1–1000 characters/],
    [{ executionDetails: { percentComplete: 101 } }, /percentComplete/],
  ])('refuses before sending what CodePipeline would reject: %j', async (extra, message) => {
    await expect(port().putJobSuccess({ jobId, ...extra })).rejects.toThrowError(message);
    await expect(port().putJobSuccess({ jobId, ...extra })).rejects.toBeInstanceOf(InternalError);
    expect(codepipeline).not.toHaveReceivedCommand(PutJobSuccessResultCommand);
  });

  it('cuts a failure message to 5000 characters and never sends an empty one', async () => {
    await port().putJobFailure({ jobId, type: 'JobFailed', message: 'm'.repeat(9000) });
    await port().putJobFailure({ jobId, type: 'ConfigurationError', message: '' });
    const [long, empty] = codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input);
    expect(long?.failureDetails?.message).toHaveLength(5000);
    expect(long?.failureDetails?.message?.endsWith('(truncated)')).toBe(true);
    expect(empty?.failureDetails).toEqual({ type: 'ConfigurationError', message: 'ferry failed without a message.' });
  });

  it.each([
    [new InvalidJobStateException({ message: 'not in progress', ...meta }), InputError, 'PIPELINE_JOB_NOT_IN_PROGRESS'],
    [new JobNotFoundException({ message: 'no job', ...meta }), InputError, 'PIPELINE_JOB_NOT_FOUND'],
    [
      new CodePipelineServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'no', ...meta }),
      AccessError,
      'PIPELINE_ACCESS_DENIED',
    ],
  ])('translates %s', async (error, type, code) => {
    codepipeline.on(PutJobFailureResultCommand).rejects(error);
    const failure = port().putJobFailure({ jobId, type: 'JobFailed', message: 'x' });
    await expect(failure).rejects.toBeInstanceOf(type);
    await expect(port().putJobFailure({ jobId, type: 'JobFailed', message: 'x' })).rejects.toMatchObject({ code });
  });

  it('rethrows what it does not know', async () => {
    const unknown = new Error('socket hang up');
    codepipeline.on(PutJobSuccessResultCommand).rejects(unknown);
    await expect(port().putJobSuccess({ jobId })).rejects.toBe(unknown);
  });
});
