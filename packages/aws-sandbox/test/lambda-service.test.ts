/**
 * The Lambda sandbox service against the AWS Lambda documentation, through `handle()` with
 * hand-built SandboxRequests (no HTTP server). Each test names the page it encodes.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  call,
  createFunction,
  createHarness,
  declareUnzippedSize,
  fnPath,
  getConfig,
  type Harness,
  handlerZip,
  makeZip,
  OTHER_ACCOUNT,
  publish,
  REGION,
  updateCode,
} from './lambda-harness.js';

let h: Harness;
let zipA: Buffer;
let zipB: Buffer;

beforeEach(async () => {
  h = createHarness();
  zipA = await handlerZip('A');
  zipB = await handlerZip('B');
});

afterEach(async () => {
  await h.service.close();
});

/** Lets the update delay elapse on the sandbox clock. */
function finishUpdate(): void {
  h.clock.advance(h.settings.updateDelayMs);
}

describe('CreateFunction and GetFunction', () => {
  // https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html: CodeSha256 is the SHA256 hash of the deployment package, in base64.
  it('reports CodeSha256 as base64 SHA-256 of the zip bytes and CodeSize as its length', async () => {
    const created = await createFunction(h, 'app', zipA);
    expect(created.status).toBe(201);
    expect(created.json.CodeSha256).toBe(createHash('sha256').update(zipA).digest('base64'));
    expect(created.json.CodeSize).toBe(zipA.length);
    expect(created.json.State).toBe('Active');
    expect(created.json.FunctionArn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:app`);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html errors: ResourceConflictException (409) when the function exists.
  it('refuses to create a function that already exists', async () => {
    await createFunction(h, 'app', zipA);
    const again = await createFunction(h, 'app', zipA);
    expect(again.status).toBe(409);
    expect(again.headers['x-amzn-errortype']).toBe('ResourceConflictException');
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html: returns Configuration, Code location and Tags.
  it('returns configuration, code location and tags', async () => {
    await createFunction(h, 'app', zipA, { Tags: { team: 'ferry' } });
    const got = await call(h, { method: 'GET', path: fnPath('app') });
    expect(got.status).toBe(200);
    expect(got.json.Configuration.Version).toBe('$LATEST');
    expect(got.json.Code.RepositoryType).toBe('S3');
    expect(got.json.Tags).toEqual({ team: 'ferry' });
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html: FunctionName accepts a name, a full ARN or a partial ARN.
  it('accepts the function name as a full or partial ARN', async () => {
    await createFunction(h, 'app', zipA);
    const full = await call(h, { method: 'GET', path: fnPath(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:app`) });
    const partial = await call(h, { method: 'GET', path: fnPath(`${ACCOUNT}:function:app`) });
    expect(full.status).toBe(200);
    expect(partial.status).toBe(200);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html errors: ResourceNotFoundException (404).
  it('answers ResourceNotFoundException in the REST-JSON error shape', async () => {
    const missing = await call(h, { method: 'GET', path: fnPath('nope') });
    expect(missing.status).toBe(404);
    expect(missing.headers['x-amzn-errortype']).toBe('ResourceNotFoundException');
    expect(missing.json).toEqual({
      Type: 'User',
      message: `Function not found: arn:aws:lambda:${REGION}:${ACCOUNT}:function:nope`,
    });
  });

  it('keeps functions apart per account and Region', async () => {
    await createFunction(h, 'app', zipA);
    const otherRegion = await call(h, { method: 'GET', path: fnPath('app'), region: 'us-east-1' });
    expect(otherRegion.status).toBe(404);
    expect(h.service.listFunctionNames(ACCOUNT, REGION)).toEqual(['app']);
    expect(h.service.listFunctionNames(ACCOUNT, 'us-east-1')).toEqual([]);
  });
});

describe('UpdateFunctionCode and update states', () => {
  // https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html: LastUpdateStatus is InProgress, then Successful once the update completes.
  it('goes InProgress then Successful after the configured delay on the sandbox clock', async () => {
    await createFunction(h, 'app', zipA);
    const updated = await updateCode(h, 'app', zipB);
    expect(updated.status).toBe(200);
    expect(updated.json.LastUpdateStatus).toBe('InProgress');
    expect(updated.json.CodeSha256).toBe(createHash('sha256').update(zipB).digest('base64'));
    h.clock.advance(999);
    expect((await getConfig(h, 'app')).json.LastUpdateStatus).toBe('InProgress');
    h.clock.advance(1);
    expect((await getConfig(h, 'app')).json.LastUpdateStatus).toBe('Successful');
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html RevisionId; aws/aws-sdk#377: it changes again when the async update ends.
  it('changes RevisionId on every change, including when the update completes', async () => {
    const created = await createFunction(h, 'app', zipA);
    const updated = await updateCode(h, 'app', zipB);
    expect(updated.json.RevisionId).not.toBe(created.json.RevisionId);
    finishUpdate();
    const settled = await getConfig(h, 'app');
    expect(settled.json.RevisionId).not.toBe(updated.json.RevisionId);
    expect((await getConfig(h, 'app')).json.RevisionId).toBe(settled.json.RevisionId);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html: while an update is InProgress, other updates fail with ResourceConflictException.
  it('answers ResourceConflictException to code, configuration and publish updates while InProgress', async () => {
    await createFunction(h, 'app', zipA);
    await updateCode(h, 'app', zipB);
    const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:app`;
    const code = await updateCode(h, 'app', zipA);
    const config = await call(h, { method: 'PUT', path: fnPath('app', '/configuration'), body: { Description: 'x' } });
    const published = await publish(h, 'app');
    for (const result of [code, config, published]) {
      expect(result.status).toBe(409);
      expect(result.headers['x-amzn-errortype']).toBe('ResourceConflictException');
      expect(result.json.message).toBe(
        `The operation cannot be performed at this time. An update is in progress for resource: ${arn}`,
      );
    }
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html: a Failed update carries a reason and the previous code remains available.
  it('ends Failed with a reason when the fault setting asks, counting it down', async () => {
    h.settings.failNextUpdates = 1;
    h.settings.failureReason = 'Layer conflict';
    const created = await createFunction(h, 'app', zipA);
    await updateCode(h, 'app', zipB);
    expect(h.settings.failNextUpdates).toBe(0);
    finishUpdate();
    const failed = await getConfig(h, 'app');
    expect(failed.json.LastUpdateStatus).toBe('Failed');
    expect(failed.json.LastUpdateStatusReason).toBe('Layer conflict');
    expect(failed.json.LastUpdateStatusReasonCode).toBe('InternalError');
    expect(failed.json.CodeSha256).toBe(created.json.CodeSha256);
    const retried = await updateCode(h, 'app', zipB);
    finishUpdate();
    expect(retried.status).toBe(200);
    expect((await getConfig(h, 'app')).json.LastUpdateStatus).toBe('Successful');
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html RevisionId: PreconditionFailedException (412) when the function changed.
  it('refuses an update whose RevisionId is stale', async () => {
    const created = await createFunction(h, 'app', zipA);
    await updateCode(h, 'app', zipB);
    finishUpdate();
    const stale = await updateCode(h, 'app', zipA, { RevisionId: created.json.RevisionId });
    expect(stale.status).toBe(412);
    expect(stale.headers['x-amzn-errortype']).toBe('PreconditionFailedException');
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html: ZipFile must be a valid .zip archive.
  it('refuses bytes that do not unzip', async () => {
    await createFunction(h, 'app', zipA);
    const bad = await updateCode(h, 'app', Buffer.from('not a zip at all'));
    expect(bad.status).toBe(400);
    expect(bad.headers['x-amzn-errortype']).toBe('InvalidParameterValueException');
    expect(bad.json.message).toMatch(/^Could not unzip uploaded file/);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 50 MB zipped when uploaded through the Lambda API.
  it('refuses a ZipFile over 50 MB with RequestEntityTooLargeException', async () => {
    await createFunction(h, 'app', zipA);
    const big = Buffer.alloc(50 * 1024 * 1024 + 1);
    const tooBig = await updateCode(h, 'app', big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers['x-amzn-errortype']).toBe('RequestEntityTooLargeException');
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 250 MB unzipped, also for packages read from S3.
  it('refuses a package whose unzipped size exceeds 250 MB', async () => {
    await createFunction(h, 'app', zipA);
    // A small zip whose directory declares 251 MB unzipped: Lambda judges the declared size.
    const bomb = declareUnzippedSize(await makeZip({ 'big.bin': 'x'.repeat(1000) }), 251 * 1024 * 1024);
    h.s3.set('artifacts/big.zip', bomb);
    const refused = await call(h, {
      method: 'PUT',
      path: fnPath('app', '/code'),
      body: { S3Bucket: 'artifacts', S3Key: 'big.zip' },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toBe('Unzipped size must be smaller than 262144000 bytes');
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html S3Bucket/S3Key/S3ObjectVersion: the package is read from S3 (may be over 50 MB).
  it('reads the package from S3 by version as the caller', async () => {
    await createFunction(h, 'app', zipA);
    h.s3.set('artifacts/app/2.zip#v2', zipB);
    const updated = await call(h, {
      method: 'PUT',
      path: fnPath('app', '/code'),
      body: { S3Bucket: 'artifacts', S3Key: 'app/2.zip', S3ObjectVersion: 'v2' },
    });
    expect(updated.status).toBe(200);
    expect(updated.json.CodeSha256).toBe(createHash('sha256').update(zipB).digest('base64'));
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html: S3 errors surface as InvalidParameterValueException naming the S3 code.
  it('surfaces an S3 AccessDenied or PermanentRedirect as InvalidParameterValueException', async () => {
    await createFunction(h, 'app', zipA);
    const denied = await call(h, {
      method: 'PUT',
      path: fnPath('app', '/code'),
      body: { S3Bucket: 'denied-bucket', S3Key: 'k.zip' },
    });
    expect(denied.status).toBe(400);
    expect(denied.headers['x-amzn-errortype']).toBe('InvalidParameterValueException');
    expect(denied.json.message).toMatch(/^Error occurred while GetObject\. S3 Error Code: AccessDenied\./);
    const redirect = await call(h, {
      method: 'PUT',
      path: fnPath('app', '/code'),
      body: { S3Bucket: 'us-bucket', S3Key: 'k.zip' },
    });
    expect(redirect.json.message).toMatch(/S3 Error Code: PermanentRedirect/);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html Publish: same effect as calling PublishVersion separately.
  it('publishes a version when Publish is set', async () => {
    await createFunction(h, 'app', zipA);
    const updated = await updateCode(h, 'app', zipB, { Publish: true });
    expect(updated.json.Version).toBe('1');
    finishUpdate();
    const v1 = await getConfig(h, 'app', '1');
    expect(v1.json.CodeSha256).toBe(updated.json.CodeSha256);
  });
});

describe('PublishVersion', () => {
  // https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html: Lambda doesn't publish a version if code and configuration haven't changed.
  it('returns the existing version when nothing changed since it was published', async () => {
    await createFunction(h, 'app', zipA);
    const first = await publish(h, 'app');
    const second = await publish(h, 'app');
    expect(first.status).toBe(201);
    expect(first.json.Version).toBe('1');
    expect(second.json.Version).toBe('1');
    await updateCode(h, 'app', zipB);
    finishUpdate();
    expect((await publish(h, 'app')).json.Version).toBe('2');
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html RevisionId: PreconditionFailedException on mismatch.
  it('fails on a RevisionId mismatch', async () => {
    const created = await createFunction(h, 'app', zipA);
    await updateCode(h, 'app', zipB);
    finishUpdate();
    const stale = await publish(h, 'app', { RevisionId: created.json.RevisionId });
    expect(stale.status).toBe(412);
    expect(stale.headers['x-amzn-errortype']).toBe('PreconditionFailedException');
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html CodeSha256: must match $LATEST or the publication fails.
  it('fails when CodeSha256 does not match $LATEST', async () => {
    const created = await createFunction(h, 'app', zipA);
    await updateCode(h, 'app', zipB);
    finishUpdate();
    const mismatch = await publish(h, 'app', { CodeSha256: created.json.CodeSha256 });
    expect(mismatch.status).toBe(400);
    expect(mismatch.headers['x-amzn-errortype']).toBe('InvalidParameterValueException');
    const matching = await publish(h, 'app', { CodeSha256: createHash('sha256').update(zipB).digest('base64') });
    expect(matching.status).toBe(201);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html Description; versions are immutable snapshots (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html).
  it('keeps each version an immutable snapshot with its own CodeSha256 and Description', async () => {
    await createFunction(h, 'app', zipA);
    await publish(h, 'app', { Description: 'build A' });
    await updateCode(h, 'app', zipB);
    finishUpdate();
    await publish(h, 'app', { Description: 'build B' });
    const snapshot = h.service.describeFunction(ACCOUNT, REGION, 'app');
    expect(snapshot?.versions).toEqual([
      { version: '1', codeSha256: createHash('sha256').update(zipA).digest('base64'), description: 'build A' },
      { version: '2', codeSha256: createHash('sha256').update(zipB).digest('base64'), description: 'build B' },
    ]);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html: Marker/MaxItems pagination, $LATEST first.
  it('lists versions with $LATEST first, paginated by Marker and MaxItems', async () => {
    await createFunction(h, 'app', zipA);
    for (const build of ['1', '2', '3', '4']) {
      await updateCode(h, 'app', await handlerZip(build));
      finishUpdate();
      await publish(h, 'app');
    }
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await call(h, {
        method: 'GET',
        path: fnPath('app', '/versions'),
        query: { MaxItems: '2', ...(marker ? { Marker: marker } : {}) },
      });
      seen.push(...page.json.Versions.map((v: { Version: string }) => v.Version));
      marker = page.json.NextMarker;
      pages += 1;
    } while (marker);
    expect(seen).toEqual(['$LATEST', '1', '2', '3', '4']);
    expect(pages).toBe(3);
  });
});

describe('aliases', () => {
  async function twoVersions(): Promise<void> {
    await createFunction(h, 'app', zipA);
    await publish(h, 'app');
    await updateCode(h, 'app', zipB);
    finishUpdate();
    await publish(h, 'app');
  }

  const createAlias = (body: Record<string, unknown>) =>
    call(h, { method: 'POST', path: fnPath('app', '/aliases'), body });

  // https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html / API_AliasRoutingConfiguration: a second version with a weight.
  it('creates, reads, updates, lists and deletes an alias with routing', async () => {
    await twoVersions();
    const created = await createAlias({
      Name: 'live',
      FunctionVersion: '1',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } },
    });
    expect(created.status).toBe(201);
    expect(created.json.AliasArn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:app:live`);
    expect(created.json.RoutingConfig).toEqual({ AdditionalVersionWeights: { '2': 0.1 } });
    const updated = await call(h, {
      method: 'PUT',
      path: fnPath('app', '/aliases/live'),
      body: {
        FunctionVersion: '2',
        RoutingConfig: { AdditionalVersionWeights: {} },
        RevisionId: created.json.RevisionId,
      },
    });
    expect(updated.status).toBe(200);
    expect(updated.json.FunctionVersion).toBe('2');
    expect(updated.json.RevisionId).not.toBe(created.json.RevisionId);
    const listed = await call(h, { method: 'GET', path: fnPath('app', '/aliases') });
    expect(listed.json.Aliases.map((a: { Name: string }) => a.Name)).toEqual(['live']);
    expect((await call(h, { method: 'DELETE', path: fnPath('app', '/aliases/live') })).status).toBe(204);
    expect((await call(h, { method: 'GET', path: fnPath('app', '/aliases/live') })).status).toBe(404);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html RevisionId: PreconditionFailedException on mismatch.
  it('refuses UpdateAlias with a stale RevisionId', async () => {
    await twoVersions();
    await createAlias({ Name: 'live', FunctionVersion: '1' });
    const stale = await call(h, {
      method: 'PUT',
      path: fnPath('app', '/aliases/live'),
      body: { FunctionVersion: '2', RevisionId: 'stale' },
    });
    expect(stale.status).toBe(412);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_AliasRoutingConfiguration.html and https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html: one additional published version,
  // weight 0.0..1.0, different from the primary, never $LATEST.
  it.each([
    [
      'two additional versions',
      { FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1, '3': 0.1 } } },
      'InvalidParameterValueException',
    ],
    [
      'a weight above 1',
      { FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } },
      'ValidationException',
    ],
    [
      'a negative weight',
      { FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': -0.1 } } },
      'ValidationException',
    ],
    [
      'the primary version again',
      { FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } },
      'InvalidParameterValueException',
    ],
    [
      'an unpublished version',
      { FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '9': 0.5 } } },
      'ResourceNotFoundException',
    ],
    [
      '$LATEST as primary with routing',
      { FunctionVersion: '$LATEST', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } },
      'InvalidParameterValueException',
    ],
    ['a missing primary version', { FunctionVersion: '7' }, 'ResourceNotFoundException'],
  ])('refuses routing to %s', async (_label, body, code) => {
    await twoVersions();
    const refused = await createAlias({ Name: 'live', ...body });
    expect(refused.headers['x-amzn-errortype']).toBe(code);
    expect(h.service.describeFunction(ACCOUNT, REGION, 'app')?.aliases).toEqual([]);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html Qualifier: you can't delete a version that an alias references.
  it('refuses to delete a version an alias points at, as primary or additional version', async () => {
    await twoVersions();
    await createAlias({
      Name: 'live',
      FunctionVersion: '1',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.2 } },
    });
    for (const version of ['1', '2']) {
      const refused = await call(h, { method: 'DELETE', path: fnPath('app'), query: { Qualifier: version } });
      expect(refused.status).toBe(409);
      expect(refused.headers['x-amzn-errortype']).toBe('ResourceConflictException');
    }
    await call(h, {
      method: 'PUT',
      path: fnPath('app', '/aliases/live'),
      body: { FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } },
    });
    expect((await call(h, { method: 'DELETE', path: fnPath('app'), query: { Qualifier: '1' } })).status).toBe(204);
    expect(h.service.describeFunction(ACCOUNT, REGION, 'app')?.versions.map((v) => v.version)).toEqual(['2']);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html: without a Qualifier the function, its versions and aliases are deleted.
  it('deletes the whole function without a qualifier', async () => {
    await twoVersions();
    expect((await call(h, { method: 'DELETE', path: fnPath('app') })).status).toBe(204);
    expect(h.service.describeFunction(ACCOUNT, REGION, 'app')).toBeUndefined();
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html Qualifier: a version or alias.
  it('reads configuration through an alias qualifier', async () => {
    await twoVersions();
    await createAlias({ Name: 'live', FunctionVersion: '1' });
    const viaAlias = await getConfig(h, 'app', 'live');
    expect(viaAlias.json.Version).toBe('1');
    expect(viaAlias.json.CodeSha256).toBe(createHash('sha256').update(zipA).digest('base64'));
  });
});

describe('Invoke', () => {
  // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: X-Amz-Executed-Version names the version that ran; alias routing picks by weight.
  it('records which version served each call and sets X-Amz-Executed-Version', async () => {
    let roll = 0.05;
    h = createHarness({}, () => roll);
    await createFunction(h, 'app', zipA);
    await publish(h, 'app');
    await updateCode(h, 'app', zipB);
    finishUpdate();
    await publish(h, 'app');
    await call(h, {
      method: 'POST',
      path: fnPath('app', '/aliases'),
      body: { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } },
    });
    const toCanary = await call(h, {
      method: 'POST',
      path: fnPath('app', '/invocations'),
      query: { Qualifier: 'live' },
      body: {},
    });
    roll = 0.5;
    const toPrimary = await call(h, {
      method: 'POST',
      path: fnPath('app', '/invocations'),
      query: { Qualifier: 'live' },
      body: {},
    });
    const latest = await call(h, { method: 'POST', path: fnPath('app', '/invocations'), body: {} });
    expect(toCanary.headers['x-amz-executed-version']).toBe('2');
    expect(toPrimary.headers['x-amz-executed-version']).toBe('1');
    expect(latest.headers['x-amz-executed-version']).toBe('$LATEST');
    expect(h.service.invocations().map(({ qualifier, version }) => ({ qualifier, version }))).toEqual([
      { qualifier: 'live', version: '2' },
      { qualifier: 'live', version: '1' },
      { qualifier: '$LATEST', version: '$LATEST' },
    ]);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html: while InProgress, invocations run the previous code; API_Invoke returns the handler's result.
  it('runs the handler of the previous code while an update is InProgress', async () => {
    h = createHarness({ executeHandlers: true });
    await createFunction(h, 'app', zipA);
    await updateCode(h, 'app', zipB);
    const during = await call(h, { method: 'POST', path: fnPath('app', '/invocations'), body: { n: 1 } });
    expect(during.status).toBe(200);
    expect(during.json).toEqual({ build: 'A', event: { n: 1 }, version: '$LATEST' });
    finishUpdate();
    const after = await call(h, { method: 'POST', path: fnPath('app', '/invocations'), body: { n: 2 } });
    expect(after.json.build).toBe('B');
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: X-Amz-Function-Error is set when the function returns an error.
  it('reports a thrown error as an Unhandled function error', async () => {
    h = createHarness({ executeHandlers: true });
    const throwing = await makeZip({ 'index.js': 'exports.handler = async () => { throw new TypeError("boom"); };' });
    await createFunction(h, 'app', throwing);
    const failed = await call(h, { method: 'POST', path: fnPath('app', '/invocations'), body: {} });
    expect(failed.status).toBe(200);
    expect(failed.headers['x-amz-function-error']).toBe('Unhandled');
    expect(failed.json).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom' });
  });
});

describe('other operations', () => {
  // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: Event answers 202, DryRun 204, both name the version.
  it('answers 202 for Event and 204 for DryRun invocations, recording only the real one', async () => {
    await createFunction(h, 'app', zipA);
    const event = await call(h, {
      method: 'POST',
      path: fnPath('app', '/invocations'),
      headers: { 'x-amz-invocation-type': 'Event' },
      body: {},
    });
    const dryRun = await call(h, {
      method: 'POST',
      path: fnPath('app', '/invocations'),
      headers: { 'x-amz-invocation-type': 'DryRun' },
      body: {},
    });
    expect(event.status).toBe(202);
    expect(dryRun.status).toBe(204);
    expect(dryRun.headers['x-amz-executed-version']).toBe('$LATEST');
    expect(h.service.invocations()).toHaveLength(1);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html errors: ResourceNotFoundException for an unknown qualifier.
  it('refuses to invoke an alias that does not exist', async () => {
    await createFunction(h, 'app', zipA);
    const missing = await call(h, {
      method: 'POST',
      path: fnPath('app', '/invocations'),
      query: { Qualifier: 'nope' },
      body: {},
    });
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe(`Function not found: arn:aws:lambda:${REGION}:${ACCOUNT}:function:app:nope`);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html: an update, with RevisionId.
  it('updates configuration through the same InProgress cycle', async () => {
    await createFunction(h, 'app', zipA);
    const updated = await call(h, {
      method: 'PUT',
      path: fnPath('app', '/configuration'),
      body: { Description: 'new', Environment: { Variables: { STAGE: 'dev' } } },
    });
    expect(updated.json.LastUpdateStatus).toBe('InProgress');
    expect(updated.json.Environment).toEqual({ Variables: { STAGE: 'dev' } });
    finishUpdate();
    const settled = await getConfig(h, 'app');
    expect(settled.json.LastUpdateStatus).toBe('Successful');
    expect(settled.json.Description).toBe('new');
    // A configuration change is a change: PublishVersion makes a new version for it.
    await publish(h, 'app');
    await call(h, { method: 'PUT', path: fnPath('app', '/configuration'), body: { Timeout: 30 } });
    finishUpdate();
    expect((await publish(h, 'app')).json.Version).toBe('2');
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_GetPolicy.html: ResourceNotFoundException when the function has no policy.
  it('answers GetPolicy with ResourceNotFoundException, the sandbox keeping no resource policies', async () => {
    await createFunction(h, 'app', zipA);
    const policy = await call(h, { method: 'GET', path: fnPath('app', '/policy') });
    expect(policy.status).toBe(404);
    expect(policy.json.message).toBe('The resource you requested does not exist.');
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html: $LATEST cannot be deleted on its own.
  it('refuses to delete $LATEST by qualifier', async () => {
    await createFunction(h, 'app', zipA);
    const refused = await call(h, { method: 'DELETE', path: fnPath('app'), query: { Qualifier: '$LATEST' } });
    expect(refused.status).toBe(400);
    expect(refused.headers['x-amzn-errortype']).toBe('InvalidParameterValueException');
  });

  it('answers an unknown path with an AWS-shaped error', async () => {
    const unknown = await call(h, { method: 'GET', path: '/2015-03-31/nothing-here' });
    expect(h.service.operation({ method: 'GET', path: '/2015-03-31/nothing-here' } as never)).toBe('Unknown');
    expect(unknown.status).toBe(404);
    expect(unknown.headers['x-amzn-errortype']).toBe('UnknownOperationException');
  });
});

describe('authorization', () => {
  // https://docs.aws.amazon.com/lambda/latest/dg/access-control-identity-based.html: an identity policy must allow the action on the function ARN.
  it('answers AccessDeniedException with AWS message when the identity policy does not allow the action', async () => {
    await createFunction(h, 'app', zipA);
    h.denied.add('lambda:UpdateFunctionCode');
    const denied = await updateCode(h, 'app', zipB);
    const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:app`;
    expect(denied.status).toBe(403);
    expect(denied.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(denied.json.message).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/ferry-deploy/session is not authorized to perform: lambda:UpdateFunctionCode on resource: ${arn} because no identity-based policy allows the lambda:UpdateFunctionCode action`,
    );
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html: function actions
  // are scoped by function, version or alias ARN.
  it('authorizes qualified calls on the qualified ARN', async () => {
    await createFunction(h, 'app', zipA);
    await publish(h, 'app');
    await call(h, { method: 'POST', path: fnPath('app', '/invocations'), query: { Qualifier: '1' }, body: {} });
    expect(h.authorizations.at(-1)).toEqual({
      action: 'lambda:InvokeFunction',
      resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:app:1`,
    });
  });

  it('refuses another account function without a resource-based policy', async () => {
    const arn = `arn:aws:lambda:${REGION}:${OTHER_ACCOUNT}:function:app`;
    const denied = await call(h, { method: 'GET', path: fnPath(arn) });
    expect(denied.status).toBe(403);
    expect(denied.json.message).toMatch(/no resource-based policy allows/);
  });
});

describe('rate limits', () => {
  // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html (Lambda API requests): control plane 15 requests/s per account and Region.
  it('throttles the 16th control-plane call within a second with TooManyRequestsException', async () => {
    h = createHarness({ rateLimits: true });
    await createFunction(h, 'app', zipA);
    const results = [];
    for (let i = 0; i < 15; i += 1) results.push(await getConfig(h, 'app'));
    expect(results.at(-2)?.status).toBe(200);
    const throttled = results.at(-1);
    expect(throttled?.status).toBe(429);
    expect(throttled?.headers['x-amzn-errortype']).toBe('TooManyRequestsException');
    expect(throttled?.headers['retry-after']).toBe('1');
    expect(throttled?.json).toEqual({ Reason: 'CallerRateLimitExceeded', Type: 'User', message: 'Rate exceeded' });
    h.clock.advance(1000);
    expect((await getConfig(h, 'app')).status).toBe(200);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: GetFunction has its own 100 requests/s.
  it('gives GetFunction its own 100 requests/s budget', async () => {
    h = createHarness({ rateLimits: true });
    await createFunction(h, 'app', zipA);
    const statuses: number[] = [];
    for (let i = 0; i < 101; i += 1) statuses.push((await call(h, { method: 'GET', path: fnPath('app') })).status);
    expect(statuses.slice(0, 100).every((s) => s === 200)).toBe(true);
    expect(statuses[100]).toBe(429);
    // The control-plane budget is untouched by GetFunction calls.
    expect((await getConfig(h, 'app')).status).toBe(200);
  });

  // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: GetPolicy has its own 15 requests/s, apart from the shared control plane.
  it('gives GetPolicy its own budget', async () => {
    h = createHarness({ rateLimits: true });
    for (let i = 0; i < 15; i += 1) await getConfig(h, 'app');
    expect((await getConfig(h, 'app')).status).toBe(429);
    const policy = await call(h, { method: 'GET', path: fnPath('app', '/policy') });
    expect(policy.headers['x-amzn-errortype']).toBe('ResourceNotFoundException');
  });

  it('counts per account and Region', async () => {
    h = createHarness({ rateLimits: true });
    for (let i = 0; i < 15; i += 1) await getConfig(h, 'app');
    expect((await getConfig(h, 'app')).status).toBe(429);
    expect((await call(h, { method: 'GET', path: fnPath('app', '/configuration'), region: 'us-east-1' })).status).toBe(
      404,
    );
  });
});

describe('GetAccountSettings', () => {
  // https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html and https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 75 GB code storage, usage counts every version.
  it('reports the 75 GB code storage limit and the usage of $LATEST and versions', async () => {
    await createFunction(h, 'app', zipA);
    await publish(h, 'app');
    const settings = await call(h, { method: 'GET', path: '/2016-08-19/account-settings/' });
    expect(settings.json.AccountLimit.TotalCodeSize).toBe(80_530_636_800);
    expect(settings.json.AccountUsage).toEqual({ TotalCodeSize: 2 * zipA.length, FunctionCount: 1 });
  });
});

describe('seeding and snapshots', () => {
  it('seeds a function with version 1 behind the given aliases', async () => {
    h.service.seedFunction({
      accountId: ACCOUNT,
      region: REGION,
      functionName: 'seeded',
      zip: zipA,
      aliases: ['live', 'staging'],
    });
    const snapshot = h.service.describeFunction(ACCOUNT, REGION, 'seeded');
    expect(snapshot?.versions.map((v) => v.version)).toEqual(['1']);
    expect(snapshot?.aliases).toEqual([
      { name: 'live', functionVersion: '1', routing: {} },
      { name: 'staging', functionVersion: '1', routing: {} },
    ]);
    expect(snapshot?.latest.lastUpdateStatus).toBe('Successful');
  });
});
