/**
 * Assuming deploy roles in target accounts. Credentials are cached per role, ExternalId and
 * session name until shortly before they expire, so a fan-out to many functions in one account
 * assumes once per deployment, and each deployment's session is named after its own build.
 * Credentials are never logged or put in an error.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, type STSClient, STSServiceException } from '@aws-sdk/client-sts';
import {
  AccessError,
  describeError,
  InternalError,
  isThrottlingAwsError,
  isTransientAwsError,
  ServiceUnavailableError,
  ThrottledError,
} from '../core/errors.js';

export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface AssumeRoleRequest {
  readonly roleArn: string;
  readonly externalId?: string;
  readonly sessionName: string;
}

export interface RoleAssumer {
  assume(request: AssumeRoleRequest): Promise<TemporaryCredentials>;
}

export interface RoleAssumerOptions {
  readonly durationSeconds: number;
  /** Refresh this long before expiry, so a deployment never starts with credentials about to lapse. */
  readonly refreshMarginMs?: number;
  readonly now?: () => number;
}

export function createRoleAssumer(client: STSClient, options: RoleAssumerOptions): RoleAssumer {
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  // Keyed by role, ExternalId and session name: the session name shows in the target account's
  // CloudTrail, so each build gets credentials of its own session, never the first build's.
  const cache = new Map<string, { pending: Promise<TemporaryCredentials>; expiresAt?: number }>();

  /** Forgets credentials past their refresh time, so a warm container keeps only live sessions. */
  const sweep = () => {
    for (const [key, entry] of cache) {
      if (entry.expiresAt !== undefined && entry.expiresAt - margin <= now()) cache.delete(key);
    }
  };

  const assume = (request: AssumeRoleRequest): Promise<TemporaryCredentials> => {
    const key = [request.roleArn, request.externalId ?? '', request.sessionName].join('\u0000');
    const cached = cache.get(key);
    if (cached) {
      return cached.pending.then((creds) => {
        if (creds.expiration.getTime() - margin > now()) return creds;
        if (cache.get(key) === cached) cache.delete(key);
        return assume(request);
      });
    }
    sweep();
    const pending = assumeRole(client, request, options.durationSeconds);
    const entry: { pending: Promise<TemporaryCredentials>; expiresAt?: number } = { pending };
    cache.set(key, entry);
    pending.then(
      (creds) => {
        entry.expiresAt = creds.expiration.getTime();
      },
      // A failed assumption is not cached: the next deployment tries again.
      () => {
        if (cache.get(key) === entry) cache.delete(key);
      },
    );
    return pending;
  };
  return { assume };
}

async function assumeRole(
  client: STSClient,
  request: AssumeRoleRequest,
  durationSeconds: number,
): Promise<TemporaryCredentials> {
  const account = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(request.roleArn)?.[1] ?? 'unknown';
  try {
    const out = await client.send(
      new AssumeRoleCommand({
        RoleArn: request.roleArn,
        RoleSessionName: request.sessionName,
        DurationSeconds: durationSeconds,
        ...(request.externalId ? { ExternalId: request.externalId } : {}),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new InternalError('STS_NO_CREDENTIALS', `AssumeRole on ${request.roleArn} returned no credentials.`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  } catch (error) {
    // STS's client keeps the SDK's own retries (ferry adds none for STS): what is still throttled
    // or failing on AWS's side after them is transient, never "access denied", so Lambda's retry
    // of the invocation tries again.
    if (isThrottlingAwsError(error)) {
      throw new ThrottledError(
        'STS_THROTTLED',
        `STS throttled AssumeRole on ${request.roleArn} in account ${account}; the deployment is retried. Many deployments starting at once cause this.`,
        { cause: error, context: { role: request.roleArn, account } },
      );
    }
    if (isTransientAwsError(error)) {
      throw new ServiceUnavailableError(
        'STS_UNAVAILABLE',
        `STS failed AssumeRole on ${request.roleArn} in account ${account} on its side or the connection broke (${describeError(error)}); the deployment is retried.`,
        { cause: error, context: { role: request.roleArn, account } },
      );
    }
    if (error instanceof STSServiceException) {
      const hint =
        error.name === 'AccessDenied' || error.name === 'AccessDeniedException'
          ? `Check that the role exists in account ${account}, that its trust policy names ferry's execution role, that the ExternalId ${request.externalId ? 'configured for this target matches the one the role requires' : 'is configured if the role requires one'}, and that ferry's own policy allows sts:AssumeRole on it.`
          : 'Check the role ARN and the session duration allowed by the role.';
      throw new AccessError(
        'ASSUME_ROLE_FAILED',
        `ferry could not assume ${request.roleArn} in account ${account}: ${error.name}: ${error.message}. ${hint}`,
        { cause: error, context: { role: request.roleArn, account } },
      );
    }
    throw error;
  }
}

const identities = new WeakMap<STSClient, Promise<string>>();

/**
 * The ARN ferry runs as (STS GetCallerIdentity), for the ledger's audit trail. Asked once per
 * client and process; a failed lookup is not cached, so the next deployment asks again.
 */
export function getCallerIdentity(client: STSClient): Promise<string> {
  const cached = identities.get(client);
  if (cached) return cached;
  const pending = client.send(new GetCallerIdentityCommand({})).then((out) => {
    if (!out.Arn) throw new InternalError('STS_NO_IDENTITY', 'GetCallerIdentity returned no ARN.');
    return out.Arn;
  });
  identities.set(client, pending);
  pending.catch(() => identities.delete(client));
  return pending;
}
