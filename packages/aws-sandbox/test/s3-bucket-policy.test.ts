import { GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, type Sandbox, startSandbox } from '../src/index.js';
import { allow, catchError, NO_RETRY, trustAccount } from './helpers.js';

describe('sandbox S3 bucket policies', () => {
  let sandbox: Sandbox;
  let tooling: CreatedAccount;
  let target: CreatedAccount;
  let deployRoleArn: string;

  beforeEach(async () => {
    sandbox = await startSandbox();
    tooling = sandbox.createAccount();
    target = sandbox.createAccount();
    deployRoleArn = sandbox.createRole({
      accountId: target.accountId,
      roleName: 'deploy',
      trustPolicy: trustAccount(tooling.accountId),
      policies: [allow(['s3:GetObject', 's3:GetObjectVersion'], 'arn:aws:s3:::ferry-artifacts/*')],
    }).roleArn;
    sandbox.createBucket({ accountId: tooling.accountId, name: 'ferry-artifacts', versioning: true });
    const owner = new S3Client({ ...sandbox.clientConfig(tooling.credentials), ...NO_RETRY });
    await owner.send(new PutObjectCommand({ Bucket: 'ferry-artifacts', Key: 'artifacts/app/1.zip', Body: 'zip' }));
    await owner.send(new PutObjectCommand({ Bucket: 'ferry-artifacts', Key: 'secrets/key', Body: 'secret' }));
  });
  afterEach(() => sandbox.stop());

  async function readAsDeployRole(key: string): Promise<string | undefined> {
    const credentials = sandbox.issueRoleCredentials({ roleArn: deployRoleArn, sessionName: 'deploy' });
    const s3 = new S3Client({ ...sandbox.clientConfig(credentials), ...NO_RETRY });
    const object = await s3.send(new GetObjectCommand({ Bucket: 'ferry-artifacts', Key: key }));
    return object.Body?.transformToString();
  }

  it('denies a cross-account read that only the identity policy allows', async () => {
    // Amazon S3 User Guide, "Bucket owner granting cross-account bucket permissions": another
    // account's principal needs the bucket policy's grant as well as its own identity policy.
    const error = await catchError(readAsDeployRole('artifacts/app/1.zip'));
    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });

  it('allows a cross-account read where the bucket policy grants the role, and only there', async () => {
    const owner = new S3Client({ ...sandbox.clientConfig(tooling.credentials), ...NO_RETRY });
    await owner.send(
      new PutBucketPolicyCommand({
        Bucket: 'ferry-artifacts',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: deployRoleArn },
              Action: ['s3:GetObject', 's3:GetObjectVersion'],
              Resource: 'arn:aws:s3:::ferry-artifacts/artifacts/*',
            },
          ],
        }),
      }),
    );
    expect(await readAsDeployRole('artifacts/app/1.zip')).toBe('zip');
    const outside = await catchError(readAsDeployRole('secrets/key'));
    expect(outside.name).toBe('AccessDenied');
  });

  it('lets an explicit Deny in the bucket policy win over any Allow', async () => {
    // IAM User Guide, "Policy evaluation logic": an explicit deny overrides any allow.
    sandbox.putBucketPolicy('ferry-artifacts', {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${target.accountId}:root` },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::ferry-artifacts/*',
        },
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::ferry-artifacts/*',
          Condition: { StringLike: { 'aws:PrincipalArn': `arn:aws:iam::${target.accountId}:role/dep*` } },
        },
      ],
    });
    const error = await catchError(readAsDeployRole('artifacts/app/1.zip'));
    expect(error.name).toBe('AccessDenied');
  });

  it('requires s3:GetObject as well as s3:PutObject for a write with If-Match, in the same account', async () => {
    // Amazon S3 User Guide, "How to prevent object overwrites with conditional writes": a write with
    // If-Match needs both the s3:PutObject and the s3:GetObject permission.
    const writerPolicies = (actions: string[]) => ({
      accountId: tooling.accountId,
      roleName: 'writer',
      trustPolicy: trustAccount(tooling.accountId),
      policies: [allow(actions, 'arn:aws:s3:::ferry-artifacts/*')],
    });
    const { roleArn } = sandbox.createRole(writerPolicies(['s3:PutObject']));
    const writer = new S3Client({
      ...sandbox.clientConfig(sandbox.issueRoleCredentials({ roleArn, sessionName: 'writer' })),
      ...NO_RETRY,
    });
    const plain = await writer.send(new PutObjectCommand({ Bucket: 'ferry-artifacts', Key: 'ledger', Body: '1' }));
    const conditional = () =>
      writer.send(new PutObjectCommand({ Bucket: 'ferry-artifacts', Key: 'ledger', Body: '2', IfMatch: plain.ETag }));
    const denied = await catchError(conditional());
    expect(denied.name).toBe('AccessDenied');
    expect(denied.$metadata?.httpStatusCode).toBe(403);
    expect(denied.message).toContain(
      'not authorized to perform: s3:GetObject on resource: arn:aws:s3:::ferry-artifacts/ledger',
    );

    sandbox.createRole(writerPolicies(['s3:PutObject', 's3:GetObject']));
    await expect(conditional()).resolves.toMatchObject({ ETag: expect.any(String) });
  });

  it('requires the bucket policy to grant s3:GetObject too for a cross-account write with If-Match', async () => {
    // Amazon S3 User Guide, "How Amazon S3 authorizes a request": from another account both the
    // identity policy and the bucket policy must allow each required action.
    sandbox.createRole({
      accountId: target.accountId,
      roleName: 'deploy',
      trustPolicy: trustAccount(tooling.accountId),
      policies: [allow(['s3:PutObject', 's3:GetObject'], 'arn:aws:s3:::ferry-artifacts/*')],
    });
    const grant = (actions: string[]) =>
      sandbox.putBucketPolicy('ferry-artifacts', {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: deployRoleArn },
            Action: actions,
            Resource: 'arn:aws:s3:::ferry-artifacts/*',
          },
        ],
      });
    const deploy = new S3Client({
      ...sandbox.clientConfig(sandbox.issueRoleCredentials({ roleArn: deployRoleArn, sessionName: 'deploy' })),
      ...NO_RETRY,
    });
    grant(['s3:PutObject']);
    const plain = await deploy.send(new PutObjectCommand({ Bucket: 'ferry-artifacts', Key: 'shared', Body: '1' }));
    const conditional = () =>
      deploy.send(new PutObjectCommand({ Bucket: 'ferry-artifacts', Key: 'shared', Body: '2', IfMatch: plain.ETag }));
    expect((await catchError(conditional())).name).toBe('AccessDenied');
    grant(['s3:PutObject', 's3:GetObject']);
    await expect(conditional()).resolves.toMatchObject({ ETag: expect.any(String) });
  });

  it('refuses bucket policy changes from another account with 405', async () => {
    // Amazon S3 API Reference, PutBucketPolicy: identities outside the bucket owner's account get 405 Method Not Allowed.
    const outsider = new S3Client({ ...sandbox.clientConfig(target.credentials), ...NO_RETRY });
    const error = await catchError(
      outsider.send(new PutBucketPolicyCommand({ Bucket: 'ferry-artifacts', Policy: '{"Statement":[]}' })),
    );
    expect(error.$metadata?.httpStatusCode).toBe(405);
  });
});
