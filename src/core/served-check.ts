/**
 * The ledger is a record, not an authority: before code moves on the ledger's word (a promotion,
 * a rollback, a pipeline's success report), ferry reads what the targets really serve and compares
 * it with what the ledger claims. Anything that disagrees is drift, named with the target, the
 * checksum expected and the checksum served; when there is drift, nothing moves.
 */

/** What one target really serves, read live through its deploy role. */
export interface ServedObservation {
  readonly targetId: string;
  /** The alias read (absent: the alias does not exist). */
  readonly alias?: string;
  /** The version looked at: the alias's version, or the version the ledger names. */
  readonly version?: string;
  /** CodeSha256 of that version (absent: the alias or the version does not exist). */
  readonly codeSha256?: string;
}

export interface ServedDrift {
  readonly targetId: string;
  readonly expectedSha256: string;
  /** What the target serves instead ('nothing' when the alias or version is missing). */
  readonly servedSha256: string;
  readonly servedVersion?: string;
  /** The version the ledger names for this target, when it names one and the target serves another. */
  readonly expectedVersion?: string;
}

export interface ServedExpectation {
  readonly targetId: string;
  readonly codeSha256: string;
  /** The version the claim names (a continuation token's or a ledger entry's), checked too when given. */
  readonly version?: string;
}

/**
 * The targets whose observation disagrees with the claim: a missing alias or version, another
 * checksum, or (when the claim names one) another version. A target with no observation is drift.
 */
export function findServedDrift(
  expectations: readonly ServedExpectation[],
  observations: readonly ServedObservation[],
): ServedDrift[] {
  const byTarget = new Map(observations.map((o) => [o.targetId, o] as const));
  const drift: ServedDrift[] = [];
  for (const expected of expectations) {
    const seen = byTarget.get(expected.targetId);
    const servedSha256 = seen?.codeSha256 ?? 'nothing';
    const versionDiffers = expected.version !== undefined && seen?.version !== expected.version;
    if (servedSha256 === expected.codeSha256 && !versionDiffers) continue;
    drift.push({
      targetId: expected.targetId,
      expectedSha256: expected.codeSha256,
      servedSha256,
      ...(seen?.version !== undefined ? { servedVersion: seen.version } : {}),
      ...(versionDiffers && expected.version !== undefined ? { expectedVersion: expected.version } : {}),
    });
  }
  return drift;
}

/** One line per drifted target: "<target> serves <sha> (version v), the ledger says <sha> (version w)". */
export function describeServedDrift(drift: readonly ServedDrift[], claimedBy = 'the ledger'): string {
  return drift
    .map((d) => {
      const served = d.servedSha256 === 'nothing' ? 'nothing' : `sha256 ${d.servedSha256}`;
      const at = d.servedVersion !== undefined ? ` (version ${d.servedVersion})` : '';
      const expectedAt = d.expectedVersion !== undefined ? ` (version ${d.expectedVersion})` : '';
      return `${d.targetId} serves ${served}${at}, ${claimedBy} says sha256 ${d.expectedSha256}${expectedAt}`;
    })
    .join('; ');
}
