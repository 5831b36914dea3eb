/**
 * STS over the Query protocol: form-encoded requests, XML answers shaped as in the STS API
 * Reference. AssumeRole refuses root users, checks the trust policy (with ExternalId), the caller's
 * own permission and the duration limits, then issues expiring credentials that act in the role's
 * account.
 */
import type { AccountStore } from '../accounts.js';
import {
  AwsError,
  type Caller,
  type Clock,
  type SandboxRequest,
  type SandboxResponse,
  type SandboxService,
} from '../contracts.js';
import { buildConditionKeys, describeDenial, type IamStore, isRootCaller } from '../iam.js';
import { generateRequestId } from '../ids.js';
import { combineDecisions, Decision, evaluateResourcePolicy, parsePolicy } from '../policy.js';
import { renderXmlDocument, type XmlNode } from '../xml.js';
import { issueRoleSession } from './role-session.js';
import { renderStsError, STS_NAMESPACE } from './sts-errors.js';
import { validateAssumeRoleParams } from './validation.js';

export interface StsDeps {
  readonly accounts: AccountStore;
  readonly iam: IamStore;
  readonly clock: Clock;
}

/** Role chaining caps sessions at one hour (STS API Reference, AssumeRole, DurationSeconds). */
const ROLE_CHAINING_LIMIT_SECONDS = 3600;

export function createStsService(deps: StsDeps): SandboxService {
  return {
    signingName: 'sts',
    operation: (req) => readParams(req).get('Action') ?? 'Unknown',
    async handle(req, operation) {
      const params = readParams(req);
      switch (operation) {
        case 'AssumeRole':
          return answer(req, 'AssumeRole', assumeRole(deps, req.caller, params));
        case 'GetCallerIdentity':
          return answer(req, 'GetCallerIdentity', describeCallerIdentity(deps, req.caller));
        default:
          throw new AwsError('InvalidAction', 400, `Could not find operation ${operation} for version 2011-06-15`);
      }
    },
    renderError: renderStsError,
  };
}

/** Query parameters may come in the form body (the SDK's choice) or the URL. */
function readParams(req: SandboxRequest): URLSearchParams {
  const params = new URLSearchParams(req.query);
  const contentType = req.headers['content-type'] ?? '';
  if (req.body.length > 0 && contentType.includes('x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(req.body.toString('utf8'))) params.set(name, value);
  }
  return params;
}

function answer(req: SandboxRequest, action: string, result: XmlNode): SandboxResponse {
  const requestId = req.requestId ?? generateRequestId();
  const body = renderXmlDocument(`${action}Response`, STS_NAMESPACE, {
    [`${action}Result`]: result,
    ResponseMetadata: { RequestId: requestId },
  });
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}

function assumeRole(deps: StsDeps, caller: Caller, params: URLSearchParams): XmlNode {
  const input = {
    roleArn: params.get('RoleArn') ?? undefined,
    roleSessionName: params.get('RoleSessionName') ?? undefined,
    durationSeconds: params.get('DurationSeconds') ?? undefined,
    externalId: params.get('ExternalId') ?? undefined,
  };
  validateAssumeRoleParams(input);
  // STS API Reference, AssumeRole: "You cannot use AWS account root user credentials to call
  // AssumeRole. You must use credentials for an IAM user or an IAM role." Checked before the role
  // is looked up, so the answer is the same whether the role exists or not.
  if (isRootCaller(caller)) throw new AwsError('AccessDenied', 403, 'Roles may not be assumed by root accounts.');
  const roleArn = input.roleArn as string;
  const sessionName = input.roleSessionName as string;
  const role = deps.iam.findRole(roleArn);
  // A missing role and a refused one look the same to the caller, as in AWS.
  const denied = new AwsError('AccessDenied', 403, describeDenial(caller, 'sts:AssumeRole', roleArn));
  if (!role) throw denied;
  const request = {
    action: 'sts:AssumeRole',
    resource: roleArn,
    principal: caller,
    keys: buildConditionKeys(caller, { 'sts:externalid': input.externalId, 'sts:rolesessionname': sessionName }),
  };
  const trust = evaluateResourcePolicy(role.trustPolicy, request);
  const identity = deps.iam.decideForIdentity(caller, { action: 'sts:AssumeRole', resource: roleArn });
  // The trust policy must always admit the caller; the caller's own policy must also allow unless
  // the trust policy names the caller itself within its account.
  const trusted = trust === Decision.Allow || trust === Decision.AllowAccount;
  if (!trusted || !combineDecisions(identity, trust, caller.accountId === role.accountId)) throw denied;

  const durationSeconds = input.durationSeconds === undefined ? 3600 : Number(input.durationSeconds);
  if (caller.roleArn !== undefined && durationSeconds > ROLE_CHAINING_LIMIT_SECONDS) {
    throw new AwsError(
      'ValidationError',
      400,
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }
  if (durationSeconds > role.maxSessionDuration) {
    throw new AwsError(
      'ValidationError',
      400,
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  }
  const sessionPolicy = params.get('Policy');
  const session = issueRoleSession(deps, {
    role,
    sessionName,
    durationSeconds,
    ...(sessionPolicy ? { sessionPolicies: [parsePolicy(sessionPolicy)] } : {}),
  });
  const credentials = session.credentials;
  return {
    AssumedRoleUser: { Arn: session.sessionArn, AssumedRoleId: session.assumedRoleId },
    Credentials: {
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      SessionToken: credentials.sessionToken,
      Expiration: formatIsoSeconds(credentials.expiration),
    },
  };
}

function describeCallerIdentity(deps: StsDeps, caller: Caller): XmlNode {
  return { UserId: readUserId(deps, caller), Account: caller.accountId, Arn: caller.arn };
}

/** Root's user id is the account id; a role session's is `<role id>:<session name>`. */
function readUserId(deps: StsDeps, caller: Caller): string {
  if (!caller.roleArn) return caller.accountId;
  const sessionName = caller.arn.split('/').pop() ?? '';
  const roleId = deps.iam.findRole(caller.roleArn)?.roleId ?? 'AROAUNKNOWNROLE';
  return `${roleId}:${sessionName}`;
}

/** STS writes timestamps without milliseconds: 2019-11-09T13:34:41Z. */
function formatIsoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
