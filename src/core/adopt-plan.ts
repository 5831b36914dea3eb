/**
 * Adopting functions ferry has never deployed: the versions their aliases serve today become the
 * stage's starting point in the ledger, so the first `ferry status` compares against them instead
 * of reporting every target as drift. Pure: the engine reads the aliases and writes the entry.
 */
import { BUILD_ID } from './artifact-key.js';

/** What one target's alias serves, read live. */
export interface LiveAlias {
  readonly targetId: string;
  readonly account: string;
  readonly region: string;
  readonly function: string;
  readonly alias: string;
  readonly version?: string;
  readonly codeSha256?: string;
  /** The build a ferry-written version description names, if any. */
  readonly liveBuild?: string;
  /** Why the target could not be read. */
  readonly error?: string;
}

/**
 * Build id recorded when neither --build nor a version description names one. Digits sort before
 * letters and 0 before every other number, so any real build deployed later is newer.
 */
export const ADOPTED_BUILD = '0-adopted';

export type AdoptionPlan =
  | {
      readonly kind: 'adopt';
      readonly build: string;
      readonly codeSha256: string;
      readonly targets: readonly (LiveAlias & { readonly version: string })[];
    }
  /** The ledger already records this stage: adopting would overwrite ferry's own history. */
  | { readonly kind: 'recorded'; readonly build: string }
  /** No alias exists yet: the first deployment creates them, and nothing drifts meanwhile. */
  | { readonly kind: 'nothing'; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * What adopting one app's stage does, from the build the ledger records there (if any) and what
 * each target's alias serves.
 */
export function planAdoption(
  stage: string,
  recordedBuild: string | undefined,
  live: readonly LiveAlias[],
  requestedBuild?: string,
): AdoptionPlan {
  if (recordedBuild !== undefined) return { kind: 'recorded', build: recordedBuild };
  const unreadable = live.filter((t) => t.error !== undefined);
  if (unreadable.length > 0) {
    return {
      kind: 'refused',
      reason: `cannot read ${unreadable.map((t) => `${t.targetId} (${t.error})`).join(', ')}; fix access and adopt again`,
    };
  }
  const aliased = live.filter((t): t is LiveAlias & { version: string } => t.version !== undefined);
  if (aliased.length === 0) return { kind: 'nothing', reason: `no target of ${stage} has its alias yet` };
  if (aliased.length < live.length) {
    const missing = live.filter((t) => t.version === undefined).map((t) => t.targetId);
    return {
      kind: 'refused',
      reason: `${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no alias, so ${stage} has no one starting point; deploy a build to ${stage} instead`,
    };
  }
  const codes = new Set(aliased.map((t) => t.codeSha256));
  if (codes.size !== 1 || aliased[0]?.codeSha256 === undefined) {
    return {
      kind: 'refused',
      reason: `the targets of ${stage} serve different code (${aliased.map((t) => `${t.targetId} v${t.version} ${t.codeSha256 ?? '?'}`).join('; ')}); deploy one build to ${stage} instead`,
    };
  }
  const described = new Set(aliased.map((t) => t.liveBuild));
  const [describedBuild] = described;
  const build =
    requestedBuild ?? (described.size === 1 && describedBuild !== undefined ? describedBuild : ADOPTED_BUILD);
  if (!BUILD_ID.test(build)) return { kind: 'refused', reason: `${build} is not a valid build id` };
  return { kind: 'adopt', build, codeSha256: aliased[0].codeSha256, targets: aliased };
}
