/**
 * The Lambda service inside the full sandbox (SigV4, accounts, STS, IAM, S3), driven by the
 * unmodified SDK clients as ferry drives AWS: a tooling account owns the artifact bucket, a
 * deploy role in the target account updates the function from it. Fresh sandbox per test.
 */
import { createHash } from 'node:crypto';
import {
  CreateAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  ResourceConflictException,
  TooManyRequestsException,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, type SandboxCredentials, startSandbox } from '../src/index.js';
import { handlerZip } from './lambda-harness.js';

const REGION = 'eu-west-1';
const TOOLING = '100000000001';
const TARGET = '200000000002';
const EXTERNAL_ID = 'ferry-test';
/** Ten minutes: far beyond a test's wall-clock run, well within the credentials' hour. */
const UPDATE_DELAY_MS = 600_000;

let sandbox: Sandbox;
let tooling: SandboxCredentials;
/** The tooling account's CI role session, which assumes deploy roles (AssumeRole refuses root keys). */
let ci: SandboxCredentials;
let roleArn: string;
let zipA: Buffer;
let zipB: Buffer;
const clients: Array<{ destroy(): void }> = [];

const sha = (zip: Buffer): string => createHash('sha256').update(zip).digest('base64');

function track<T extends { destroy(): void }>(client: T): T {
  clients.push(client);
  return client;
}

/** A deploy role in the target account that the tooling account assumes, as ferry does. */
function createDeployRole(lambdaActions: string[]): string {
  return sandbox.createRole({
    accountId: TARGET,
    roleName: `deploy-${clients.length}-${lambdaActions.length}`,
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${TOOLING}:root` },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } },
        },
      ],
    },
    policies: [
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: lambdaActions, Resource: `arn:aws:lambda:${REGION}:${TARGET}:function:*` },
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: 'arn:aws:s3:::*' },
        ],
      },
    ],
  }).roleArn;
}

async function assumeDeployRole(arn: string): Promise<SandboxCredentials> {
  const sts = track(new STSClient({ ...sandbox.clientConfig(ci, REGION), maxAttempts: 1 }));
  const assumed = await sts.send(
    new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'ferry-test', ExternalId: EXTERNAL_ID }),
  );
  const credentials = assumed.Credentials;
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken)
    throw new Error('no credentials');
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
  };
}

async function lambdaAs(arn: string): Promise<LambdaClient> {
  const { forcePathStyle: _unused, ...config } = sandbox.clientConfig(await assumeDeployRole(arn), REGION);
  return track(new LambdaClient({ ...config, maxAttempts: 1 }));
}

/** Uploads an artifact as CI would, into the tooling bucket; returns its version id. */
async function uploadArtifact(bucket: string, key: string, body: Buffer, region = REGION): Promise<string> {
  const s3 = track(new S3Client({ ...sandbox.clientConfig(tooling, region), maxAttempts: 1 }));
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return put.VersionId ?? '';
}

function createArtifactBucket(name: string, region: string, readers: string[]): void {
  sandbox.createBucket({
    accountId: TOOLING,
    name,
    region,
    versioning: true,
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: readers },
          Action: ['s3:GetObject', 's3:GetObjectVersion'],
          Resource: `arn:aws:s3:::${name}/*`,
        },
      ],
    },
  });
}

/** Moves the sandbox clock past the update delay, then lets the SDK waiter confirm the result. */
async function settle(lambda: LambdaClient): Promise<void> {
  sandbox.clock.advance(sandbox.lambdaSettings.updateDelayMs);
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 10 }, { FunctionName: 'app' });
}

beforeEach(async () => {
  // Real time never covers UPDATE_DELAY_MS within a test: only settle() (the sandbox clock) ends an update.
  sandbox = await startSandbox({
    lambda: { updateDelayMs: UPDATE_DELAY_MS, rateLimits: false, executeHandlers: false },
  });
  tooling = sandbox.createAccount(TOOLING).credentials;
  const ciRole = sandbox.createRole({
    accountId: TOOLING,
    roleName: 'ci',
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${TOOLING}:root` }, Action: 'sts:AssumeRole' }],
    },
    policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] }],
  });
  ci = sandbox.issueRoleCredentials({ roleArn: ciRole.roleArn, sessionName: 'ci', durationSeconds: 3600 });
  sandbox.createAccount(TARGET);
  zipA = await handlerZip('A');
  zipB = await handlerZip('B');
  sandbox.lambda.seedFunction({ accountId: TARGET, region: REGION, functionName: 'app', zip: zipA, aliases: ['live'] });
  roleArn = createDeployRole(['lambda:*']);
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await sandbox.stop();
});

describe('Lambda in the full sandbox', () => {
  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html: S3Bucket in the same Region,
  // possibly another account, read with the caller's permissions; S3ObjectVersion pins the bytes.
  it('deploys a pinned artifact from the tooling bucket through an assumed deploy role', async () => {
    createArtifactBucket('ferry-artifacts', REGION, [roleArn]);
    const versionId = await uploadArtifact('ferry-artifacts', 'artifacts/app/2.zip', zipB);
    await uploadArtifact('ferry-artifacts', 'artifacts/app/2.zip', zipA);
    const lambda = await lambdaAs(roleArn);
    const updated = await lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'app',
        S3Bucket: 'ferry-artifacts',
        S3Key: 'artifacts/app/2.zip',
        S3ObjectVersion: versionId,
      }),
    );
    expect(updated.CodeSha256).toBe(sha(zipB));
    expect(updated.LastUpdateStatus).toBe('InProgress');
    await expect(lambda.send(new PublishVersionCommand({ FunctionName: 'app' }))).rejects.toBeInstanceOf(
      ResourceConflictException,
    );
    await settle(lambda);
    // aws/aws-sdk#377: the RevisionId to publish with is the one read after the wait.
    const current = await lambda.send(new GetFunctionCommand({ FunctionName: 'app' }));
    expect(current.Configuration?.RevisionId).not.toBe(updated.RevisionId);
    const published = await lambda.send(
      new PublishVersionCommand({
        FunctionName: 'app',
        CodeSha256: sha(zipB),
        RevisionId: current.Configuration?.RevisionId,
      }),
    );
    expect(published.Version).toBe('2');
    expect(sandbox.lambda.describeFunction(TARGET, REGION, 'app')?.versions.map((v) => v.codeSha256)).toEqual([
      sha(zipA),
      sha(zipB),
    ]);
  });

  // API_UpdateFunctionCode: an S3 AccessDenied comes back as InvalidParameterValueException naming the S3 error.
  it('reports a bucket policy that does not admit the deploy role', async () => {
    createArtifactBucket('ferry-artifacts', REGION, [`arn:aws:iam::${TOOLING}:root`]);
    await uploadArtifact('ferry-artifacts', 'a.zip', zipB);
    const lambda = await lambdaAs(roleArn);
    const refused = lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'app', S3Bucket: 'ferry-artifacts', S3Key: 'a.zip' }),
    );
    await expect(refused).rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(refused).rejects.toThrow(/^Error occurred while GetObject\. S3 Error Code: AccessDenied/);
  });

  // API_UpdateFunctionCode S3Bucket: "An Amazon S3 bucket in the same AWS Region as your function."
  it('refuses a bucket in another Region with PermanentRedirect', async () => {
    createArtifactBucket('ferry-artifacts-us', 'us-east-1', [roleArn]);
    await uploadArtifact('ferry-artifacts-us', 'a.zip', zipB, 'us-east-1');
    const lambda = await lambdaAs(roleArn);
    await expect(
      lambda.send(
        new UpdateFunctionCodeCommand({ FunctionName: 'app', S3Bucket: 'ferry-artifacts-us', S3Key: 'a.zip' }),
      ),
    ).rejects.toThrow(/S3 Error Code: PermanentRedirect/);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/access-control-identity-based.html: a least-privilege role.
  it('denies an action the deploy role was not granted', async () => {
    const readOnly = createDeployRole(['lambda:GetFunction']);
    const lambda = await lambdaAs(readOnly);
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: 'app' }))).Configuration?.CodeSha256).toBe(
      sha(zipA),
    );
    const denied = await lambda
      .send(new UpdateFunctionCodeCommand({ FunctionName: 'app', ZipFile: zipB }))
      .catch((e: unknown) => e);
    expect(denied).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    expect((denied as Error).message).toContain(`on resource: arn:aws:lambda:${REGION}:${TARGET}:function:app`);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 15 control-plane requests/s per account and Region.
  it('throttles a burst of control-plane calls with TooManyRequestsException', async () => {
    sandbox.lambdaSettings.rateLimits = true;
    const lambda = await lambdaAs(roleArn);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'app' }))),
    );
    const throttled = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled.every((e) => e instanceof TooManyRequestsException)).toBe(true);
    expect(sandbox.countRequests({ service: 'lambda', operation: 'GetFunctionConfiguration', accountId: TARGET })).toBe(
      40,
    );
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: ExecutedVersion; the handler's result is the payload.
  it('invokes an alias, runs the handler of the version it routes to, and records it', async () => {
    sandbox.lambdaSettings.executeHandlers = true;
    const lambda = await lambdaAs(roleArn);
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'app', ZipFile: zipB }));
    await settle(lambda);
    const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'app' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'app', Name: 'next', FunctionVersion: v2.Version ?? '' }));
    const result = await lambda.send(
      new InvokeCommand({ FunctionName: 'app', Qualifier: 'next', Payload: Buffer.from('{"n":1}') }),
    );
    expect(result.ExecutedVersion).toBe('2');
    expect(JSON.parse(Buffer.from(result.Payload ?? new Uint8Array()).toString())).toEqual({
      build: 'B',
      event: { n: 1 },
      version: '2',
    });
    const live = await lambda.send(new InvokeCommand({ FunctionName: 'app', Qualifier: 'live' }));
    expect(live.ExecutedVersion).toBe('1');
    expect(sandbox.lambda.invocations().map(({ qualifier, version }) => `${qualifier}->${version}`)).toEqual([
      'next->2',
      'live->1',
    ]);
  });
});
