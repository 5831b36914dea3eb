/**
 * Comparing what a target really serves (its alias, read live) with what the ledger says the
 * stage runs. Drift is anything ferry did not leave there: an alias moved by hand, canary routing
 * left behind, code that is not the recorded build.
 */
import type { AliasState } from './lambda-model.js';
import type { CurrentState } from './ledger-model.js';

export interface LiveTarget {
  readonly alias?: AliasState;
  /** CodeSha256 of the version the alias points at. */
  readonly codeSha256?: string;
}

export interface TargetAssessment {
  readonly expectedVersion?: string;
  readonly checksumMatches?: boolean;
  readonly drift: readonly string[];
}

export function assessTarget(
  targetId: string,
  aliasName: string,
  live: LiveTarget,
  current: CurrentState | undefined,
): TargetAssessment {
  const drift: string[] = [];
  const expected = current?.targets[targetId];
  const alias = live.alias;
  if (current === undefined) {
    if (alias !== undefined)
      drift.push(`alias ${aliasName} points at version ${alias.functionVersion}, but the ledger records no build here`);
    return { drift };
  }
  if (alias === undefined) {
    drift.push(
      `alias ${aliasName} does not exist, but the ledger says version ${expected ?? '?'} of ${current.build} is live`,
    );
    return { ...(expected ? { expectedVersion: expected } : {}), drift };
  }
  if (expected === undefined) {
    drift.push(
      `the ledger has no version of ${current.build} for this target; the alias points at ${alias.functionVersion}`,
    );
  } else if (alias.functionVersion !== expected) {
    drift.push(`alias ${aliasName} points at version ${alias.functionVersion}, the ledger says ${expected}`);
  }
  for (const [version, weight] of Object.entries(alias.routing)) {
    drift.push(`alias ${aliasName} routes ${Math.round(weight * 100)}% to version ${version}`);
  }
  const checksumMatches = live.codeSha256 === undefined ? undefined : live.codeSha256 === current.codeSha256;
  if (checksumMatches === false) {
    drift.push(
      `version ${alias.functionVersion} holds code ${live.codeSha256}, not ${current.build}'s ${current.codeSha256}`,
    );
  }
  return {
    ...(expected ? { expectedVersion: expected } : {}),
    ...(checksumMatches === undefined ? {} : { checksumMatches }),
    drift,
  };
}
