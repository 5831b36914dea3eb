/**
 * A small stateful stand-in for one Lambda function behind aws-sdk-client-mock, for unit tests of
 * the engine and handlers. It keeps just enough state (code, RevisionId, update status, versions,
 * one alias) to make the guards real; the full behaviour lives in the sandbox's integration tests.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  InvalidParameterValueException,
  LambdaClient,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

export interface FakeFunction {
  codeSha256: string;
  revisionId: string;
  status: 'Successful' | 'InProgress' | 'Failed';
  /** GetFunction polls left before an InProgress update settles. */
  pollsUntilSettled: number;
  /** When set, the next update settles as Failed with this reason. */
  failNextUpdate?: string;
  versions: { version: string; codeSha256: string; description?: string }[];
  alias?: { version: string; revisionId: string; routing: Record<string, number> };
}

const meta = { $metadata: {} };
export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

export interface FakeLambda {
  readonly mock: AwsClientStub<LambdaClient>;
  readonly fn: FakeFunction;
  /** The next `times` calls of the named command throw `error` instead of running. */
  failNext(command: string, error: Error, times?: number): void;
  /**
   * What Lambda reads for an update by S3 reference (the object version's bytes), or undefined
   * when it does not exist (Lambda then answers InvalidParameterValueException). Set by the test.
   */
  readS3Code?: (bucket: string, key: string, versionId: string) => Uint8Array | undefined;
}

export function createFakeLambda(initialCode = 'b3JpZ2luYWw='): FakeLambda {
  const faults = new Map<string, { error: Error; times: number }>();
  const checkFault = (command: string) => {
    const fault = faults.get(command);
    if (fault && fault.times > 0) {
      fault.times--;
      throw fault.error;
    }
  };
  const fn: FakeFunction = {
    codeSha256: initialCode,
    revisionId: randomUUID(),
    status: 'Successful',
    pollsUntilSettled: 0,
    versions: [],
  };
  const mock = mockClient(LambdaClient);
  const readS3 = (bucket = '', key = '', versionId = ''): Uint8Array => {
    const bytes = fake.readS3Code?.(bucket, key, versionId);
    if (!bytes) {
      throw new InvalidParameterValueException({
        message: `Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: s3://${bucket}/${key} version ${versionId}`,
        ...meta,
      });
    }
    return bytes;
  };
  const config = () => ({
    FunctionName: 'orders-api',
    FunctionArn: 'arn:aws:lambda:eu-west-1:222222222222:function:orders-api',
    Version: '$LATEST',
    CodeSha256: fn.codeSha256,
    RevisionId: fn.revisionId,
    State: 'Active' as const,
    LastUpdateStatus: fn.status,
    ...(fn.status === 'Failed'
      ? {
          LastUpdateStatusReason: 'EniLimitExceeded: too many ENIs',
          LastUpdateStatusReasonCode: 'EniLimitExceeded' as const,
        }
      : {}),
  });
  const conflictIfBusy = () => {
    if (fn.status === 'InProgress')
      throw new ResourceConflictException({ message: 'An update is in progress', ...meta });
  };
  mock.on(GetFunctionCommand).callsFake(() => {
    checkFault('GetFunction');
    if (fn.status === 'InProgress' && fn.pollsUntilSettled-- <= 0) {
      fn.status = fn.failNextUpdate ? 'Failed' : 'Successful';
      fn.failNextUpdate = undefined;
      fn.revisionId = randomUUID();
    }
    return { Configuration: config() };
  });
  mock.on(UpdateFunctionCodeCommand).callsFake((input) => {
    checkFault('UpdateFunctionCode');
    conflictIfBusy();
    if (input.RevisionId && input.RevisionId !== fn.revisionId) {
      throw new PreconditionFailedException({
        message: 'The Revision Id provided does not match the latest Revision Id.',
        ...meta,
      });
    }
    fn.codeSha256 = sha256(input.ZipFile ?? readS3(input.S3Bucket, input.S3Key, input.S3ObjectVersion));
    fn.status = 'InProgress';
    fn.pollsUntilSettled = 1;
    fn.revisionId = randomUUID();
    return config();
  });
  mock.on(PublishVersionCommand).callsFake((input) => {
    checkFault('PublishVersion');
    conflictIfBusy();
    if (input.RevisionId && input.RevisionId !== fn.revisionId) {
      throw new PreconditionFailedException({ message: 'RevisionId mismatch', ...meta });
    }
    if (input.CodeSha256 && input.CodeSha256 !== fn.codeSha256) {
      // What Lambda answers for a CodeSha256 mismatch (seen in practice; see aws-facts.md).
      throw new InvalidParameterValueException({ message: 'CodeSHA256 provided does not match the code', ...meta });
    }
    const last = fn.versions.at(-1);
    if (last && last.codeSha256 === fn.codeSha256) return { ...config(), Version: last.version };
    const version = String(fn.versions.length + 1);
    fn.versions.push({
      version,
      codeSha256: fn.codeSha256,
      ...(input.Description ? { description: input.Description } : {}),
    });
    return { ...config(), Version: version, Description: input.Description };
  });
  mock.on(ListVersionsByFunctionCommand).callsFake(() => {
    checkFault('ListVersionsByFunction');
    return listVersions();
  });
  const listVersions = () => ({
    Versions: [
      { Version: '$LATEST', CodeSha256: fn.codeSha256 },
      ...fn.versions.map((v) => ({ Version: v.version, CodeSha256: v.codeSha256, Description: v.description })),
    ],
  });
  const aliasOut = () => ({
    Name: 'live',
    FunctionVersion: fn.alias?.version,
    RevisionId: fn.alias?.revisionId,
    RoutingConfig: { AdditionalVersionWeights: fn.alias?.routing ?? {} },
  });
  mock.on(GetAliasCommand).callsFake(() => {
    checkFault('GetAlias');
    if (!fn.alias) throw new ResourceNotFoundException({ message: 'Alias not found: live', ...meta });
    return aliasOut();
  });
  mock.on(CreateAliasCommand).callsFake((input) => {
    checkFault('CreateAlias');
    if (fn.alias) throw new ResourceConflictException({ message: 'Alias already exists: live', ...meta });
    fn.alias = { version: input.FunctionVersion ?? '', revisionId: randomUUID(), routing: {} };
    return aliasOut();
  });
  mock.on(UpdateAliasCommand).callsFake((input) => {
    checkFault('UpdateAlias');
    if (!fn.alias) throw new ResourceNotFoundException({ message: 'Alias not found: live', ...meta });
    if (input.RevisionId && input.RevisionId !== fn.alias.revisionId) {
      throw new PreconditionFailedException({ message: 'RevisionId mismatch', ...meta });
    }
    fn.alias = {
      version: input.FunctionVersion ?? fn.alias.version,
      revisionId: randomUUID(),
      routing: { ...(input.RoutingConfig?.AdditionalVersionWeights ?? {}) },
    };
    return aliasOut();
  });
  const fake: FakeLambda = { mock, fn, failNext: (command, error, times = 1) => faults.set(command, { error, times }) };
  return fake;
}
