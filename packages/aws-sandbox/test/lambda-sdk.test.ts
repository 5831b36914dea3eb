/**
 * The Lambda sandbox service through the real @aws-sdk/client-lambda over loopback HTTP: the
 * wire format must make the SDK return the same shapes and raise the same exception classes as
 * against AWS. The service is served alone here (see lambda-sandbox.test.ts for the full sandbox).
 */
import { createHash } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  InvalidParameterValueException,
  InvokeCommand,
  LambdaClient,
  LambdaServiceException,
  PreconditionFailedException,
  PublishVersionCommand,
  paginateListVersionsByFunction,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACCOUNT, createHarness, type Harness, handlerZip, REGION, serveLambdaOverHttp } from './lambda-harness.js';

let h: Harness;
let server: { endpoint: string; close(): Promise<void> };
let lambda: LambdaClient;
let zipA: Buffer;
let zipB: Buffer;

async function start(settings: Parameters<typeof createHarness>[0] = {}, random?: () => number): Promise<void> {
  h = createHarness(settings, random);
  server = await serveLambdaOverHttp(h);
  lambda = new LambdaClient({
    region: REGION,
    endpoint: server.endpoint,
    credentials: { accessKeyId: 'AKIDSANDBOXTEST', secretAccessKey: 'sandbox-secret' },
    // Retries would hide the first answer, which is what these tests look at.
    maxAttempts: 1,
  });
}

beforeEach(async () => {
  zipA = await handlerZip('A');
  zipB = await handlerZip('B');
  await start();
});

afterEach(async () => {
  lambda.destroy();
  await server.close();
  await h.service.close();
});

const sha = (zip: Buffer): string => createHash('sha256').update(zip).digest('base64');

async function createApp(name = 'app'): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: `arn:aws:iam::${ACCOUNT}:role/app-role`,
      Handler: 'index.handler',
      Code: { ZipFile: zipA },
    }),
  );
}

async function deployB(): Promise<void> {
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'app', ZipFile: zipB }));
  h.clock.advance(h.settings.updateDelayMs);
}

describe('through the AWS SDK', () => {
  // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html; CodeSha256 is base64 SHA-256.
  it('creates and reads a function with a base64 CodeSha256', async () => {
    await createApp();
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'app' }));
    expect(got.Configuration?.CodeSha256).toBe(sha(zipA));
    expect(got.Configuration?.LastUpdateStatus).toBe('Successful');
    expect(got.Code?.RepositoryType).toBe('S3');
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html: updates while InProgress conflict.
  it('raises ResourceConflictException for an update while one is InProgress', async () => {
    await createApp();
    const first = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'app', ZipFile: zipB }));
    expect(first.LastUpdateStatus).toBe('InProgress');
    const second = lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'app', ZipFile: zipA }));
    await expect(second).rejects.toBeInstanceOf(ResourceConflictException);
    await expect(second).rejects.toMatchObject({ $metadata: { httpStatusCode: 409 } });
  });

  // aws-facts / SDK waiters: waitUntilFunctionUpdatedV2 polls GetFunction until Successful, throws on Failed.
  it('lets waitUntilFunctionUpdatedV2 see Successful, and fail on a Failed update', async () => {
    await createApp();
    await deployB();
    const ok = await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 5 }, { FunctionName: 'app' });
    expect(ok.state).toBe('SUCCESS');

    h.settings.failNextUpdates = 1;
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'app', ZipFile: zipA }));
    h.clock.advance(h.settings.updateDelayMs);
    await expect(
      waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 5 }, { FunctionName: 'app' }),
    ).rejects.toThrow(/FAILURE/);
    const failed = await lambda.send(new GetFunctionCommand({ FunctionName: 'app' }));
    expect(failed.Configuration?.LastUpdateStatusReason).toBe(h.settings.failureReason);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html: RevisionId and CodeSha256 guards,
  // and no new version when nothing changed.
  it('guards PublishVersion and reuses the unchanged version', async () => {
    await createApp();
    const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'app', CodeSha256: sha(zipA) }));
    const again = await lambda.send(new PublishVersionCommand({ FunctionName: 'app' }));
    expect(again.Version).toBe(v1.Version);
    await deployB();
    await expect(
      lambda.send(new PublishVersionCommand({ FunctionName: 'app', RevisionId: v1.RevisionId })),
    ).rejects.toBeInstanceOf(PreconditionFailedException);
    await expect(
      lambda.send(new PublishVersionCommand({ FunctionName: 'app', CodeSha256: sha(zipA) })),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html: Marker/MaxItems, via the SDK paginator.
  it('paginates ListVersionsByFunction with the SDK paginator', async () => {
    await createApp();
    await lambda.send(new PublishVersionCommand({ FunctionName: 'app' }));
    await deployB();
    await lambda.send(new PublishVersionCommand({ FunctionName: 'app' }));
    const versions: string[] = [];
    let pages = 0;
    for await (const page of paginateListVersionsByFunction({ client: lambda, pageSize: 1 }, { FunctionName: 'app' })) {
      pages += 1;
      versions.push(...(page.Versions ?? []).map((v) => v.Version ?? ''));
    }
    expect(versions).toEqual(['$LATEST', '1', '2']);
    expect(pages).toBe(3);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_AliasRoutingConfiguration.html and API_DeleteFunction.html.
  it('validates alias routing and protects aliased versions from deletion', async () => {
    await createApp();
    await lambda.send(new PublishVersionCommand({ FunctionName: 'app' }));
    await deployB();
    await lambda.send(new PublishVersionCommand({ FunctionName: 'app' }));
    await expect(
      lambda.send(
        new CreateAliasCommand({
          FunctionName: 'app',
          Name: 'live',
          FunctionVersion: '1',
          RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
    const alias = await lambda.send(
      new CreateAliasCommand({
        FunctionName: 'app',
        Name: 'live',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
      }),
    );
    expect(alias.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.25 });
    await expect(
      lambda.send(new DeleteFunctionCommand({ FunctionName: 'app', Qualifier: '2' })),
    ).rejects.toBeInstanceOf(ResourceConflictException);
    await expect(
      lambda.send(
        new UpdateAliasCommand({
          FunctionName: 'app',
          Name: 'live',
          FunctionVersion: '2',
          RevisionId: 'not-the-revision',
        }),
      ),
    ).rejects.toBeInstanceOf(PreconditionFailedException);
    await expect(lambda.send(new GetFunctionCommand({ FunctionName: 'missing' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    const deleted = await lambda.send(new DeleteFunctionCommand({ FunctionName: 'app' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    await expect(lambda.send(new GetFunctionCommand({ FunctionName: 'app' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: ExecutedVersion; the alias picks by weight.
  it('invokes through an alias and reports the executed version', async () => {
    await lambda.send(new GetAccountSettingsCommand({}));
    lambda.destroy();
    await server.close();
    await h.service.close();
    await start({ executeHandlers: true }, () => 0.99);
    await createApp();
    await lambda.send(new PublishVersionCommand({ FunctionName: 'app' }));
    await deployB();
    await lambda.send(new PublishVersionCommand({ FunctionName: 'app' }));
    await lambda.send(
      new CreateAliasCommand({
        FunctionName: 'app',
        Name: 'live',
        FunctionVersion: '2',
        RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } },
      }),
    );
    const result = await lambda.send(
      new InvokeCommand({
        FunctionName: 'app',
        Qualifier: 'live',
        Payload: Buffer.from(JSON.stringify({ hello: 'world' })),
      }),
    );
    expect(result.StatusCode).toBe(200);
    expect(result.ExecutedVersion).toBe('2');
    expect(JSON.parse(Buffer.from(result.Payload ?? new Uint8Array()).toString())).toEqual({
      build: 'B',
      event: { hello: 'world' },
      version: '2',
    });
    expect(h.service.invocations().at(-1)).toMatchObject({ functionName: 'app', qualifier: 'live', version: '2' });
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: Event answers 202 at once; 1 MB at most.
  it('queues Event invocations with their payload until taken, when asked to, and refuses one over 1 MB', async () => {
    h.settings.asyncInvocations = 'queue';
    await createApp();
    const accepted = await lambda.send(
      new InvokeCommand({
        FunctionName: 'app',
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ shard: 3 })),
      }),
    );
    expect(accepted.StatusCode).toBe(202);
    const queued = h.service.takeAsyncInvocations();
    expect(queued).toEqual([
      expect.objectContaining({ accountId: ACCOUNT, functionName: 'app', qualifier: '$LATEST', payload: { shard: 3 } }),
    ]);
    expect(h.service.takeAsyncInvocations()).toEqual([]);
    const big = Buffer.from(JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }));
    await expect(
      lambda.send(new InvokeCommand({ FunctionName: 'app', InvocationType: 'Event', Payload: big })),
    ).rejects.toMatchObject({ name: 'RequestTooLargeException' });
    expect(h.service.takeAsyncInvocations()).toEqual([]);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 15 requests/s control plane.
  it('raises TooManyRequestsException past the control-plane rate', async () => {
    h.settings.rateLimits = true;
    await createApp();
    let throttled: unknown;
    for (let i = 0; i < 20 && throttled === undefined; i += 1) {
      await lambda.send(new GetAccountSettingsCommand({})).catch((error: unknown) => {
        throttled = error;
      });
    }
    expect(throttled).toBeInstanceOf(TooManyRequestsException);
    expect(throttled).toMatchObject({
      Reason: 'CallerRateLimitExceeded',
      retryAfterSeconds: '1',
      $metadata: { httpStatusCode: 429 },
    });
  });

  // An AccessDeniedException is not modelled by the SDK: it surfaces as LambdaServiceException by name.
  it('surfaces AccessDeniedException with AWS message', async () => {
    await createApp();
    h.denied.add('lambda:GetFunction');
    const denied = await lambda.send(new GetFunctionCommand({ FunctionName: 'app' })).catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(LambdaServiceException);
    expect(denied).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    expect((denied as Error).message).toMatch(
      /is not authorized to perform: lambda:GetFunction on resource: .*because no identity-based policy allows/,
    );
  });
});
