/**
 * Function names as Lambda accepts them: a name, a name with `:qualifier`, a partial ARN
 * (`<account>:function:<name>`) or a full ARN, each optionally qualified.
 */
import { invalidParameter, resourceNotFound, validationError } from './errors.js';

export interface FunctionRef {
  readonly accountId: string;
  readonly region: string;
  readonly name: string;
  readonly qualifier: string | undefined;
}

const namePattern = /^[a-zA-Z0-9_-]{1,64}$/;
const qualifierPattern = /^(\$LATEST|[a-zA-Z0-9_-]{1,128})$/;
const fullArn = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([^:]+)(?::([^:]+))?$/;
const partialArn = /^(\d{12}):function:([^:]+)(?::([^:]+))?$/;
const nameWithQualifier = /^([^:]+)(?::([^:]+))?$/;

export function functionArn(region: string, accountId: string, name: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
}

export function qualifiedArn(region: string, accountId: string, name: string, qualifier: string): string {
  return `${functionArn(region, accountId, name)}:${qualifier}`;
}

/** The ARN a reference names, qualified when it carries a qualifier (what IAM evaluates). */
export function refArn(ref: FunctionRef): string {
  return ref.qualifier === undefined
    ? functionArn(ref.region, ref.accountId, ref.name)
    : qualifiedArn(ref.region, ref.accountId, ref.name, ref.qualifier);
}

/**
 * Parses a FunctionName as the caller sent it. The account and Region default to the caller's
 * and the request's; a Qualifier parameter must agree with one derived from the name.
 */
export function parseFunctionName(
  raw: string,
  callerAccountId: string,
  region: string,
  qualifierParam?: string,
): FunctionRef {
  const parsed = splitName(raw, callerAccountId, region);
  if (!namePattern.test(parsed.name)) {
    throw validationError(
      `1 validation error detected: Value '${raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?`,
    );
  }
  if (parsed.region !== region) {
    throw resourceNotFound(`Functions from '${parsed.region}' are not reachable in this region ('${region}')`);
  }
  const qualifier = mergeQualifier(parsed.qualifier, emptyToUndefined(qualifierParam));
  if (qualifier !== undefined && !qualifierPattern.test(qualifier)) {
    throw validationError(
      `1 validation error detected: Value '${qualifier}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`,
    );
  }
  return { ...parsed, qualifier };
}

function splitName(raw: string, callerAccountId: string, region: string): FunctionRef {
  const full = fullArn.exec(raw);
  if (full)
    return {
      region: full[1] ?? region,
      accountId: full[2] ?? callerAccountId,
      name: full[3] ?? '',
      qualifier: full[4],
    };
  const partial = partialArn.exec(raw);
  if (partial)
    return { region, accountId: partial[1] ?? callerAccountId, name: partial[2] ?? '', qualifier: partial[3] };
  const plain = nameWithQualifier.exec(raw);
  return { region, accountId: callerAccountId, name: plain?.[1] ?? raw, qualifier: plain?.[2] };
}

function mergeQualifier(derived: string | undefined, given: string | undefined): string | undefined {
  if (derived !== undefined && given !== undefined && derived !== given) {
    throw invalidParameter('The derived qualifier from the function name does not match the specified qualifier.');
  }
  return derived ?? given;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
