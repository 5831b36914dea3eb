/**
 * The in-process transport: unmodified SDK clients whose requestHandler hands each request to the
 * sandbox without a socket must see exactly what they see over HTTP: signature checks, AWS's
 * error codes as the SDK's exception classes, streamed aws-chunked bodies, update delays.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  GetFunctionCommand,
  LambdaClient,
  PreconditionFailedException,
  ResourceConflictException,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, InProcessConnectionError, type Sandbox, startSandbox } from '../src/index.js';
import { allow, catchError, NO_RETRY, toCredentials, trustAccount } from './helpers.js';
import { handlerZip } from './lambda-harness.js';

const REGION = 'eu-west-1';
const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('base64');

describe('sandbox in process', () => {
  let sandbox: Sandbox;
  let owner: CreatedAccount;
  let s3: S3Client;

  beforeEach(async () => {
    sandbox = await startSandbox({ transport: 'in-process', lambda: { updateDelayMs: 600_000 } });
    owner = sandbox.createAccount();
    sandbox.createBucket({ accountId: owner.accountId, name: 'artifacts', versioning: true });
    s3 = new S3Client({ ...sandbox.clientConfig(owner.credentials), ...NO_RETRY });
  });
  afterEach(() => sandbox.stop());

  it('opens no port and gives clients a request handler', () => {
    expect(sandbox.transport).toBe('in-process');
    expect(sandbox.port).toBe(0);
    expect(sandbox.clientConfig(owner.credentials).requestHandler).toBeDefined();
  });

  it('round-trips a streamed aws-chunked upload with its checksum, and a conditional write fails with 412', async () => {
    const body = Buffer.from('zip bytes '.repeat(1000));
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'artifacts',
        Key: 'a b+c/42.zip',
        Body: Readable.from([body.subarray(0, 4000), body.subarray(4000)]),
        ContentLength: body.length,
        ChecksumAlgorithm: 'SHA256',
        Metadata: { build: '42' },
      }),
    );
    expect(put.ChecksumSHA256).toBe(sha256(body));
    const got = await s3.send(
      new GetObjectCommand({
        Bucket: 'artifacts',
        Key: 'a b+c/42.zip',
        VersionId: put.VersionId,
        ChecksumMode: 'ENABLED',
      }),
    );
    expect(Buffer.from((await got.Body?.transformToByteArray()) ?? [])).toEqual(body);
    expect(got).toMatchObject({ ChecksumSHA256: sha256(body), Metadata: { build: '42' } });

    const refused = await catchError(
      s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'a b+c/42.zip', Body: 'x', IfNoneMatch: '*' })),
    );
    expect(refused).toBeInstanceOf(S3ServiceException);
    expect(refused).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
  });

  it('checks the signature: a wrong secret is refused as over HTTP', async () => {
    const forged = new S3Client({
      ...sandbox.clientConfig({ ...owner.credentials, secretAccessKey: 'not-the-secret' }),
      ...NO_RETRY,
    });
    const error = await catchError(forged.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'x' })));
    expect(error).toMatchObject({ name: 'SignatureDoesNotMatch' });
  });

  it('keeps a Lambda update InProgress until sandbox time passes, with the SDK exception classes', async () => {
    const zipA = await handlerZip('A');
    sandbox.lambda.seedFunction({ accountId: owner.accountId, region: REGION, functionName: 'fn', zip: zipA });
    const { roleArn } = sandbox.createRole({
      accountId: owner.accountId,
      roleName: 'deployer',
      trustPolicy: trustAccount(owner.accountId),
      policies: [allow(['lambda:*', 'sts:AssumeRole'])],
    });
    const session = sandbox.issueRoleCredentials({ roleArn, sessionName: 'ci' });
    const sts = new STSClient({ ...sandbox.clientConfig(session), ...NO_RETRY });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(
      `arn:aws:sts::${owner.accountId}:assumed-role/deployer/ci`,
    );
    const assumed = toCredentials(
      await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'deploy' })),
    );
    const lambda = new LambdaClient({ ...sandbox.clientConfig(assumed), ...NO_RETRY });
    const before = await lambda.send(new GetFunctionCommand({ FunctionName: 'fn' }));
    const zipB = await handlerZip('B');
    await lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'fn',
        ZipFile: zipB,
        RevisionId: before.Configuration?.RevisionId,
      }),
    );
    expect(
      await catchError(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'fn', ZipFile: zipA }))),
    ).toBeInstanceOf(ResourceConflictException);
    sandbox.clock.advance(600_000);
    const after = await lambda.send(new GetFunctionCommand({ FunctionName: 'fn' }));
    expect(after.Configuration).toMatchObject({ LastUpdateStatus: 'Successful', CodeSha256: sha256(zipB) });
    expect(
      await catchError(
        lambda.send(
          new UpdateFunctionCodeCommand({
            FunctionName: 'fn',
            ZipFile: zipA,
            RevisionId: before.Configuration?.RevisionId,
          }),
        ),
      ),
    ).toBeInstanceOf(PreconditionFailedException);
    expect(sandbox.countRequests({ service: 'lambda', operation: 'UpdateFunctionCode', status: 409 })).toBe(1);
  });

  it('runs interceptors before dispatch: one that waits holds the request, one that throws drops it', async () => {
    const seen: string[] = [];
    let letGo: () => void = () => {};
    const remove = sandbox.intercept(async (request) => {
      seen.push(`${request.operation} ${request.path}`);
      if (request.operation === 'PutObject') await new Promise<void>((resolve) => (letGo = resolve));
    });
    let written = false;
    const put = s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'held key', Body: 'x' })).then(() => {
      written = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['PutObject /artifacts/held key']);
    expect(written).toBe(false);
    letGo();
    await put;
    expect(written).toBe(true);
    remove();

    sandbox.intercept(() => {
      throw new Error('network down');
    });
    const dropped = await catchError(s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'held key' })));
    expect(dropped).toBeInstanceOf(InProcessConnectionError);
    expect(sandbox.requests({ operation: 'GetObject' })).toEqual([
      expect.objectContaining({ status: 0, errorCode: 'ConnectionDropped' }),
    ]);
  });

  it('shows objects as snapshots, and names the caller in the log and to interceptors', async () => {
    const seen: { callerArn: string; query: Readonly<Record<string, string>> }[] = [];
    sandbox.intercept((request) => {
      if (request.operation === 'GetObject') seen.push({ callerArn: request.callerArn, query: request.query });
    });
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'artifacts', Key: 'docs/a.json', Body: '{"a":1}', Metadata: { Build: '7' } }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'other/b.json', Body: '{}' }));
    await s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'docs/a.json', VersionId: put.VersionId }));

    expect(sandbox.s3.describeObject('artifacts', 'docs/a.json')).toEqual({
      key: 'docs/a.json',
      versionId: put.VersionId,
      body: Buffer.from('{"a":1}'),
      etag: put.ETag,
      metadata: { build: '7' },
    });
    expect(sandbox.s3.describeObject('artifacts', 'docs/missing.json')).toBeUndefined();
    expect(sandbox.s3.listObjectKeys('artifacts', 'docs/')).toEqual(['docs/a.json']);
    const root = `arn:aws:iam::${owner.accountId}:root`;
    expect(seen).toEqual([{ callerArn: root, query: expect.objectContaining({ versionId: put.VersionId }) }]);
    expect(sandbox.requests({ operation: 'GetObject' })).toEqual([expect.objectContaining({ callerArn: root })]);
  });
});
