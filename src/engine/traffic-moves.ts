/**
 * Applies a shift's alias moves: route (stable + the new version's weight), promote (the new
 * version, no routing), restore (the stable version, no routing). Each move reads the alias and
 * writes only when it differs, guarded by the alias RevisionId, so re-applying a move after a
 * crash is a no-op and a concurrent writer is never overwritten blindly.
 */
import pLimit from 'p-limit';
import type { LambdaPort } from '../aws/lambda.js';
import type { Target } from '../core/config.js';
import { describeError, isFerryError } from '../core/errors.js';
import type { AliasState } from '../core/lambda-model.js';
import { weightOf } from '../core/traffic-policy.js';
import type { ShiftAction, ShiftState } from '../core/traffic-shift.js';

export interface MoveDeps {
  readonly lambdaFor: (target: Target, sessionName: string) => Promise<LambdaPort>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly config: { readonly concurrency: number };
}

export interface MoveFailure {
  readonly targetId: string;
  readonly error: unknown;
}

interface Desired {
  readonly version: string;
  readonly routing: Readonly<Record<string, number>>;
}

/** The alias as one action wants it on one target. */
export function desiredAlias(action: ShiftAction, stable: string, next: string): Desired {
  switch (action.kind) {
    case 'route':
      return { version: stable, routing: { [next]: weightOf(action.percent) } };
    case 'promote':
      return { version: next, routing: {} };
    case 'restore':
      return { version: stable, routing: {} };
  }
}

function matches(alias: AliasState | undefined, desired: Desired): boolean {
  if (alias === undefined || alias.functionVersion !== desired.version) return false;
  const have = Object.entries(alias.routing);
  const want = Object.entries(desired.routing);
  return have.length === want.length && want.every(([v, w]) => Math.abs((alias.routing[v] ?? -1) - w) < 1e-9);
}

/**
 * Applies the actions in order over every target they name (concurrently, bounded). Returns the
 * targets that failed; the others moved (or already were where they should be).
 */
export async function applyShiftActions(
  deps: MoveDeps,
  shift: ShiftState,
  actions: readonly ShiftAction[],
  targets: ReadonlyMap<string, Target>,
  sessionName: string,
): Promise<MoveFailure[]> {
  const failures: MoveFailure[] = [];
  const limit = pLimit(deps.config.concurrency);
  for (const action of actions) {
    await Promise.all(
      action.targetIds.map((id) =>
        limit(async () => {
          const target = targets.get(id);
          const versions = shift.targets[id];
          if (target === undefined || versions === undefined) {
            failures.push({ targetId: id, error: new Error(`target ${id} is no longer configured in ${shift.stage}`) });
            return;
          }
          try {
            const lambda = await deps.lambdaFor(target, sessionName);
            await moveAlias(lambda, target, desiredAlias(action, versions.stableVersion, versions.newVersion), shift);
          } catch (error) {
            failures.push({ targetId: id, error });
          }
        }),
      ),
    );
  }
  return failures;
}

async function moveAlias(lambda: LambdaPort, target: Target, desired: Desired, shift: ShiftState): Promise<void> {
  // Someone else's write between our read and ours fails on the RevisionId: read again and re-decide.
  for (let round = 0; round < 3; round++) {
    const alias = await lambda.getAlias(target.functionName, target.alias);
    if (matches(alias, desired)) return;
    try {
      await lambda.updateAlias({
        functionName: target.functionName,
        alias: target.alias,
        version: desired.version,
        ...(alias?.revisionId ? { revisionId: alias.revisionId } : {}),
        description:
          `ferry: ${shift.app} ${desired.version === shift.targets[target.id]?.newVersion ? shift.build : 'stable'} (shift ${shift.id})`.slice(
            0,
            256,
          ),
        routing: desired.routing,
      });
      return;
    } catch (error) {
      if (!(isFerryError(error) && error.code === 'LAMBDA_REVISION_CHANGED') || round === 2) throw error;
    }
  }
}

/** One line per failed target, for a reason. */
export function describeMoveFailures(failures: readonly MoveFailure[]): string {
  return failures.map((f) => `${f.targetId}: ${describeError(f.error)}`).join('; ');
}
