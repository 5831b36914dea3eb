/** Plain data shapes ferry reads from Lambda, free of SDK types so the core can plan over them. */

export const UpdateStatus = {
  InProgress: 'InProgress',
  Successful: 'Successful',
  Failed: 'Failed',
} as const;
export type UpdateStatus = (typeof UpdateStatus)[keyof typeof UpdateStatus];

export interface FunctionState {
  readonly functionName: string;
  readonly functionArn: string;
  /** `$LATEST` or a published version number. */
  readonly version: string;
  /** base64 SHA-256 of the deployment package. */
  readonly codeSha256: string;
  readonly revisionId: string;
  /** Absent on functions that never had an update (treated as Successful). */
  readonly lastUpdateStatus?: UpdateStatus;
  readonly lastUpdateStatusReason?: string;
  readonly lastUpdateStatusReasonCode?: string;
  readonly state?: string;
  readonly description?: string;
}

export interface AliasState {
  readonly name: string;
  readonly functionVersion: string;
  readonly revisionId: string;
  /** Additional version weights (canary routing); empty when the alias points at one version. */
  readonly routing: Readonly<Record<string, number>>;
  readonly description?: string;
}

export interface PublishedVersion {
  readonly version: string;
  readonly codeSha256: string;
  readonly description?: string;
}

/** Numeric order of published versions ('$LATEST' first). */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '$LATEST') return -1;
  if (b === '$LATEST') return 1;
  return Number(a) - Number(b);
}
