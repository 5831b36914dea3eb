import { functionArn, parseFunctionName, refArn } from './arns.js';
import { loadCode, readCodeSource } from './code-source.js';
import {
  authorize,
  lookup,
  now,
  type Operation,
  pathRef,
  qualifiedSha,
  renderQualified,
  unqualifiedRef,
} from './context.js';
import { invalidParameter, resourceNotFound, validationError } from './errors.js';
import {
  assertNotUpdating,
  assertRevision,
  assertStorageFor,
  CODE_STORAGE_LIMIT_BYTES,
  codeStorageUsed,
  createFunctionRecord,
  deleteVersion,
  type FunctionConfig,
  type FunctionRecord,
  getFunction,
  publishLatest,
  snapshotLatest,
  sortedVersions,
  startCodeUpdate,
  startConfigUpdate,
} from './function-store.js';
import { paginate } from './pagination.js';
import {
  emptyResponse,
  jsonResponse,
  optionalBoolean,
  optionalNumber,
  optionalObject,
  optionalString,
  optionalStringMap,
  queryInteger,
  queryString,
  readJsonBody,
  requiredString,
} from './routes.js';
import { type Json, renderCodeLocation, renderLatest, renderVersion } from './shapes.js';
import { MAX_UNZIPPED_BYTES, MAX_ZIPPED_UPLOAD_BYTES } from './zip.js';

const rolePattern = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;

function readConfigPatch(body: Json): Partial<FunctionConfig> {
  const role = optionalString(body, 'Role');
  if (role !== undefined && !rolePattern.test(role)) {
    throw validationError(
      `1 validation error detected: Value '${role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+`,
    );
  }
  const timeout = optionalNumber(body, 'Timeout');
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1 || timeout > 900)) {
    throw validationError(
      `1 validation error detected: Value '${timeout}' at 'timeout' failed to satisfy constraint: Member must have value between 1 and 900`,
    );
  }
  const memorySize = optionalNumber(body, 'MemorySize');
  if (memorySize !== undefined && (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240)) {
    throw validationError(
      `1 validation error detected: Value '${memorySize}' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240`,
    );
  }
  const deadLetter = optionalObject(body, 'DeadLetterConfig');
  const environment = optionalObject(body, 'Environment');
  const variables = environment === undefined ? undefined : (optionalStringMap(environment, 'Variables') ?? {});
  return {
    runtime: optionalString(body, 'Runtime'),
    handler: optionalString(body, 'Handler'),
    role,
    description: optionalString(body, 'Description'),
    timeout,
    memorySize,
    environment: variables,
    // An empty DeadLetterConfig (or TargetArn '') removes it.
    deadLetterTargetArn: deadLetter === undefined ? undefined : (optionalString(deadLetter, 'TargetArn') ?? ''),
  } as Partial<FunctionConfig>;
}

export const createFunction: Operation = async (ctx) => {
  const body = readJsonBody(ctx.req);
  const ref = parseFunctionName(requiredString(body, 'FunctionName'), ctx.req.caller.accountId, ctx.req.region);
  authorize(ctx, 'CreateFunction', functionArn(ref.region, ref.accountId, ref.name), ref);
  const patch = readConfigPatch(body);
  if (patch.role === undefined) throw invalidParameter('Role is required.');
  if (patch.runtime === undefined || patch.handler === undefined) {
    throw invalidParameter(
      'Runtime and Handler are mandatory parameters for functions created with deployment packages.',
    );
  }
  const code = await loadCode(ctx, readCodeSource(optionalObject(body, 'Code') ?? {}), 'CreateFunction');
  const config: FunctionConfig = {
    runtime: patch.runtime,
    handler: patch.handler,
    role: patch.role,
    description: patch.description ?? '',
    timeout: patch.timeout ?? 3,
    memorySize: patch.memorySize ?? 128,
    environment: patch.environment ?? {},
    ...(patch.deadLetterTargetArn ? { deadLetterTargetArn: patch.deadLetterTargetArn } : {}),
  };
  const at = now(ctx);
  const record = createFunctionRecord(
    ctx.state.store,
    {
      accountId: ref.accountId,
      region: ref.region,
      name: ref.name,
      code,
      config,
      tags: optionalStringMap(body, 'Tags') ?? {},
    },
    at,
  );
  if (optionalBoolean(body, 'Publish'))
    return jsonResponse(201, renderVersion(record, snapshotLatest(record, undefined, at)));
  return jsonResponse(201, renderLatest(record));
};

export const getFunctionOp: Operation = async (ctx) => {
  const ref = pathRef(ctx, queryString(ctx.req.query, 'Qualifier'));
  authorize(ctx, 'GetFunction', refArn(ref), ref);
  const record = lookup(ctx, ref);
  const configuration = renderQualified(record, ref.qualifier);
  return jsonResponse(200, {
    Configuration: configuration,
    Code: renderCodeLocation(record, qualifiedSha(record, ref.qualifier)),
    Tags: { ...record.tags },
  });
};

export const getFunctionConfiguration: Operation = async (ctx) => {
  const ref = pathRef(ctx, queryString(ctx.req.query, 'Qualifier'));
  authorize(ctx, 'GetFunctionConfiguration', refArn(ref), ref);
  return jsonResponse(200, renderQualified(lookup(ctx, ref), ref.qualifier));
};

export const listFunctions: Operation = async (ctx) => {
  authorize(ctx, 'ListFunctions', '*');
  const allVersions = queryString(ctx.req.query, 'FunctionVersion') === 'ALL';
  const at = now(ctx);
  const records = ctx.state.store
    .list(ctx.req.caller.accountId, ctx.req.region)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((record) => getFunction(ctx.state.store, record.accountId, record.region, record.name, at));
  const items = records.flatMap((record) =>
    allVersions
      ? [renderLatest(record), ...sortedVersions(record).map((v) => renderVersion(record, v))]
      : [renderLatest(record)],
  );
  const { page, nextMarker } = paginate(
    items,
    queryString(ctx.req.query, 'Marker'),
    queryInteger(ctx.req.query, 'MaxItems'),
  );
  return jsonResponse(200, { Functions: page, ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }) });
};

/**
 * UpdateFunctionCode. Preconditions are checked before the package is fetched and again after,
 * because another request may start an update while this one reads S3.
 */
export const updateFunctionCode: Operation = async (ctx) => {
  const body = readJsonBody(ctx.req);
  const ref = unqualifiedRef(ctx);
  authorize(ctx, 'UpdateFunctionCode', refArn(ref), ref);
  const revisionId = optionalString(body, 'RevisionId');
  const checkPreconditions = (): FunctionRecord => {
    const record = lookup(ctx, ref);
    assertNotUpdating(record);
    assertRevision(record.latest.revisionId, revisionId, 'function');
    return record;
  };
  checkPreconditions();
  const code = await loadCode(ctx, readCodeSource(body), 'UpdateFunctionCode');
  const record = checkPreconditions();
  if (optionalBoolean(body, 'DryRun')) {
    return jsonResponse(200, { ...renderLatest(record), CodeSha256: code.sha256, CodeSize: code.size });
  }
  assertStorageFor(ctx.state.store, record.accountId, record.region, code.size - record.latest.code.size);
  const at = now(ctx);
  const outcome = startCodeUpdate(record, code, { now: at, settings: ctx.state.deps.settings });
  const response = renderLatest(record);
  if (!optionalBoolean(body, 'Publish') || outcome === 'Failed') return jsonResponse(200, response);
  // Publish: the same as PublishVersion afterwards, so unchanged code reuses the last version.
  const version = publishLatest(record, undefined, at);
  return jsonResponse(200, { ...response, Version: version.version, FunctionArn: `${record.arn}:${version.version}` });
};

export const updateFunctionConfiguration: Operation = async (ctx) => {
  const body = readJsonBody(ctx.req);
  const ref = unqualifiedRef(ctx);
  authorize(ctx, 'UpdateFunctionConfiguration', refArn(ref), ref);
  const record = lookup(ctx, ref);
  assertNotUpdating(record);
  assertRevision(record.latest.revisionId, optionalString(body, 'RevisionId'), 'function');
  startConfigUpdate(record, readConfigPatch(body), { now: now(ctx), settings: ctx.state.deps.settings });
  return jsonResponse(200, renderLatest(record));
};

export const deleteFunction: Operation = async (ctx) => {
  const ref = pathRef(ctx, queryString(ctx.req.query, 'Qualifier'));
  authorize(ctx, 'DeleteFunction', refArn(ref), ref);
  const record = lookup(ctx, ref);
  if (ref.qualifier === undefined) ctx.state.store.remove(record);
  else deleteVersion(record, ref.qualifier);
  return emptyResponse(204);
};

export const getPolicy: Operation = async (ctx) => {
  const ref = pathRef(ctx, queryString(ctx.req.query, 'Qualifier'));
  authorize(ctx, 'GetPolicy', refArn(ref), ref);
  renderQualified(lookup(ctx, ref), ref.qualifier);
  // The sandbox keeps no resource-based policies; AWS answers this for a function without one.
  throw resourceNotFound('The resource you requested does not exist.');
};

export const getAccountSettings: Operation = async (ctx) => {
  authorize(ctx, 'GetAccountSettings', '*');
  const { accountId } = ctx.req.caller;
  return jsonResponse(200, {
    AccountLimit: {
      TotalCodeSize: CODE_STORAGE_LIMIT_BYTES,
      CodeSizeUnzipped: MAX_UNZIPPED_BYTES,
      CodeSizeZipped: MAX_ZIPPED_UPLOAD_BYTES,
      ConcurrentExecutions: 1000,
      UnreservedConcurrentExecutions: 1000,
    },
    AccountUsage: {
      TotalCodeSize: codeStorageUsed(ctx.state.store, accountId, ctx.req.region),
      FunctionCount: ctx.state.store.list(accountId, ctx.req.region).length,
    },
  });
};
