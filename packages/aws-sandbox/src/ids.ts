import { randomBytes, randomUUID } from 'node:crypto';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** AWS-looking identifiers: `AKIA…` keys, `AROA…` role ids, request ids. */
function generateUpperToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += UPPER_ALNUM[byte % UPPER_ALNUM.length];
  return out;
}

/** Long-term keys start with AKIA, temporary ones with ASIA, as in AWS. */
export function generateAccessKeyId(temporary: boolean): string {
  return (temporary ? 'ASIA' : 'AKIA') + generateUpperToken(16);
}

export function generateSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

export function generateSessionToken(): string {
  return randomBytes(96).toString('base64');
}

/** Unique ids IAM gives roles (`AROA…`), used in assumed-role user ids. */
export function generateRoleId(): string {
  return `AROA${generateUpperToken(17)}`;
}

export function generateRequestId(): string {
  return randomUUID();
}

/** S3 version ids are opaque URL-safe strings of 32 characters. */
export function generateVersionId(): string {
  return randomBytes(24).toString('base64url');
}
