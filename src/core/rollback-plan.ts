/**
 * Rollback as plain data: which build to go back to (by default the newest build deployed to the
 * stage before the current one), and per target, which version its alias moves to.
 */
import { compareBuilds } from './artifact-key.js';
import type { AliasState } from './lambda-model.js';
import { type CurrentState, type LedgerEntry, LedgerOutcome } from './ledger-model.js';

/**
 * The default rollback build: the newest build older than the current one that a deployment into
 * the stage succeeded with (never a newer build, even if a previous rollback passed it).
 */
export function choosePreviousBuild(
  current: CurrentState | undefined,
  entriesNewestFirst: readonly LedgerEntry[],
): LedgerEntry | undefined {
  const succeeded = entriesNewestFirst.filter(isLiveEntry);
  if (current === undefined) return undefined;
  return succeeded
    .filter((e) => compareBuilds(e.build, current.build) < 0)
    .sort((a, b) => compareBuilds(b.build, a.build))[0];
}

/** The newest successful entry of the stage for that build, which knows each target's version. */
export function findBuildEntry(build: string, entriesNewestFirst: readonly LedgerEntry[]): LedgerEntry | undefined {
  return entriesNewestFirst.find((e) => e.build === build && isLiveEntry(e));
}

/** An entry whose versions were live on the stage: a deployment, a rollback, or an adoption (the stage's starting point). */
function isLiveEntry(e: LedgerEntry): boolean {
  return (
    e.outcome === LedgerOutcome.Succeeded ||
    e.outcome === LedgerOutcome.RolledBack ||
    e.outcome === LedgerOutcome.Adopted
  );
}

export interface RollbackTargetPlan {
  readonly targetId: string;
  readonly fromVersion?: string;
  readonly toVersion: string;
  readonly action: 'move-alias' | 'unchanged';
  readonly expectedRevisionId?: string;
}

export function planRollbackTarget(
  targetId: string,
  alias: AliasState | undefined,
  toVersion: string,
): RollbackTargetPlan {
  const unchanged =
    alias !== undefined && alias.functionVersion === toVersion && Object.keys(alias.routing).length === 0;
  return {
    targetId,
    ...(alias ? { fromVersion: alias.functionVersion, expectedRevisionId: alias.revisionId } : {}),
    toVersion,
    action: unchanged ? 'unchanged' : 'move-alias',
  };
}
