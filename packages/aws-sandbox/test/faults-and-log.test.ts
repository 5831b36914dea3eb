import { CodePipelineClient, JobNotFoundException, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { GetFunctionCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListBucketsCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, RegionDisabledException, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, type Sandbox, startSandbox } from '../src/index.js';
import { catchError, NO_RETRY } from './helpers.js';

describe('sandbox faults and request log', () => {
  let sandbox: Sandbox;
  let account: CreatedAccount;

  beforeEach(async () => {
    sandbox = await startSandbox();
    account = sandbox.createAccount();
  });
  afterEach(() => sandbox.stop());

  const config = () => ({ ...sandbox.clientConfig(account.credentials), ...NO_RETRY });

  it('raises the SDK exception class of the injected error code in every protocol', async () => {
    sandbox.faults.add({
      service: 'sts',
      operation: 'GetCallerIdentity',
      error: { code: 'RegionDisabledException', status: 403 },
      times: 1,
    });
    sandbox.faults.add({ service: 's3', operation: 'GetObject', error: { code: 'NoSuchKey', status: 404 }, times: 1 });
    sandbox.faults.add({
      service: 'lambda',
      operation: 'GetFunction',
      error: { code: 'TooManyRequestsException', status: 429 },
      times: 1,
    });
    sandbox.faults.add({
      service: 'codepipeline',
      operation: 'PutJobSuccessResult',
      error: { code: 'JobNotFoundException', status: 400 },
      times: 1,
    });

    await expect(new STSClient(config()).send(new GetCallerIdentityCommand({}))).rejects.toBeInstanceOf(
      RegionDisabledException,
    );
    await expect(
      new S3Client(config()).send(new GetObjectCommand({ Bucket: 'any-bucket', Key: 'k' })),
    ).rejects.toBeInstanceOf(NoSuchKey);
    await expect(new LambdaClient(config()).send(new GetFunctionCommand({ FunctionName: 'f' }))).rejects.toBeInstanceOf(
      TooManyRequestsException,
    );
    await expect(
      new CodePipelineClient(config()).send(
        new PutJobSuccessResultCommand({ jobId: '11111111-2222-3333-4444-555555555555' }),
      ),
    ).rejects.toBeInstanceOf(JobNotFoundException);
    // `times: 1` spent: the next call reaches the real service.
    await expect(new STSClient(config()).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
      Account: account.accountId,
    });
  });

  it('drops the connection when told to, and the SDK retries through it', async () => {
    sandbox.faults.add({ service: 's3', operation: 'ListBuckets', dropConnection: true, times: 1 });
    const error = await catchError(new S3Client(config()).send(new ListBucketsCommand({})));
    expect(error.name).not.toBe('S3ServiceException');
    const retrying = new S3Client({ ...sandbox.clientConfig(account.credentials), maxAttempts: 3 });
    sandbox.faults.add({ service: 's3', operation: 'ListBuckets', dropConnection: true, times: 1 });
    await expect(retrying.send(new ListBucketsCommand({}))).resolves.toMatchObject({ Buckets: [] });
  });

  it('adds latency without failing', async () => {
    sandbox.faults.add({ service: 'sts', operation: '*', latencyMs: 30, times: 1 });
    await expect(new STSClient(config()).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
      Account: account.accountId,
    });
    // The delayed request consumed the fault and was answered normally, as the log records.
    expect(sandbox.faults.list()).toEqual([]);
    expect(sandbox.requests({ service: 'sts' })).toEqual([
      expect.objectContaining({ operation: 'GetCallerIdentity', status: 200, accountId: account.accountId }),
    ]);
    expect(sandbox.requests({ service: 'sts' })[0]?.errorCode).toBeUndefined();
  });

  it('counts requests per service, operation, account and status', async () => {
    const sts = new STSClient(config());
    await sts.send(new GetCallerIdentityCommand({}));
    await sts.send(new GetCallerIdentityCommand({}));
    await catchError(new S3Client(config()).send(new GetObjectCommand({ Bucket: 'missing-bucket', Key: 'k' })));
    expect(
      sandbox.countRequests({ service: 'sts', operation: 'GetCallerIdentity', accountId: account.accountId }),
    ).toBe(2);
    expect(sandbox.requests({ service: 's3' })).toEqual([
      expect.objectContaining({
        operation: 'GetObject',
        status: 404,
        errorCode: 'NoSuchBucket',
        at: expect.any(Number),
      }),
    ]);
  });

  it('serves the log and fault settings over the admin routes', async () => {
    await new STSClient(config()).send(new GetCallerIdentityCommand({}));
    const log = (await (await fetch(`${sandbox.endpoint}/_sandbox/requests?service=sts`)).json()) as { count: number };
    expect(log.count).toBe(1);
    const added = await fetch(`${sandbox.endpoint}/_sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({
        service: 'sts',
        operation: 'GetCallerIdentity',
        error: { code: 'RegionDisabledException', status: 403 },
      }),
    });
    expect(added.status).toBe(201);
    await expect(new STSClient(config()).send(new GetCallerIdentityCommand({}))).rejects.toBeInstanceOf(
      RegionDisabledException,
    );
    await fetch(`${sandbox.endpoint}/_sandbox/faults`, { method: 'DELETE' });
    await expect(new STSClient(config()).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
  });
});
