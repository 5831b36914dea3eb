/**
 * The Lambda adapter: the only place that sends Lambda commands. It maps SDK shapes to ferry's
 * plain model and SDK exceptions to ferry's typed errors; unknown exceptions are rethrown untouched.
 */
import {
  type AliasConfiguration,
  CodeStorageExceededException,
  CreateAliasCommand,
  DeleteFunctionCommand,
  type FunctionConfiguration,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  InvokeCommand,
  type LambdaClient,
  LambdaServiceException,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  RequestTooLargeException,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import {
  AccessError,
  ArtifactError,
  ConflictError,
  DeployFailedError,
  describeError,
  type ErrorContext,
  InputError,
  isTransientAwsError,
  ServiceUnavailableError,
  ThrottledError,
} from '../core/errors.js';
import type { AliasState, FunctionState, PublishedVersion, UpdateStatus } from '../core/lambda-model.js';

export type CodeInput =
  | { readonly zipFile: Uint8Array }
  | { readonly s3Bucket: string; readonly s3Key: string; readonly s3ObjectVersion: string };

/** The Lambda calls ferry makes, and nothing else. */
export interface LambdaPort {
  /**
   * A function's (or a version's) configuration. GetFunctionConfiguration rather than GetFunction:
   * ferry never needs GetFunction's presigned code download URL, so the deploy role is not granted it.
   */
  getFunctionConfiguration(functionName: string, qualifier?: string): Promise<FunctionState>;
  getAlias(functionName: string, alias: string): Promise<AliasState | undefined>;
  listVersions(functionName: string): Promise<PublishedVersion[]>;
  updateFunctionCode(input: { functionName: string; revisionId: string; code: CodeInput }): Promise<FunctionState>;
  publishVersion(input: {
    functionName: string;
    codeSha256: string;
    revisionId: string;
    description: string;
  }): Promise<FunctionState>;
  createAlias(input: {
    functionName: string;
    alias: string;
    version: string;
    description?: string;
    routing?: Readonly<Record<string, number>>;
  }): Promise<AliasState>;
  updateAlias(input: {
    functionName: string;
    alias: string;
    version: string;
    revisionId?: string;
    description?: string;
    routing?: Readonly<Record<string, number>>;
  }): Promise<AliasState>;
  /** Every alias of the function, with its routing (pruning must not delete what they point at). */
  listAliases(functionName: string): Promise<AliasState[]>;
  deleteVersion(functionName: string, version: string): Promise<void>;
  /** Invokes synchronously (a traffic hook): a qualifier runs exactly that version. */
  invoke(input: { functionName: string; qualifier?: string; payload: unknown }): Promise<InvokeResult>;
}

export interface InvokeResult {
  readonly statusCode: number;
  /** Set when the function failed (Handled or Unhandled): the hook did not pass. */
  readonly functionError?: string;
  readonly executedVersion?: string;
  /** The response body as text, cut to 1,000 characters for reasons and logs. */
  readonly payload: string;
}

/** Where the client points, for error context only. */
export interface LambdaTargetContext {
  readonly accountId: string;
  readonly region: string;
  readonly roleArn?: string;
}

export function createLambdaPort(client: LambdaClient, where: LambdaTargetContext): LambdaPort {
  const ctx = (functionName: string, extra: ErrorContext = {}): ErrorContext => ({
    account: where.accountId,
    region: where.region,
    function: functionName,
    ...extra,
  });

  return {
    async getFunctionConfiguration(functionName, qualifier) {
      try {
        const out = await client.send(
          new GetFunctionConfigurationCommand({
            FunctionName: functionName,
            ...(qualifier ? { Qualifier: qualifier } : {}),
          }),
        );
        return toFunctionState(out, functionName);
      } catch (error) {
        throw translate(error, 'GetFunctionConfiguration', ctx(functionName, { qualifier }), where);
      }
    },

    async getAlias(functionName, alias) {
      try {
        return toAliasState(await client.send(new GetAliasCommand({ FunctionName: functionName, Name: alias })));
      } catch (error) {
        if (error instanceof ResourceNotFoundException && /alias/i.test(error.message)) return undefined;
        throw translate(error, 'GetAlias', ctx(functionName, { alias }), where);
      }
    },

    async listVersions(functionName) {
      const versions: PublishedVersion[] = [];
      let marker: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListVersionsByFunctionCommand({
              FunctionName: functionName,
              MaxItems: 50,
              ...(marker ? { Marker: marker } : {}),
            }),
          );
          for (const v of page.Versions ?? []) {
            if (v.Version && v.CodeSha256) {
              versions.push({
                version: v.Version,
                codeSha256: v.CodeSha256,
                ...(v.Description ? { description: v.Description } : {}),
              });
            }
          }
          marker = page.NextMarker;
        } while (marker);
        return versions;
      } catch (error) {
        throw translate(error, 'ListVersionsByFunction', ctx(functionName), where);
      }
    },

    async updateFunctionCode({ functionName, revisionId, code }) {
      const codeParams =
        'zipFile' in code
          ? { ZipFile: code.zipFile }
          : { S3Bucket: code.s3Bucket, S3Key: code.s3Key, S3ObjectVersion: code.s3ObjectVersion };
      try {
        const out = await client.send(
          new UpdateFunctionCodeCommand({ FunctionName: functionName, RevisionId: revisionId, ...codeParams }),
        );
        return toFunctionState(out, functionName);
      } catch (error) {
        throw translate(error, 'UpdateFunctionCode', ctx(functionName, { revisionId }), where);
      }
    },

    async publishVersion({ functionName, codeSha256, revisionId, description }) {
      try {
        const out = await client.send(
          new PublishVersionCommand({
            FunctionName: functionName,
            CodeSha256: codeSha256,
            RevisionId: revisionId,
            Description: description,
          }),
        );
        return toFunctionState(out, functionName);
      } catch (error) {
        throw translate(error, 'PublishVersion', ctx(functionName, { revisionId, codeSha256 }), where);
      }
    },

    async createAlias({ functionName, alias, version, description, routing }) {
      try {
        const out = await client.send(
          new CreateAliasCommand({
            FunctionName: functionName,
            Name: alias,
            FunctionVersion: version,
            ...(description ? { Description: description } : {}),
            ...(routing ? { RoutingConfig: { AdditionalVersionWeights: { ...routing } } } : {}),
          }),
        );
        return toAliasState(out);
      } catch (error) {
        throw translate(error, 'CreateAlias', ctx(functionName, { alias, version }), where);
      }
    },

    async updateAlias({ functionName, alias, version, revisionId, description, routing }) {
      try {
        const out = await client.send(
          new UpdateAliasCommand({
            FunctionName: functionName,
            Name: alias,
            FunctionVersion: version,
            ...(revisionId ? { RevisionId: revisionId } : {}),
            ...(description ? { Description: description } : {}),
            // An empty weight map clears any canary routing left by an earlier deployment.
            RoutingConfig: { AdditionalVersionWeights: { ...(routing ?? {}) } },
          }),
        );
        return toAliasState(out);
      } catch (error) {
        const routedVersion = Object.keys(routing ?? {})[0];
        throw translate(error, 'UpdateAlias', ctx(functionName, { alias, version, routedVersion }), where);
      }
    },

    async listAliases(functionName) {
      const aliases: AliasState[] = [];
      let marker: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListAliasesCommand({ FunctionName: functionName, MaxItems: 50, ...(marker ? { Marker: marker } : {}) }),
          );
          for (const a of page.Aliases ?? []) aliases.push(toAliasState(a));
          marker = page.NextMarker;
        } while (marker);
        return aliases;
      } catch (error) {
        throw translate(error, 'ListAliases', ctx(functionName), where);
      }
    },

    async deleteVersion(functionName, version) {
      if (!/^\d+$/.test(version) || functionName.includes(':')) {
        throw new InputError('VERSION_INVALID', `Refusing to delete '${version}': only numbered versions are pruned.`);
      }
      try {
        // The version goes into FunctionName (name:version), so IAM evaluates the qualified ARN: the
        // target role allows DeleteFunction only on function:<name>:*, never on the function itself.
        await client.send(new DeleteFunctionCommand({ FunctionName: `${functionName}:${version}` }));
      } catch (error) {
        throw translate(error, 'DeleteFunction', ctx(functionName, { version }), where);
      }
    },

    async invoke({ functionName, qualifier, payload }) {
      try {
        const out = await client.send(
          new InvokeCommand({
            FunctionName: functionName,
            ...(qualifier ? { Qualifier: qualifier } : {}),
            InvocationType: 'RequestResponse',
            Payload: new TextEncoder().encode(JSON.stringify(payload ?? {})),
          }),
        );
        return {
          statusCode: out.StatusCode ?? 0,
          ...(out.FunctionError ? { functionError: out.FunctionError } : {}),
          ...(out.ExecutedVersion ? { executedVersion: out.ExecutedVersion } : {}),
          payload: new TextDecoder().decode(out.Payload ?? new Uint8Array()).slice(0, 1000),
        };
      } catch (error) {
        throw translate(error, 'InvokeFunction', ctx(functionName, { qualifier }), where);
      }
    },
  };
}

/** ferry invoking its own function asynchronously: a stage's shard or continuation (see core/shard-plan.ts). */
export interface SelfInvokePort {
  /** InvocationType Event: Lambda queues the event and answers 202; it is delivered at least once. */
  invokeEvent(functionName: string, payload: unknown): Promise<void>;
}

export function createSelfInvoker(client: LambdaClient, where: LambdaTargetContext): SelfInvokePort {
  return {
    async invokeEvent(functionName, payload) {
      try {
        const out = await client.send(
          new InvokeCommand({
            FunctionName: functionName,
            InvocationType: 'Event',
            Payload: new TextEncoder().encode(JSON.stringify(payload)),
          }),
        );
        if (out.StatusCode !== 202) {
          throw new ServiceUnavailableError(
            'SELF_INVOKE_NOT_ACCEPTED',
            `Lambda answered ${out.StatusCode ?? 'nothing'} instead of 202 to ferry's asynchronous invocation of ${functionName}.`,
            { context: { function: functionName } },
          );
        }
      } catch (error) {
        if (error instanceof ServiceUnavailableError) throw error;
        throw translate(error, 'InvokeFunction', { function: functionName }, where);
      }
    },
  };
}

function toFunctionState(config: FunctionConfiguration | undefined, functionName: string): FunctionState {
  return {
    functionName: config?.FunctionName ?? functionName,
    functionArn: config?.FunctionArn ?? '',
    version: config?.Version ?? '$LATEST',
    codeSha256: config?.CodeSha256 ?? '',
    revisionId: config?.RevisionId ?? '',
    ...(config?.LastUpdateStatus ? { lastUpdateStatus: config.LastUpdateStatus as UpdateStatus } : {}),
    ...(config?.LastUpdateStatusReason ? { lastUpdateStatusReason: config.LastUpdateStatusReason } : {}),
    ...(config?.LastUpdateStatusReasonCode ? { lastUpdateStatusReasonCode: config.LastUpdateStatusReasonCode } : {}),
    ...(config?.State ? { state: config.State } : {}),
    ...(config?.Description ? { description: config.Description } : {}),
  };
}

function toAliasState(alias: AliasConfiguration): AliasState {
  return {
    name: alias.Name ?? '',
    functionVersion: alias.FunctionVersion ?? '',
    revisionId: alias.RevisionId ?? '',
    routing: { ...(alias.RoutingConfig?.AdditionalVersionWeights ?? {}) },
    ...(alias.Description ? { description: alias.Description } : {}),
  };
}

/** Maps Lambda exceptions to ferry's errors; anything unrecognised is returned untouched. */
function translate(error: unknown, operation: string, context: ErrorContext, where: LambdaTargetContext): unknown {
  const options = { cause: error, context: { ...context, operation } };
  const fn = `${context.function} in account ${where.accountId} (${where.region})`;
  if (error instanceof ResourceConflictException) return translateConflict(error, operation, fn, options);
  if (error instanceof PreconditionFailedException) {
    return new ConflictError(
      'LAMBDA_REVISION_CHANGED',
      `${operation} on ${fn} was refused because the function or alias changed since ferry read it (RevisionId). Something else is deploying it.`,
      options,
    );
  }
  if (error instanceof TooManyRequestsException) {
    return new ThrottledError(
      'LAMBDA_THROTTLED',
      `Lambda throttled ${operation} on ${fn}. Fewer concurrent deployments into this account will help.`,
      options,
    );
  }
  // Lambda's AccessDeniedException has no modelled class: it arrives as the service's base exception.
  if (error instanceof LambdaServiceException && error.name === 'AccessDeniedException') {
    return new AccessError(
      'LAMBDA_ACCESS_DENIED',
      `The deploy role ${where.roleArn ?? ''} may not call lambda:${operation} on ${fn}: ${error.message}. Grant it in the target-account role (templates/target-account-role.yml).`,
      options,
    );
  }
  if (error instanceof ResourceNotFoundException) {
    return new InputError(
      'FUNCTION_NOT_FOUND',
      `${fn} was not found (${error.message}). Check the target's function name, account and region in the configuration.`,
      options,
    );
  }
  if (error instanceof CodeStorageExceededException) {
    return new DeployFailedError(
      'LAMBDA_CODE_STORAGE_EXCEEDED',
      `Account ${where.accountId} is over Lambda's code storage quota. Prune old versions (lower keepVersions) and redeploy.`,
      options,
    );
  }
  // 413 from Lambda's front end: the request body (a ZipFile is base64 inside JSON, a third larger)
  // is over Lambda's request limit. Not modelled for UpdateFunctionCode, so it is known by name and
  // status. Sending it again cannot succeed.
  if (
    error instanceof RequestTooLargeException ||
    (error instanceof LambdaServiceException &&
      (error.name === 'RequestEntityTooLargeException' || error.$metadata?.httpStatusCode === 413))
  ) {
    if (operation === 'UpdateFunctionCode') {
      return new ArtifactError(
        'ARTIFACT_REQUEST_TOO_LARGE',
        `Lambda refused the package for ${fn} as too large for a direct upload (HTTP 413): sent inline, a zip is base64-encoded and must stay under Lambda's request limit, which a zip near 50 MB exceeds. Deploy it by S3 reference instead, which ferry does whenever the versioned artifact bucket is in the function's Region.`,
        options,
      );
    }
  }
  if (error instanceof RequestTooLargeException) {
    return new ArtifactError(
      'ARTIFACT_TOO_LARGE',
      `Lambda refused the package for ${fn} as too large: ${error.message}.`,
      options,
    );
  }
  if (error instanceof InvalidParameterValueException) {
    if (/S3 Error Code: (AccessDenied|AllAccessDisabled)/.test(error.message)) {
      return new AccessError(
        'ARTIFACT_S3_ACCESS_DENIED',
        `Lambda could not read the artifact from S3 as the deploy role for ${fn}: ${error.message}. The artifact bucket's policy must allow s3:GetObject and s3:GetObjectVersion to ${where.roleArn ?? 'the deploy role'}, and the role's own policy must allow them too.`,
        options,
      );
    }
    if (/PermanentRedirect/.test(error.message)) {
      return new AccessError(
        'ARTIFACT_BUCKET_WRONG_REGION',
        `Lambda could not read the artifact for ${fn}: the bucket is not in ${where.region}. Lambda reads S3 references only from a bucket in the function's Region.`,
        options,
      );
    }
    if (
      (operation === 'UpdateAlias' || operation === 'CreateAlias') &&
      /execution role|dead.?letter|same .*config/i.test(error.message)
    ) {
      return new DeployFailedError(
        'TRAFFIC_ROUTING_REFUSED',
        `Lambda refuses weighted routing on alias ${context.alias} of ${fn} between versions ${context.version} and ${context.routedVersion ?? 'the new one'}: ${error.message}. Both versions must have the same execution role and dead-letter configuration. No traffic was moved; make them equal and redeploy, or deploy with --traffic allAtOnce.`,
        options,
      );
    }
    if (operation === 'PublishVersion' && /CodeSha256|sha256/i.test(error.message)) {
      return new ConflictError(
        'LAMBDA_CODE_CHANGED',
        `PublishVersion on ${fn} was refused: $LATEST no longer holds the artifact (${error.message}). Something else changed the code.`,
        options,
      );
    }
    return new DeployFailedError('LAMBDA_INVALID_PARAMETER', `${operation} on ${fn} failed: ${error.message}`, options);
  }
  // The Lambda client makes one attempt (ferry retries in place, paced): a 5xx or a broken
  // connection, as the SDK classifies it, becomes a typed transient error ferry's retry knows.
  if (isTransientAwsError(error)) {
    return new ServiceUnavailableError(
      'LAMBDA_UNAVAILABLE',
      `Lambda failed ${operation} on ${fn} on its side or the connection broke (${describeError(error)}); ferry retries.`,
      options,
    );
  }
  return error;
}

/**
 * What a ResourceConflictException (409) means. Lambda's error carries no subtype: its `Type`
 * field is the fault side ("User"), the same for every conflict, so the message is all AWS gives.
 * These are the only message tests in ferry; each is pinned by a unit test with AWS's wording.
 */
export const ConflictKind = {
  UpdateInProgress: 'update-in-progress',
  AliasExists: 'alias-exists',
  VersionInUse: 'version-in-use',
  Other: 'other',
} as const;
export type ConflictKind = (typeof ConflictKind)[keyof typeof ConflictKind];

export function classifyResourceConflict(message: string): ConflictKind {
  // "The operation cannot be performed at this time. An update is in progress for resource: <arn>"
  if (/\bupdate is in progress\b/i.test(message)) return ConflictKind.UpdateInProgress;
  // CreateAlias: "Alias already exists: <alias arn>"
  if (/\balias already exists\b/i.test(message)) return ConflictKind.AliasExists;
  // DeleteFunction of a version: "Unable to delete version because the following aliases reference it: [live]"
  if (/\baliases reference it\b/i.test(message)) return ConflictKind.VersionInUse;
  return ConflictKind.Other;
}

function translateConflict(
  error: ResourceConflictException,
  operation: string,
  fn: string,
  options: { cause: unknown; context: ErrorContext },
): ConflictError {
  switch (classifyResourceConflict(error.message)) {
    case ConflictKind.UpdateInProgress:
      return new ConflictError(
        'LAMBDA_UPDATE_IN_PROGRESS',
        `${operation} on ${fn} conflicted: ${error.message}. Another update is in progress; ferry retries, and if this persists wait for it to finish.`,
        options,
      );
    case ConflictKind.AliasExists:
      return new ConflictError(
        'LAMBDA_ALIAS_EXISTS',
        `${operation} on ${fn} found the alias already created (${error.message}); ferry re-reads it and moves it instead.`,
        options,
      );
    case ConflictKind.VersionInUse:
      return new ConflictError(
        'LAMBDA_VERSION_IN_USE',
        `${operation} on ${fn} refused: an alias points at this version (${error.message}). It is kept.`,
        options,
      );
    default:
      return new ConflictError(
        'LAMBDA_RESOURCE_CONFLICT',
        `${operation} on ${fn} conflicted: ${error.message}. ferry retries; if this persists, look for another tool changing the function.`,
        options,
      );
  }
}
