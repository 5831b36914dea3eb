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

/** Where an in-flight traffic shift has put this target: ferry's own routing, not drift. */
export interface ShiftingTarget {
  readonly stableVersion: string;
  readonly newVersion: string;
  /** The new version's share now (0–100). */
  readonly percent: number;
  /** The shifted build's code. */
  readonly codeSha256: string;
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
  shifting?: ShiftingTarget,
): TargetAssessment {
  const drift: string[] = [];
  if (shifting !== undefined && live.alias !== undefined && servesShift(live.alias, shifting)) {
    // At 100 % the alias serves the shifted build, before the ledger records it live.
    if (shifting.percent >= 100) {
      const matches = live.codeSha256 === undefined ? undefined : live.codeSha256 === shifting.codeSha256;
      if (matches === false)
        drift.push(
          `version ${shifting.newVersion} holds code ${live.codeSha256}, not the shifted ${shifting.codeSha256}`,
        );
      return {
        expectedVersion: shifting.newVersion,
        ...(matches === undefined ? {} : { checksumMatches: matches }),
        drift,
      };
    }
    // Below 100 % the primary is the stable version: checked as usual, its routing is the shift's.
    return assessTarget(targetId, aliasName, { ...live, alias: { ...live.alias, routing: {} } }, current);
  }
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

/** True when the alias is exactly where the shift put it (weights within half a percent). */
function servesShift(alias: AliasState, shifting: ShiftingTarget): boolean {
  const routes = Object.entries(alias.routing);
  if (shifting.percent >= 100) return alias.functionVersion === shifting.newVersion && routes.length === 0;
  if (shifting.percent <= 0) return alias.functionVersion === shifting.stableVersion && routes.length === 0;
  const [route] = routes;
  return (
    alias.functionVersion === shifting.stableVersion &&
    routes.length === 1 &&
    route !== undefined &&
    route[0] === shifting.newVersion &&
    Math.abs(route[1] * 100 - shifting.percent) < 0.5
  );
}
