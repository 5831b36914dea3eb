/**
 * IAM policy documents and their evaluation, as the IAM User Guide describes it ("Policy
 * evaluation logic"): an explicit Deny wins, otherwise some Allow is needed. Only the parts ferry's
 * policies use are supported; anything else is rejected when the policy is stored, so an
 * unsupported policy never silently grants or denies.
 */
import { AwsError } from './contracts.js';

type OneOrMany<T> = T | T[];

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: OneOrMany<string>;
  NotAction?: OneOrMany<string>;
  Resource?: OneOrMany<string>;
  NotResource?: OneOrMany<string>;
  /** Only in resource-based policies (trust policies, bucket policies). */
  Principal?: '*' | Record<string, OneOrMany<string>>;
  Condition?: Record<string, Record<string, OneOrMany<string | boolean>>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: OneOrMany<PolicyStatement>;
}

/** The principal a request is evaluated for. */
export interface PolicyPrincipal {
  readonly accountId: string;
  /** Caller ARN (root, user or assumed-role session). */
  readonly arn: string;
  /** For assumed-role sessions, the role's ARN. */
  readonly roleArn?: string;
}

export interface PolicyRequest {
  readonly action: string;
  readonly resource: string;
  readonly principal: PolicyPrincipal;
  /** Condition keys, lower-cased names (`sts:externalid`, `aws:principalarn`…). */
  readonly keys: Readonly<Record<string, string | undefined>>;
}

/**
 * `Allow` from an identity policy, or from a resource policy that names the caller itself;
 * `AllowAccount` from a resource policy that names the caller's account, which only delegates to
 * that account's identity policies.
 */
export const Decision = {
  Deny: 'Deny',
  Allow: 'Allow',
  AllowAccount: 'AllowAccount',
  NoMatch: 'NoMatch',
} as const;
export type Decision = (typeof Decision)[keyof typeof Decision];

const CONDITION_OPERATORS = new Set([
  'stringequals',
  'stringnotequals',
  'stringequalsignorecase',
  'stringnotequalsignorecase',
  'stringlike',
  'stringnotlike',
  'arnequals',
  'arnlike',
  'arnnotequals',
  'arnnotlike',
  'bool',
]);

/** Parses and validates a policy; `MalformedPolicyDocument` (400) names what is wrong. */
export function parsePolicy(input: string | PolicyDocument, errorCode = 'MalformedPolicyDocument'): PolicyDocument {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch {
      throw new AwsError(errorCode, 400, 'Policies must be valid JSON');
    }
  }
  if (!doc || typeof doc !== 'object' || !('Statement' in doc)) {
    throw new AwsError(errorCode, 400, 'Missing required field Statement');
  }
  const policy = doc as PolicyDocument;
  for (const statement of listStatements(policy)) validateStatement(statement, errorCode);
  return policy;
}

function validateStatement(statement: PolicyStatement, errorCode: string): void {
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
    throw new AwsError(errorCode, 400, 'Statement Effect must be Allow or Deny');
  }
  if (statement.Action === undefined && statement.NotAction === undefined) {
    throw new AwsError(errorCode, 400, 'Statement is missing Action or NotAction');
  }
  for (const [operator] of Object.entries(statement.Condition ?? {})) {
    const base = operator.toLowerCase().replace(/ifexists$/, '');
    if (!CONDITION_OPERATORS.has(base)) {
      throw new AwsError(errorCode, 400, `Condition operator ${operator} is not supported by the sandbox`);
    }
  }
}

export function listStatements(policy: PolicyDocument): PolicyStatement[] {
  return Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
}

function toList<T>(value: OneOrMany<T> | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** IAM wildcards: `*` any run of characters, `?` exactly one. */
export function matchWildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function matchesAction(statement: PolicyStatement, action: string): boolean {
  // Action names are case-insensitive in IAM.
  if (statement.Action !== undefined) return toList(statement.Action).some((p) => matchWildcard(p, action, true));
  return !toList(statement.NotAction).some((p) => matchWildcard(p, action, true));
}

function matchesResource(statement: PolicyStatement, resource: string): boolean {
  if (statement.Resource === undefined && statement.NotResource === undefined) return true; // trust policies
  if (statement.Resource !== undefined) return toList(statement.Resource).some((p) => matchWildcard(p, resource));
  return !toList(statement.NotResource).some((p) => matchWildcard(p, resource));
}

const PrincipalMatch = { None: 0, Account: 1, Exact: 2 } as const;
type PrincipalMatch = (typeof PrincipalMatch)[keyof typeof PrincipalMatch];

/**
 * How a resource policy's Principal names the caller: a role ARN names its sessions exactly; an
 * account id or `:root` ARN names the account; `*` names anyone.
 */
function matchPrincipal(statement: PolicyStatement, principal: PolicyPrincipal): PrincipalMatch {
  if (statement.Principal === '*') return PrincipalMatch.Exact;
  let best: PrincipalMatch = PrincipalMatch.None;
  for (const value of toList(statement.Principal?.AWS)) {
    if (value === '*') return PrincipalMatch.Exact;
    if (value === principal.arn || (principal.roleArn !== undefined && value === principal.roleArn)) {
      return PrincipalMatch.Exact;
    }
    if (value === principal.accountId || value === `arn:aws:iam::${principal.accountId}:root`) {
      // The root user itself is named exactly by its own account principal.
      best =
        principal.arn === `arn:aws:iam::${principal.accountId}:root` ? PrincipalMatch.Exact : PrincipalMatch.Account;
    }
  }
  return best;
}

function matchesCondition(statement: PolicyStatement, keys: PolicyRequest['keys']): boolean {
  for (const [operator, block] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(block)) {
      if (!evaluateCondition(operator, keys[key.toLowerCase()], toList(expected).map(String))) return false;
    }
  }
  return true;
}

/** One condition key: values are ORed, and a missing key fails unless the operator is negated or IfExists. */
function evaluateCondition(operator: string, actual: string | undefined, expected: string[]): boolean {
  const lower = operator.toLowerCase();
  const ifExists = lower.endsWith('ifexists');
  const base = ifExists ? lower.slice(0, -'ifexists'.length) : lower;
  const negated = base.includes('not');
  if (actual === undefined) return ifExists || negated;
  const matchOne = (value: string): boolean => {
    switch (base) {
      case 'stringequals':
      case 'stringnotequals':
      case 'arnequals':
      case 'arnnotequals':
        return value === actual;
      case 'stringequalsignorecase':
      case 'stringnotequalsignorecase':
        return value.toLowerCase() === actual.toLowerCase();
      case 'bool':
        return value.toLowerCase() === actual.toLowerCase();
      default:
        return matchWildcard(value, actual);
    }
  };
  const anyMatch = expected.some(matchOne);
  return negated ? !anyMatch : anyMatch;
}

/** Evaluates identity policies (no Principal element). */
export function evaluateIdentityPolicies(policies: readonly PolicyDocument[], request: PolicyRequest): Decision {
  let decision: Decision = Decision.NoMatch;
  for (const statement of policies.flatMap(listStatements)) {
    if (!matchesAction(statement, request.action) || !matchesResource(statement, request.resource)) continue;
    if (!matchesCondition(statement, request.keys)) continue;
    if (statement.Effect === 'Deny') return Decision.Deny;
    decision = Decision.Allow;
  }
  return decision;
}

/** Evaluates a resource-based policy (trust policy, bucket policy) whose statements name principals. */
export function evaluateResourcePolicy(policy: PolicyDocument | undefined, request: PolicyRequest): Decision {
  if (!policy) return Decision.NoMatch;
  let decision: Decision = Decision.NoMatch;
  for (const statement of listStatements(policy)) {
    const principalMatch = matchPrincipal(statement, request.principal);
    if (principalMatch === PrincipalMatch.None) continue;
    if (!matchesAction(statement, request.action) || !matchesResource(statement, request.resource)) continue;
    if (!matchesCondition(statement, request.keys)) continue;
    if (statement.Effect === 'Deny') return Decision.Deny;
    if (principalMatch === PrincipalMatch.Exact) decision = Decision.Allow;
    else if (decision === Decision.NoMatch) decision = Decision.AllowAccount;
  }
  return decision;
}

/**
 * Combines an identity decision and a resource-policy decision. Within one account either may
 * allow (a resource policy naming only the account delegates to identity policies); across
 * accounts both must allow ("Cross-account policy evaluation logic").
 */
export function combineDecisions(identity: Decision, resource: Decision, sameAccount: boolean): boolean {
  if (identity === Decision.Deny || resource === Decision.Deny) return false;
  if (sameAccount) return identity === Decision.Allow || resource === Decision.Allow;
  return identity === Decision.Allow && (resource === Decision.Allow || resource === Decision.AllowAccount);
}
