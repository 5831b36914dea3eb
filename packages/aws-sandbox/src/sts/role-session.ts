/**
 * Role sessions: the temporary credentials that act as `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.
 * AssumeRole issues them after its checks; the seeding API issues them directly, as AWS services
 * do for the roles they run as (a Lambda function's execution role).
 */
import type { AccountStore, SandboxCredentials } from '../accounts.js';
import type { Clock } from '../contracts.js';
import type { IamStore, Role } from '../iam.js';
import type { PolicyDocument } from '../policy.js';

export interface RoleSession {
  readonly sessionArn: string;
  /** `<role id>:<session name>`, AssumeRole's AssumedRoleUser.AssumedRoleId. */
  readonly assumedRoleId: string;
  readonly credentials: SandboxCredentials & { sessionToken: string; expiration: Date };
}

export function issueRoleSession(
  deps: { readonly accounts: AccountStore; readonly clock: Clock },
  input: {
    role: Role;
    sessionName: string;
    durationSeconds: number;
    sessionPolicies?: readonly PolicyDocument[];
  },
): RoleSession {
  const { role, sessionName } = input;
  const sessionArn = `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`;
  const credentials = deps.accounts.issueTemporaryCredentials({
    caller: { accountId: role.accountId, arn: sessionArn, roleArn: role.roleArn },
    expiresAt: deps.clock.now() + input.durationSeconds * 1000,
    ...(input.sessionPolicies ? { sessionPolicies: input.sessionPolicies } : {}),
  });
  return {
    sessionArn,
    assumedRoleId: `${role.roleId}:${sessionName}`,
    credentials: credentials as RoleSession['credentials'],
  };
}

export interface IssueRoleCredentialsInput {
  /** arn:aws:iam::<acct>:role/<name> of a role created with createRole (or a seed file). */
  roleArn: string;
  /** 2-64 characters of [\w+=,.@-], as AssumeRole's RoleSessionName. */
  sessionName: string;
  /** 900 up to the role's MaxSessionDuration; default 3600. */
  durationSeconds?: number;
}

/**
 * Seeding path: credentials for a role session without an AssumeRole call (no trust policy, no
 * caller). Input errors are programming errors, so they throw plain Errors.
 */
export function issueRoleCredentials(
  deps: { readonly accounts: AccountStore; readonly iam: IamStore; readonly clock: Clock },
  input: IssueRoleCredentialsInput,
): SandboxCredentials & { sessionToken: string; expiration: Date } {
  const role = deps.iam.findRole(input.roleArn);
  if (!role) throw new Error(`unknown role ${input.roleArn}`);
  if (!/^[\w+=,.@-]{2,64}$/.test(input.sessionName)) {
    throw new Error(`invalid session name ${input.sessionName}: 2-64 characters of [\\w+=,.@-]`);
  }
  const durationSeconds = input.durationSeconds ?? 3600;
  if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > role.maxSessionDuration) {
    throw new Error(`durationSeconds must be an integer from 900 to ${role.maxSessionDuration} for ${input.roleArn}`);
  }
  return issueRoleSession(deps, { role, sessionName: input.sessionName, durationSeconds }).credentials;
}
