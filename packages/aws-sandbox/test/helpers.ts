import { AssumeRoleCommand, type AssumeRoleCommandOutput, STSClient } from '@aws-sdk/client-sts';
import type { PolicyDocument, Sandbox, SandboxCredentials } from '../src/index.js';

/** Trust policy admitting a whole account (its principals still need sts:AssumeRole themselves). */
export function trustAccount(accountId: string, externalId?: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'sts:AssumeRole',
        ...(externalId ? { Condition: { StringEquals: { 'sts:ExternalId': externalId } } } : {}),
      },
    ],
  };
}

export function allow(action: string | string[], resource: string | string[] = '*'): PolicyDocument {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] };
}

/** SDK errors surface on the first attempt: sandbox tests assert answers, not the SDK's retries. */
export const NO_RETRY = { maxAttempts: 1 } as const;

export function toCredentials(output: AssumeRoleCommandOutput): SandboxCredentials {
  const c = output.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('AssumeRole returned no credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/**
 * A role session in `accountId` whose role may call sts:AssumeRole: the first hop, minted with the
 * seeding API, because AssumeRole refuses root credentials as AWS does.
 */
export function createAssumerSession(sandbox: Sandbox, accountId: string, roleName = 'assumer'): SandboxCredentials {
  const { roleArn } = sandbox.createRole({
    accountId,
    roleName,
    trustPolicy: trustAccount(accountId),
    policies: [allow('sts:AssumeRole')],
  });
  return sandbox.issueRoleCredentials({ roleArn, sessionName: roleName });
}

/** Assumes `roleArn` with `credentials` (an IAM role session, never root) through the real STS client. */
export async function assumeRole(
  sandbox: Sandbox,
  credentials: SandboxCredentials,
  input: { roleArn: string; externalId?: string; sessionName?: string },
): Promise<SandboxCredentials> {
  const sts = new STSClient({ ...sandbox.clientConfig(credentials), ...NO_RETRY });
  const output = await sts.send(
    new AssumeRoleCommand({
      RoleArn: input.roleArn,
      RoleSessionName: input.sessionName ?? 'sandbox-test',
      ...(input.externalId ? { ExternalId: input.externalId } : {}),
    }),
  );
  return toCredentials(output);
}

/** Awaits a promise expected to reject and returns the error. */
export async function catchError(
  promise: Promise<unknown>,
): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { name: string };
  }
  throw new Error('expected the call to fail');
}
