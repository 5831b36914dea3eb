/**
 * Which published versions of a function to delete: everything but the newest `keep`, and never a
 * version an alias points at (primary or canary routing) nor one an alias just left (the obvious
 * rollback target, and possibly still draining).
 */
import type { AliasState } from './lambda-model.js';
import { compareVersions } from './lambda-model.js';

export interface PruneInput {
  /** Published versions (numbers; $LATEST is ignored). */
  readonly versions: readonly string[];
  readonly aliases: readonly AliasState[];
  readonly keep: number;
  /** Versions aliases pointed at before this deployment. */
  readonly justLeft?: readonly string[];
}

export interface PrunePlan {
  readonly delete: readonly string[];
  readonly keep: readonly string[];
  /** Versions kept although older than the newest `keep`, with the reason. */
  readonly protected: readonly { readonly version: string; readonly why: string }[];
}

export function planPrune(input: PruneInput): PrunePlan {
  const numbered = [...new Set(input.versions.filter((v) => /^\d+$/.test(v)))].sort(compareVersions).reverse();
  const why = new Map<string, string>();
  for (const alias of input.aliases) {
    why.set(alias.functionVersion, `alias ${alias.name} points at it`);
    for (const v of Object.keys(alias.routing)) why.set(v, `alias ${alias.name} routes traffic to it`);
  }
  for (const v of input.justLeft ?? []) if (!why.has(v)) why.set(v, 'an alias just left it');
  const newest = numbered.slice(0, Math.max(0, input.keep));
  const older = numbered.slice(newest.length);
  const guarded = older.filter((v) => why.has(v));
  return {
    delete: older.filter((v) => !why.has(v)),
    keep: [...newest, ...guarded],
    protected: guarded.map((v) => ({ version: v, why: why.get(v) ?? '' })),
  };
}

/**
 * Whether a deployment that published `version` should prune. Versions are numbered from 1 and
 * never reused, so below `keep` there can be nothing to delete; above it ferry prunes once every
 * `ceil(keep / 5)` versions rather than after every deployment, so a busy function spends its
 * 15 requests/s control-plane budget on deployments (listing, then deleting a batch). A function
 * then holds at most keep + ceil(keep / 5) - 1 versions, plus those aliases protect.
 */
export function shouldPrune(version: string, keep: number): boolean {
  const n = Number(version);
  if (!Number.isInteger(n) || n <= keep) return false;
  return n % Math.max(1, Math.ceil(keep / 5)) === 0;
}
