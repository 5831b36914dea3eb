/**
 * Invoke: resolve which version serves the call (weighted alias routing), record it, and run the
 * handler when the sandbox is set to.
 */
import { AwsError } from '../contracts.js';
import { getQualifierAlias, pickAliasVersion, type RoutingChoice } from './aliases.js';
import { refArn } from './arns.js';
import { authorize, lookup, now, type Operation, type OperationContext, pathRef } from './context.js';
import {
  type CodeBlob,
  type FunctionConfig,
  type FunctionRecord,
  getVersion,
  LATEST,
  servingLatest,
} from './function-store.js';
import type { InvokeOutcome } from './invoke.js';
import { queryString } from './routes.js';

/** Invoke payloads: 6 MB for synchronous calls, 1 MB for asynchronous ones (Invoke API reference). */
const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;
const MAX_EVENT_PAYLOAD_BYTES = 1024 * 1024;

interface ResolvedTarget {
  readonly version: string;
  readonly code: CodeBlob;
  readonly config: FunctionConfig;
}

/** Which version serves a call: $LATEST (its previous code while updating), a version, or an alias's weighted pick. */
function resolveInvokeTarget(
  record: FunctionRecord,
  qualifier: string | undefined,
  routing: RoutingChoice,
): ResolvedTarget {
  if (qualifier === undefined || qualifier === LATEST) return { version: LATEST, ...servingLatest(record) };
  const versionName = /^\d+$/.test(qualifier)
    ? qualifier
    : pickAliasVersion(getQualifierAlias(record, qualifier), routing);
  if (versionName === LATEST) return { version: LATEST, ...servingLatest(record) };
  const version = getVersion(record, versionName);
  return { version: version.version, code: version.code, config: version.config };
}

export const invoke: Operation = async (ctx) => {
  const ref = pathRef(ctx, queryString(ctx.req.query, 'Qualifier'));
  authorize(ctx, 'InvokeFunction', refArn(ref), ref);
  const record = lookup(ctx, ref);
  const invocationType = ctx.req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
  const maxBytes = invocationType === 'Event' ? MAX_EVENT_PAYLOAD_BYTES : MAX_INVOKE_PAYLOAD_BYTES;
  if (ctx.req.body.length > maxBytes) {
    throw new AwsError(
      'RequestTooLargeException',
      413,
      `Request must be smaller than ${maxBytes} bytes for the InvokeFunction operation`,
    );
  }
  const event = parseEvent(ctx.req.body);
  const { settings } = ctx.state.deps;
  const target = resolveInvokeTarget(record, ref.qualifier, {
    mode: settings.weightedRouting ?? 'random',
    random: ctx.state.random,
  });
  const executed = { 'x-amz-executed-version': target.version };
  if (invocationType === 'DryRun') return { status: 204, headers: executed };
  const startedAt = now(ctx);
  ctx.state.invocations.push({
    accountId: record.accountId,
    functionName: record.name,
    qualifier: ref.qualifier ?? LATEST,
    version: target.version,
    at: startedAt,
  });
  const metrics = { record, qualifier: ref.qualifier, executedVersion: target.version, at: startedAt };
  const run = async (): Promise<InvokeOutcome> => {
    const began = performance.now();
    const outcome = await ctx.state.runner.run(
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
    publishInvocationMetrics(ctx, metrics, {
      failed: outcome.functionError !== undefined,
      durationMs: performance.now() - began,
    });
    return outcome;
  };
  if (invocationType === 'Event') {
    if (settings.asyncInvocations === 'queue') {
      ctx.state.asyncQueue.push({
        accountId: record.accountId,
        region: record.region,
        functionName: record.name,
        qualifier: ref.qualifier ?? LATEST,
        version: target.version,
        payload: event,
        at: startedAt,
      });
      publishInvocationMetrics(ctx, metrics, { failed: false });
      return { status: 202, headers: executed };
    }
    if (settings.executeHandlers) void run().catch(() => undefined);
    else publishInvocationMetrics(ctx, metrics, { failed: false });
    return { status: 202, headers: executed };
  }
  if (!settings.executeHandlers) {
    publishInvocationMetrics(ctx, metrics, { failed: false });
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

/**
 * Lambda's invocation metrics ("Types of metrics for Lambda functions"): Invocations 1 per call,
 * Errors 1 when the function failed, Duration in ms, stamped with the invocation's start, under
 * each dimension set Lambda publishes: none (Region), FunctionName, FunctionName+Resource for a
 * qualified call (`fn:alias` or `fn:version`), and FunctionName+Resource+ExecutedVersion for a
 * call through an alias (which version of a weighted alias served).
 */
function publishInvocationMetrics(
  ctx: OperationContext,
  call: { record: FunctionRecord; qualifier: string | undefined; executedVersion: string; at: number },
  result: { failed: boolean; durationMs?: number },
): void {
  const sink = ctx.state.deps.metrics;
  if (!sink) return;
  const { record, qualifier } = call;
  const dimensionSets: Array<Record<string, string>> = [{}, { FunctionName: record.name }];
  if (qualifier !== undefined) {
    const resource = { FunctionName: record.name, Resource: `${record.name}:${qualifier}` };
    dimensionSets.push(resource);
    if (!/^\d+$/.test(qualifier) && qualifier !== LATEST) {
      dimensionSets.push({ ...resource, ExecutedVersion: call.executedVersion });
    }
  }
  const values: Array<[string, number, string]> = [
    ['Invocations', 1, 'Count'],
    ['Errors', result.failed ? 1 : 0, 'Count'],
  ];
  if (result.durationMs !== undefined) values.push(['Duration', result.durationMs, 'Milliseconds']);
  for (const dimensions of dimensionSets) {
    for (const [metricName, value, unit] of values) {
      sink.record({
        accountId: record.accountId,
        region: record.region,
        namespace: 'AWS/Lambda',
        metricName,
        dimensions,
        value,
        unit,
        at: call.at,
      });
    }
  }
}

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
