/**
 * What every Lambda operation shares: the service state, the request in hand, and the steps
 * each one starts with (parse the function name, authorize, look the function up).
 */
import {
  type AsyncInvocation,
  AwsError,
  type LambdaServiceDeps,
  type SandboxRequest,
  type SandboxResponse,
} from '../contracts.js';
import { getQualifierAlias } from './aliases.js';
import { type FunctionRef, parseFunctionName } from './arns.js';
import { accessDenied, invalidParameter } from './errors.js';
import { type FunctionRecord, type FunctionStore, getFunction, getVersion, LATEST } from './function-store.js';
import type { HandlerRunner } from './invoke.js';
import { type Json, renderLatest, renderVersion } from './shapes.js';

export interface Invocation {
  readonly accountId: string;
  readonly functionName: string;
  readonly qualifier: string;
  readonly version: string;
  readonly at: number;
}

export interface ServiceState {
  readonly deps: LambdaServiceDeps;
  readonly store: FunctionStore;
  readonly runner: HandlerRunner;
  readonly random: () => number;
  readonly invocations: Invocation[];
  /** `Event` invocations waiting to be taken (settings.asyncInvocations `queue`). */
  readonly asyncQueue: AsyncInvocation[];
}

export interface OperationContext {
  readonly state: ServiceState;
  readonly req: SandboxRequest;
  readonly params: Readonly<Record<string, string>>;
}

export type Operation = (ctx: OperationContext) => Promise<SandboxResponse>;

export function now(ctx: OperationContext): number {
  return ctx.state.deps.clock.now();
}

/** The function the path names, qualified by the Qualifier query parameter where one is given. */
export function pathRef(ctx: OperationContext, qualifier?: string): FunctionRef {
  const raw = ctx.params.FunctionName ?? '';
  return parseFunctionName(raw, ctx.req.caller.accountId, ctx.req.region, qualifier);
}

/** For operations that take no qualifier: a qualified name is refused rather than ignored. */
export function unqualifiedRef(ctx: OperationContext): FunctionRef {
  const ref = pathRef(ctx);
  if (ref.qualifier !== undefined) {
    throw invalidParameter(
      `Unsupported qualifier '${ref.qualifier}' for this operation; pass the unqualified function name.`,
    );
  }
  return ref;
}

/**
 * Identity policy first (AWS evaluates it before looking the function up, so a denied caller
 * learns nothing about existence), then the cross-account rule: without resource-based policies
 * in the sandbox, another account's function is never reachable.
 */
export function authorize(ctx: OperationContext, action: string, resourceArn: string, ref?: FunctionRef): void {
  const { caller } = ctx.req;
  const fullAction = `lambda:${action}`;
  let allowed: boolean;
  try {
    allowed = ctx.state.deps.authorizer.isAllowed(caller, fullAction, resourceArn);
  } catch (error) {
    if (error instanceof AwsError && /^AccessDenied/.test(error.code)) {
      throw accessDenied(caller.arn, fullAction, resourceArn, 'identity-based');
    }
    throw error;
  }
  if (!allowed) throw accessDenied(caller.arn, fullAction, resourceArn, 'identity-based');
  if (ref && ref.accountId !== caller.accountId)
    throw accessDenied(caller.arn, fullAction, resourceArn, 'resource-based');
}

export function lookup(ctx: OperationContext, ref: FunctionRef): FunctionRecord {
  return getFunction(ctx.state.store, ref.accountId, ref.region, ref.name, now(ctx));
}

/** The configuration a qualifier names: $LATEST, a version, or the primary version of an alias. */
export function renderQualified(record: FunctionRecord, qualifier: string | undefined): Json {
  if (qualifier === undefined || qualifier === LATEST) return renderLatest(record);
  if (/^\d+$/.test(qualifier)) return renderVersion(record, getVersion(record, qualifier));
  const alias = getQualifierAlias(record, qualifier);
  if (alias.functionVersion === LATEST) return { ...renderLatest(record), FunctionArn: `${record.arn}:${alias.name}` };
  return renderVersion(record, getVersion(record, alias.functionVersion), alias.name);
}

export function qualifiedSha(record: FunctionRecord, qualifier: string | undefined): string {
  const config = renderQualified(record, qualifier);
  return String(config.CodeSha256);
}
