import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, type Sandbox, startSandbox } from '../src/index.js';
import { catchError, NO_RETRY } from './helpers.js';

describe('sandbox SigV4 authentication', () => {
  let sandbox: Sandbox;
  let account: CreatedAccount;

  beforeEach(async () => {
    sandbox = await startSandbox();
    account = sandbox.createAccount();
  });
  afterEach(() => sandbox.stop());

  const wrongSecret = () => ({ ...account.credentials, secretAccessKey: 'not-the-secret-the-sandbox-issued' });
  const unknownKey = () => ({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'whatever' });

  it('rejects a bad signature with SignatureDoesNotMatch (STS and S3)', async () => {
    // AWS STS API Reference, Common Errors: SignatureDoesNotMatch (403) when the signature does not match.
    const sts = await catchError(
      new STSClient({ ...sandbox.clientConfig(wrongSecret()), ...NO_RETRY }).send(new GetCallerIdentityCommand({})),
    );
    expect(sts.name).toBe('SignatureDoesNotMatch');
    expect(sts.$metadata?.httpStatusCode).toBe(403);
    // Amazon S3 API Reference, Error responses: SignatureDoesNotMatch, 403 Forbidden.
    const s3 = await catchError(
      new S3Client({ ...sandbox.clientConfig(wrongSecret()), ...NO_RETRY }).send(new ListBucketsCommand({})),
    );
    expect(s3.name).toBe('SignatureDoesNotMatch');
    expect(s3.$metadata?.httpStatusCode).toBe(403);
  });

  it('rejects an unknown access key in each service shape', async () => {
    // AWS STS API Reference, Common Errors: InvalidClientTokenId, "The X.509 certificate or AWS access key ID provided does not exist in our records" (403).
    const sts = await catchError(
      new STSClient({ ...sandbox.clientConfig(unknownKey()), ...NO_RETRY }).send(new GetCallerIdentityCommand({})),
    );
    expect(sts.name).toBe('InvalidClientTokenId');
    expect(sts.$metadata?.httpStatusCode).toBe(403);
    // Amazon S3 API Reference, Error responses: InvalidAccessKeyId, 403.
    const s3 = await catchError(
      new S3Client({ ...sandbox.clientConfig(unknownKey()), ...NO_RETRY }).send(new ListBucketsCommand({})),
    );
    expect(s3.name).toBe('InvalidAccessKeyId');
    // AWS Lambda API Reference, Common Errors: UnrecognizedClientException (403).
    const lambda = await catchError(
      new LambdaClient({ ...sandbox.clientConfig(unknownKey()), ...NO_RETRY }).send(
        new GetFunctionCommand({ FunctionName: 'x' }),
      ),
    );
    expect(lambda.name).toBe('UnrecognizedClientException');
  });

  it('accepts a correctly signed request and logs who made it', async () => {
    await new STSClient({ ...sandbox.clientConfig(account.credentials), ...NO_RETRY }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(sandbox.requests({ service: 'sts' })).toEqual([
      expect.objectContaining({
        service: 'sts',
        operation: 'GetCallerIdentity',
        accountId: account.accountId,
        status: 200,
      }),
    ]);
  });
});
