/**
 * Accounts and the access keys the sandbox issued. Every request is signed with one of these keys;
 * the key alone identifies the account and the principal, as in AWS.
 */
import type { Caller } from './contracts.js';
import { generateAccessKeyId, generateSecretAccessKey, generateSessionToken } from './ids.js';
import type { PolicyDocument } from './policy.js';

/** Credentials in the shape SDK v3 clients accept. */
export interface SandboxCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Temporary credentials only: the token the caller must present and when it stops working. */
  readonly sessionToken?: string;
  readonly expiresAt?: number;
  readonly caller: Caller;
  /** Replaces the role's identity policies (credentials CodePipeline scopes to artifacts). */
  readonly identityPolicies?: readonly PolicyDocument[];
  /** AssumeRole's `Policy`: a session policy that further limits the role's permissions. */
  readonly sessionPolicies?: readonly PolicyDocument[];
}

export interface AccountKeys {
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

export interface CreatedAccount {
  readonly accountId: string;
  readonly credentials: SandboxCredentials;
}

export class AccountStore {
  private readonly accounts = new Map<string, CreatedAccount>();
  private readonly keys = new Map<string, AccessKeyRecord>();
  private nextAccountNumber = 111111111111;

  /** Creates an account with a root access key pair (generated unless given, for reproducible seeds). */
  createAccount(accountId?: string, keys: AccountKeys = {}): CreatedAccount {
    const id = accountId ?? this.allocateAccountId();
    if (!/^\d{12}$/.test(id)) throw new Error(`account id must be 12 digits, got ${id}`);
    if (this.accounts.has(id)) throw new Error(`account ${id} already exists`);
    const accessKeyId = keys.accessKeyId ?? generateAccessKeyId(false);
    if (this.keys.has(accessKeyId)) throw new Error(`access key ${accessKeyId} is already in use`);
    const credentials = { accessKeyId, secretAccessKey: keys.secretAccessKey ?? generateSecretAccessKey() };
    const caller: Caller = { accountId: id, arn: `arn:aws:iam::${id}:root`, accessKeyId };
    this.keys.set(accessKeyId, { ...credentials, caller });
    const account = { accountId: id, credentials };
    this.accounts.set(id, account);
    return account;
  }

  hasAccount(accountId: string): boolean {
    return this.accounts.has(accountId);
  }

  listAccounts(): CreatedAccount[] {
    return [...this.accounts.values()];
  }

  /** Issues an ASIA… key with a session token that expires at `expiresAt` (sandbox clock). */
  issueTemporaryCredentials(input: {
    caller: Omit<Caller, 'accessKeyId'>;
    expiresAt: number;
    identityPolicies?: readonly PolicyDocument[];
    sessionPolicies?: readonly PolicyDocument[];
  }): SandboxCredentials {
    const accessKeyId = generateAccessKeyId(true);
    const record: AccessKeyRecord = {
      accessKeyId,
      secretAccessKey: generateSecretAccessKey(),
      sessionToken: generateSessionToken(),
      expiresAt: input.expiresAt,
      caller: { ...input.caller, accessKeyId },
      ...(input.identityPolicies ? { identityPolicies: input.identityPolicies } : {}),
      ...(input.sessionPolicies ? { sessionPolicies: input.sessionPolicies } : {}),
    };
    this.keys.set(accessKeyId, record);
    return {
      accessKeyId,
      secretAccessKey: record.secretAccessKey,
      sessionToken: record.sessionToken as string,
      expiration: new Date(input.expiresAt),
    };
  }

  findKey(accessKeyId: string): AccessKeyRecord | undefined {
    return this.keys.get(accessKeyId);
  }

  private allocateAccountId(): string {
    while (this.accounts.has(String(this.nextAccountNumber))) this.nextAccountNumber += 1;
    const id = String(this.nextAccountNumber);
    this.nextAccountNumber += 1;
    return id;
  }
}
