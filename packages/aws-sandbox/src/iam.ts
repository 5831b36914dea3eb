/**
 * IAM roles per account and the identity side of authorization. A role has a trust policy (who may
 * assume it) and identity policies (what its sessions may do).
 */
import type { AccountStore } from './accounts.js';
import type { Authorizer, Caller } from './contracts.js';
import { generateRoleId } from './ids.js';
import { Decision, evaluateIdentityPolicies, type PolicyDocument, type PolicyRequest, parsePolicy } from './policy.js';

export interface Role {
  readonly accountId: string;
  readonly roleName: string;
  readonly roleArn: string;
  readonly roleId: string;
  readonly trustPolicy: PolicyDocument;
  readonly policies: readonly PolicyDocument[];
  /** Seconds; AssumeRole may not ask for more (IAM default 3600). */
  readonly maxSessionDuration: number;
}

export interface CreateRoleInput {
  accountId: string;
  roleName: string;
  trustPolicy: PolicyDocument | string;
  policies?: ReadonlyArray<PolicyDocument | string>;
  maxSessionDuration?: number;
}

export class IamStore {
  private readonly roles = new Map<string, Role>();

  constructor(private readonly accounts: AccountStore) {}

  /** Creates (or replaces) a role; policies are validated as IAM validates them. */
  createRole(input: CreateRoleInput): Role {
    if (!this.accounts.hasAccount(input.accountId)) throw new Error(`unknown account ${input.accountId}`);
    if (!/^[\w+=,.@-]{1,64}$/.test(input.roleName)) throw new Error(`invalid role name ${input.roleName}`);
    const maxSessionDuration = input.maxSessionDuration ?? 3600;
    if (maxSessionDuration < 3600 || maxSessionDuration > 43200) {
      throw new Error('maxSessionDuration must be between 3600 and 43200 seconds');
    }
    const roleArn = `arn:aws:iam::${input.accountId}:role/${input.roleName}`;
    const role: Role = {
      accountId: input.accountId,
      roleName: input.roleName,
      roleArn,
      roleId: this.roles.get(roleArn)?.roleId ?? generateRoleId(),
      trustPolicy: parsePolicy(input.trustPolicy),
      policies: (input.policies ?? []).map((policy) => parsePolicy(policy)),
      maxSessionDuration,
    };
    this.roles.set(roleArn, role);
    return role;
  }

  findRole(roleArn: string): Role | undefined {
    return this.roles.get(roleArn);
  }

  /**
   * What the caller's identity policies say. The root user may do anything in its own account
   * (and needs no identity grant to reach other accounts, only their resource policies).
   */
  decideForIdentity(caller: Caller, request: Omit<PolicyRequest, 'principal' | 'keys'>): Decision {
    const key = this.accounts.findKey(caller.accessKeyId);
    const policyRequest = { ...request, principal: caller, keys: buildConditionKeys(caller) };
    const base = this.decideWithoutSession(caller, key?.identityPolicies, policyRequest);
    if (!key?.sessionPolicies) return base;
    // A session policy only narrows: the role and the session policy must both allow
    // (IAM User Guide, "Session policies").
    const session = evaluateIdentityPolicies(key.sessionPolicies, policyRequest);
    if (base === Decision.Deny || session === Decision.Deny) return Decision.Deny;
    return base === Decision.Allow && session === Decision.Allow ? Decision.Allow : Decision.NoMatch;
  }

  private decideWithoutSession(
    caller: Caller,
    identityPolicies: readonly PolicyDocument[] | undefined,
    request: PolicyRequest,
  ): Decision {
    if (identityPolicies) return evaluateIdentityPolicies(identityPolicies, request);
    if (isRootCaller(caller)) return Decision.Allow;
    const role = caller.roleArn ? this.roles.get(caller.roleArn) : undefined;
    if (!role) return Decision.NoMatch;
    return evaluateIdentityPolicies(role.policies, request);
  }
}

/** The account's root user (`arn:aws:iam::<acct>:root`), as opposed to an IAM user or a role session. */
export function isRootCaller(caller: Pick<Caller, 'accountId' | 'arn'>): boolean {
  return caller.arn === `arn:aws:iam::${caller.accountId}:root`;
}

/** Global condition keys the sandbox knows. Every request counts as TLS: the SDK would use HTTPS against AWS. */
export function buildConditionKeys(
  caller: Caller,
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    'aws:principalarn': caller.roleArn ?? caller.arn,
    'aws:principalaccount': caller.accountId,
    'aws:securetransport': 'true',
    ...extra,
  };
}

/** Account of an ARN (`arn:aws:lambda:eu-west-1:123456789012:function:x` → 123456789012); '' for S3. */
export function readArnAccount(arn: string): string {
  return arn.split(':')[4] ?? '';
}

/**
 * The Authorizer handed to services without resource policies (Lambda): the caller's identity
 * policies must allow, and resources of other accounts are out of reach.
 */
export function createAuthorizer(iam: IamStore): Authorizer {
  return {
    isAllowed(caller, action, resourceArn) {
      const resourceAccount = readArnAccount(resourceArn);
      if (resourceAccount && resourceAccount !== caller.accountId) return false;
      return iam.decideForIdentity(caller, { action, resource: resourceArn }) === Decision.Allow;
    },
  };
}

/** The message AWS writes for an authorization failure, naming principal, action and resource. */
export function describeDenial(caller: Caller, action: string, resource: string): string {
  return `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource}`;
}
