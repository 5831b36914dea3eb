import { GetFunctionCommand, LambdaClient, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, type Sandbox, startSandbox } from '../src/index.js';
import { buildSourceZip } from '../src/seed.js';
import { allow, assumeRole, catchError, createAssumerSession, NO_RETRY, trustAccount } from './helpers.js';

describe('sandbox wiring: Lambda reads S3 code as the caller', () => {
  let sandbox: Sandbox;
  let tooling: CreatedAccount;
  let target: CreatedAccount;
  let roleArn: string;
  let versionId: string | undefined;

  beforeEach(async () => {
    sandbox = await startSandbox({ lambda: { updateDelayMs: 0 } });
    tooling = sandbox.createAccount();
    target = sandbox.createAccount();
    roleArn = sandbox.createRole({
      accountId: target.accountId,
      roleName: 'deploy',
      trustPolicy: trustAccount(tooling.accountId),
      policies: [allow(['lambda:*', 's3:GetObject', 's3:GetObjectVersion'])],
    }).roleArn;
    sandbox.createBucket({ accountId: tooling.accountId, name: 'ferry-artifacts', versioning: true });
    sandbox.lambda.seedFunction({
      accountId: target.accountId,
      region: 'eu-west-1',
      functionName: 'orders',
      zip: await buildSourceZip('export const handler = async () => 1;'),
    });
    const owner = new S3Client({ ...sandbox.clientConfig(tooling.credentials), ...NO_RETRY });
    const put = await owner.send(
      new PutObjectCommand({
        Bucket: 'ferry-artifacts',
        Key: 'artifacts/orders/2.zip',
        Body: await buildSourceZip('export const handler = async () => 2;'),
      }),
    );
    versionId = put.VersionId;
  });
  afterEach(() => sandbox.stop());

  const update = async () => {
    const ci = createAssumerSession(sandbox, tooling.accountId, 'ci');
    const credentials = await assumeRole(sandbox, ci, { roleArn });
    const lambda = new LambdaClient({ ...sandbox.clientConfig(credentials), ...NO_RETRY });
    return lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'orders',
        S3Bucket: 'ferry-artifacts',
        S3Key: 'artifacts/orders/2.zip',
        S3ObjectVersion: versionId,
      }),
    );
  };

  it('refuses the S3 reference when the bucket policy does not grant the target role', async () => {
    // AWS Lambda API Reference, UpdateFunctionCode: the caller needs read access to the S3 object.
    const error = await catchError(update());
    expect(error.name).not.toBe('Error');
    expect(error.message).toMatch(/AccessDenied|denied|not authorized/i);
  });

  it('deploys from the S3 reference once the bucket policy grants the target role', async () => {
    sandbox.putBucketPolicy('ferry-artifacts', {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: roleArn },
          Action: ['s3:GetObject', 's3:GetObjectVersion'],
          Resource: 'arn:aws:s3:::ferry-artifacts/artifacts/*',
        },
      ],
    });
    const updated = await update();
    expect(updated.CodeSha256).toBeTruthy();
    const lambda = new LambdaClient({ ...sandbox.clientConfig(target.credentials), ...NO_RETRY });
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: 'orders' }));
    expect(fn.Configuration?.CodeSha256).toBe(updated.CodeSha256);
  });
});
