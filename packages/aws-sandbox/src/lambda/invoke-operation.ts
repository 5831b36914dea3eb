/**
 * Invoke: resolve which version serves the call (weighted alias routing), record it, and run the
 * handler when the sandbox is set to.
 */
import { AwsError } from '../contracts.js';
import { getQualifierAlias, pickAliasVersion } from './aliases.js';
import { refArn } from './arns.js';
import { authorize, lookup, now, type Operation, pathRef } from './context.js';
import {
  type CodeBlob,
  type FunctionConfig,
  type FunctionRecord,
  getVersion,
  LATEST,
  servingLatest,
} from './function-store.js';
import { queryString } from './routes.js';

/** Invoke payloads: 6 MB for synchronous calls (Lambda quotas page). */
const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;

interface ResolvedTarget {
  readonly version: string;
  readonly code: CodeBlob;
  readonly config: FunctionConfig;
}

/** Which version serves a call: $LATEST (its previous code while updating), a version, or an alias's weighted pick. */
function resolveInvokeTarget(
  record: FunctionRecord,
  qualifier: string | undefined,
  random: () => number,
): ResolvedTarget {
  if (qualifier === undefined || qualifier === LATEST) return { version: LATEST, ...servingLatest(record) };
  const versionName = /^\d+$/.test(qualifier)
    ? qualifier
    : pickAliasVersion(getQualifierAlias(record, qualifier), random);
  if (versionName === LATEST) return { version: LATEST, ...servingLatest(record) };
  const version = getVersion(record, versionName);
  return { version: version.version, code: version.code, config: version.config };
}

export const invoke: Operation = async (ctx) => {
  const ref = pathRef(ctx, queryString(ctx.req.query, 'Qualifier'));
  authorize(ctx, 'InvokeFunction', refArn(ref), ref);
  const record = lookup(ctx, ref);
  const invocationType = ctx.req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
  if (ctx.req.body.length > MAX_INVOKE_PAYLOAD_BYTES) {
    throw new AwsError(
      'RequestTooLargeException',
      413,
      `Request must be smaller than ${MAX_INVOKE_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
    );
  }
  const event = parseEvent(ctx.req.body);
  const target = resolveInvokeTarget(record, ref.qualifier, ctx.state.random);
  const executed = { 'x-amz-executed-version': target.version };
  if (invocationType === 'DryRun') return { status: 204, headers: executed };
  ctx.state.invocations.push({
    accountId: record.accountId,
    functionName: record.name,
    qualifier: ref.qualifier ?? LATEST,
    version: target.version,
    at: now(ctx),
  });
  const run = () =>
    ctx.state.runner.run(
      {
        functionName: record.name,
        functionArn: refArn(ref),
        version: target.version,
        region: record.region,
        code: target.code,
        config: target.config,
      },
      event,
    );
  if (invocationType === 'Event') {
    if (ctx.state.deps.settings.executeHandlers) void run().catch(() => undefined);
    return { status: 202, headers: executed };
  }
  if (!ctx.state.deps.settings.executeHandlers) {
    return { status: 200, headers: { ...executed, 'content-type': 'application/json' }, body: 'null' };
  }
  const outcome = await run();
  const headers: Record<string, string> = { ...executed, 'content-type': 'application/json' };
  if (outcome.functionError !== undefined) headers['x-amz-function-error'] = outcome.functionError;
  if (ctx.req.headers['x-amz-log-type'] === 'Tail') {
    headers['x-amz-log-result'] = Buffer.from(Buffer.from(outcome.logs).subarray(-4096)).toString('base64');
  }
  return { status: 200, headers, body: outcome.payload };
};

function parseEvent(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AwsError(
      'InvalidRequestContentException',
      400,
      `Could not parse request body into json: ${String(error)}`,
    );
  }
}
