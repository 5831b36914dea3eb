import {
  CreateAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  InvokeCommand,
  LambdaClient,
  LambdaServiceException,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyResourceConflict, createLambdaPort } from '../../../src/aws/lambda.js';
import { AccessError, ArtifactError, ConflictError, InputError, ThrottledError } from '../../../src/core/errors.js';

const lambdaMock = mockClient(LambdaClient);
// Test files share a worker's modules (vitest.config.ts): give the client's real send back.
afterAll(() => lambdaMock.restore());
const port = createLambdaPort(new LambdaClient({ region: 'eu-west-1' }), {
  accountId: '222222222222',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::222222222222:role/ferry-deploy',
});
const meta = { $metadata: {} };

beforeEach(() => lambdaMock.reset());

describe('Lambda adapter', () => {
  it('updates code inline, guarded by the RevisionId', async () => {
    lambdaMock
      .on(UpdateFunctionCodeCommand)
      .resolves({ CodeSha256: 'abc', RevisionId: 'r2', LastUpdateStatus: 'InProgress' });
    const zip = new Uint8Array([1, 2, 3]);
    const state = await port.updateFunctionCode({
      functionName: 'orders-api',
      revisionId: 'r1',
      code: { zipFile: zip },
    });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionCodeCommand, {
      FunctionName: 'orders-api',
      RevisionId: 'r1',
      ZipFile: zip,
    });
    expect(state.lastUpdateStatus).toBe('InProgress');
  });

  it('updates code from a pinned S3 object version', async () => {
    lambdaMock.on(UpdateFunctionCodeCommand).resolves({ CodeSha256: 'abc', RevisionId: 'r2' });
    await port.updateFunctionCode({
      functionName: 'orders-api',
      revisionId: 'r1',
      code: { s3Bucket: 'ferry-artifacts', s3Key: 'artifacts/orders-api/7.zip', s3ObjectVersion: 'v7' },
    });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionCodeCommand, {
      S3Bucket: 'ferry-artifacts',
      S3Key: 'artifacts/orders-api/7.zip',
      S3ObjectVersion: 'v7',
      RevisionId: 'r1',
    });
  });

  it('publishes with CodeSha256, RevisionId and a description', async () => {
    lambdaMock.on(PublishVersionCommand).resolves({ Version: '5', CodeSha256: 'abc' });
    const published = await port.publishVersion({
      functionName: 'orders-api',
      codeSha256: 'abc',
      revisionId: 'r3',
      description: 'ferry: orders-api 7 sha256:abc',
    });
    expect(lambdaMock).toHaveReceivedCommandWith(PublishVersionCommand, {
      FunctionName: 'orders-api',
      CodeSha256: 'abc',
      RevisionId: 'r3',
      Description: 'ferry: orders-api 7 sha256:abc',
    });
    expect(published.version).toBe('5');
  });

  it('moves an alias with its RevisionId and clears canary routing', async () => {
    lambdaMock.on(UpdateAliasCommand).resolves({ Name: 'live', FunctionVersion: '5', RevisionId: 'a2' });
    await port.updateAlias({ functionName: 'orders-api', alias: 'live', version: '5', revisionId: 'a1' });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateAliasCommand, {
      FunctionName: 'orders-api',
      Name: 'live',
      FunctionVersion: '5',
      RevisionId: 'a1',
      RoutingConfig: { AdditionalVersionWeights: {} },
    });
  });

  it('creates an alias with routing when asked', async () => {
    lambdaMock.on(CreateAliasCommand).resolves({
      Name: 'live',
      FunctionVersion: '5',
      RevisionId: 'a1',
      RoutingConfig: { AdditionalVersionWeights: { '6': 0.1 } },
    });
    const created = await port.createAlias({ functionName: 'f', alias: 'live', version: '5', routing: { '6': 0.1 } });
    expect(created.routing).toEqual({ '6': 0.1 });
  });

  it('reads a version with GetFunctionConfiguration, never GetFunction (whose code URL the deploy role is not granted)', async () => {
    lambdaMock.on(GetFunctionConfigurationCommand, { FunctionName: 'orders-api', Qualifier: '7' }).resolves({
      FunctionName: 'orders-api',
      Version: '7',
      CodeSha256: 'c7',
      RevisionId: 'r7',
      LastUpdateStatus: 'Successful',
      Description: 'ferry build 7',
    });
    expect(await port.getFunctionConfiguration('orders-api', '7')).toMatchObject({
      version: '7',
      codeSha256: 'c7',
      revisionId: 'r7',
      lastUpdateStatus: 'Successful',
      description: 'ferry build 7',
    });
    expect(lambdaMock).toHaveReceivedCommandWith(GetFunctionConfigurationCommand, {
      FunctionName: 'orders-api',
      Qualifier: '7',
    });
    expect(lambdaMock).not.toHaveReceivedCommand(GetFunctionCommand);
  });

  it('reads a missing alias as undefined but a missing function as an error naming it', async () => {
    lambdaMock
      .on(GetAliasCommand)
      .rejects(new ResourceNotFoundException({ message: 'Alias not found: arn:...:live', ...meta }));
    expect(await port.getAlias('orders-api', 'live')).toBeUndefined();
    lambdaMock
      .on(GetFunctionConfigurationCommand)
      .rejects(new ResourceNotFoundException({ message: 'Function not found: arn:...', ...meta }));
    await expect(port.getFunctionConfiguration('orders-api')).rejects.toThrowError(InputError);
    await expect(port.getFunctionConfiguration('orders-api')).rejects.toThrowError(
      /orders-api in account 222222222222 \(eu-west-1\) was not found/,
    );
  });

  it('pages through every version', async () => {
    lambdaMock
      .on(ListVersionsByFunctionCommand, { Marker: undefined })
      .resolves({
        Versions: [
          { Version: '$LATEST', CodeSha256: 'x' },
          { Version: '1', CodeSha256: 'a' },
        ],
        NextMarker: 'm1',
      })
      .on(ListVersionsByFunctionCommand, { Marker: 'm1' })
      .resolves({ Versions: [{ Version: '2', CodeSha256: 'b', Description: 'd' }] });
    const versions = await port.listVersions('orders-api');
    expect(versions.map((v) => v.version)).toEqual(['$LATEST', '1', '2']);
    expect(lambdaMock).toHaveReceivedCommandTimes(ListVersionsByFunctionCommand, 2);
  });

  it.each([
    [
      new ResourceConflictException({ message: 'An update is in progress', ...meta }),
      ConflictError,
      'LAMBDA_UPDATE_IN_PROGRESS',
    ],
    [
      new PreconditionFailedException({ message: 'RevisionId mismatch', ...meta }),
      ConflictError,
      'LAMBDA_REVISION_CHANGED',
    ],
    [new TooManyRequestsException({ message: 'Rate exceeded', ...meta }), ThrottledError, 'LAMBDA_THROTTLED'],
    [
      new LambdaServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'not authorized',
        ...meta,
      }),
      AccessError,
      'LAMBDA_ACCESS_DENIED',
    ],
    [
      new InvalidParameterValueException({
        message: 'Error occurred while GetObject. S3 Error Code: AccessDenied. S3 Error Message: Access Denied',
        ...meta,
      }),
      AccessError,
      'ARTIFACT_S3_ACCESS_DENIED',
    ],
  ])('translates %s', async (thrown, type, code) => {
    lambdaMock.on(UpdateFunctionCodeCommand).rejects(thrown);
    const call = port.updateFunctionCode({
      functionName: 'orders-api',
      revisionId: 'r',
      code: { zipFile: new Uint8Array() },
    });
    await expect(call).rejects.toBeInstanceOf(type);
    await expect(call).rejects.toMatchObject({ code });
  });

  it('rethrows errors it does not recognise untouched', async () => {
    const odd = new Error('socket hang up (no code, no AWS metadata)');
    lambdaMock.on(GetFunctionConfigurationCommand).rejects(odd);
    await expect(port.getFunctionConfiguration('orders-api')).rejects.toBe(odd);
  });

  // Lambda's ResourceConflictException has no subtype field: `Type` is the fault side ("User") for
  // every conflict. The message is all AWS gives; classifyResourceConflict is the one place that reads it.
  it.each([
    [
      'CreateAlias',
      'Alias already exists: arn:aws:lambda:eu-west-1:222222222222:function:orders-api:live',
      'LAMBDA_ALIAS_EXISTS',
    ],
    [
      'UpdateFunctionCode',
      'The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:eu-west-1:222222222222:function:orders-api',
      'LAMBDA_UPDATE_IN_PROGRESS',
    ],
    [
      'DeleteFunction',
      'Unable to delete version because the following aliases reference it: [live]',
      'LAMBDA_VERSION_IN_USE',
    ],
    ['CreateAlias', 'Something else entirely', 'LAMBDA_RESOURCE_CONFLICT'],
  ])('tells a %s conflict apart: %s', async (operation, message, code) => {
    const conflict = new ResourceConflictException({ message, Type: 'User', ...meta });
    lambdaMock.on(CreateAliasCommand).rejects(conflict).on(UpdateFunctionCodeCommand).rejects(conflict);
    lambdaMock.on(DeleteFunctionCommand).rejects(conflict);
    const call =
      operation === 'CreateAlias'
        ? port.createAlias({ functionName: 'orders-api', alias: 'live', version: '3' })
        : operation === 'DeleteFunction'
          ? port.deleteVersion('orders-api', '3')
          : port.updateFunctionCode({
              functionName: 'orders-api',
              revisionId: 'r',
              code: { zipFile: new Uint8Array() },
            });
    await expect(call).rejects.toMatchObject({ code });
    expect(classifyResourceConflict(message)).toBe(
      {
        LAMBDA_ALIAS_EXISTS: 'alias-exists',
        LAMBDA_UPDATE_IN_PROGRESS: 'update-in-progress',
        LAMBDA_VERSION_IN_USE: 'version-in-use',
        LAMBDA_RESOURCE_CONFLICT: 'other',
      }[code],
    );
  });

  it('reports a 413 on a code upload as a permanent artifact error that points at the S3 path', async () => {
    // No modelled class for UpdateFunctionCode: the SDK throws its base exception with the name and status.
    lambdaMock.on(UpdateFunctionCodeCommand).rejects(
      new LambdaServiceException({
        name: 'RequestEntityTooLargeException',
        $fault: 'client',
        message: 'Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation',
        $metadata: { httpStatusCode: 413 },
      }),
    );
    const call = port.updateFunctionCode({
      functionName: 'orders-api',
      revisionId: 'r',
      code: { zipFile: new Uint8Array() },
    });
    await expect(call).rejects.toBeInstanceOf(ArtifactError);
    await expect(call).rejects.toMatchObject({ code: 'ARTIFACT_REQUEST_TOO_LARGE', transient: false });
    await expect(call).rejects.toThrowError(/base64.*S3 reference/s);
  });

  it.each([
    [
      'a 5xx',
      new LambdaServiceException({
        name: 'ServiceException',
        $fault: 'server',
        message: 'boom',
        $metadata: { httpStatusCode: 500 },
      }),
    ],
    ['a broken connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', $metadata: {} })],
  ])('turns %s into a transient error ferry retries in place', async (_, thrown) => {
    lambdaMock.on(GetFunctionConfigurationCommand).rejects(thrown);
    await expect(port.getFunctionConfiguration('orders-api')).rejects.toMatchObject({
      code: 'LAMBDA_UNAVAILABLE',
      transient: true,
    });
  });

  it('refuses to delete anything but a numbered version', async () => {
    await expect(port.deleteVersion('orders-api', '$LATEST')).rejects.toThrowError(/only numbered versions/);
    await expect(port.deleteVersion('orders-api:live', '3')).rejects.toThrowError(/only numbered versions/);
    expect(lambdaMock).not.toHaveReceivedCommand(DeleteFunctionCommand);
  });

  it('deletes a version through its qualified name, so IAM sees function:<name>:<version>', async () => {
    lambdaMock.on(DeleteFunctionCommand).resolves({});
    await port.deleteVersion('orders-api', '3');
    expect(lambdaMock).toHaveReceivedCommandTimes(DeleteFunctionCommand, 1);
    expect(lambdaMock.commandCalls(DeleteFunctionCommand)[0]?.args[0].input).toEqual({ FunctionName: 'orders-api:3' });
  });

  it('translates deleting a version an alias still uses into a conflict', async () => {
    lambdaMock.on(DeleteFunctionCommand).rejects(
      new ResourceConflictException({
        message: 'Unable to delete version because the following aliases reference it: [live]',
        ...meta,
      }),
    );
    await expect(port.deleteVersion('orders-api', '3')).rejects.toMatchObject({ code: 'LAMBDA_VERSION_IN_USE' });
  });

  it('pages through every alias with its routing', async () => {
    lambdaMock
      .on(ListAliasesCommand, { FunctionName: 'orders-api', MaxItems: 50 })
      .resolves({
        Aliases: [
          {
            Name: 'live',
            FunctionVersion: '4',
            RevisionId: 'a',
            RoutingConfig: { AdditionalVersionWeights: { '5': 0.1 } },
          },
        ],
        NextMarker: 'm',
      })
      .on(ListAliasesCommand, { FunctionName: 'orders-api', MaxItems: 50, Marker: 'm' })
      .resolves({ Aliases: [{ Name: 'beta', FunctionVersion: '6', RevisionId: 'b' }] });
    expect(await port.listAliases('orders-api')).toEqual([
      { name: 'live', functionVersion: '4', revisionId: 'a', routing: { '5': 0.1 } },
      { name: 'beta', functionVersion: '6', revisionId: 'b', routing: {} },
    ]);
  });
});

describe('Lambda adapter: traffic', () => {
  it('invokes a version by its qualifier and reports a function error', async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      ExecutedVersion: '8',
      Payload: new TextEncoder().encode('{"errorMessage":"boom"}') as never,
    });
    const result = await port.invoke({ functionName: 'orders-api', qualifier: '8', payload: { smoke: true } });
    expect(result).toEqual({
      statusCode: 200,
      functionError: 'Unhandled',
      executedVersion: '8',
      payload: '{"errorMessage":"boom"}',
    });
    const input = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.Qualifier).toBe('8');
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(new TextDecoder().decode(input?.Payload as Uint8Array)).toBe('{"smoke":true}');
  });

  it('routes a weight to the new version, guarded by the alias RevisionId', async () => {
    lambdaMock.on(UpdateAliasCommand).resolves({
      Name: 'live',
      FunctionVersion: '7',
      RevisionId: 'r2',
      RoutingConfig: { AdditionalVersionWeights: { '8': 0.1 } },
    });
    const alias = await port.updateAlias({
      functionName: 'orders-api',
      alias: 'live',
      version: '7',
      revisionId: 'r1',
      routing: { '8': 0.1 },
    });
    expect(alias.routing).toEqual({ '8': 0.1 });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateAliasCommand, {
      FunctionVersion: '7',
      RevisionId: 'r1',
      RoutingConfig: { AdditionalVersionWeights: { '8': 0.1 } },
    });
  });

  it('says that Lambda refuses weighted routing between versions with different roles, and that no traffic moved', async () => {
    lambdaMock.on(UpdateAliasCommand).rejects(
      new InvalidParameterValueException({
        message: 'Specified versions must be associated with the same execution role',
        $metadata: {},
      }),
    );
    const error = await port
      .updateAlias({ functionName: 'orders-api', alias: 'live', version: '7', revisionId: 'r1', routing: { '8': 0.1 } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRAFFIC_ROUTING_REFUSED' });
    expect((error as Error).message).toMatch(
      /between versions 7 and 8.*same execution role and dead-letter configuration\. No traffic was moved/,
    );
  });
});
