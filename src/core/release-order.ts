/**
 * Whether a build may be deployed into a stage, given what the stage runs: builds only move
 * forward. The same build again is a re-delivery (deploying it is idempotent); an older build is
 * skipped with the reason. Only an explicit rollback goes backwards, and after one, the builds it
 * rolled back from are not brought back by a late upload event or a schedule.
 */
import { compareBuilds } from './artifact-key.js';
import { type CurrentState, Trigger } from './ledger-model.js';

export type OrderDecision =
  | { readonly action: 'deploy'; readonly redelivery: boolean; readonly reason: string }
  | { readonly action: 'skip'; readonly code: string; readonly reason: string };

export interface OrderQuestion {
  readonly stage: string;
  readonly build: string;
  readonly codeSha256: string;
  readonly trigger: Trigger;
}

export function decideReleaseOrder(current: CurrentState | undefined, q: OrderQuestion): OrderDecision {
  if (current === undefined) {
    return { action: 'deploy', redelivery: false, reason: `${q.stage} has no recorded build yet` };
  }
  const order = compareBuilds(q.build, current.build);
  if (order < 0) {
    return {
      action: 'skip',
      code: 'BUILD_OLDER_THAN_CURRENT',
      reason: `build ${q.build} is older than ${current.build}, which ${q.stage} runs since ${current.liveSince}; only a rollback goes backwards`,
    };
  }
  if (order === 0) {
    if (q.codeSha256 !== current.codeSha256) {
      return {
        action: 'skip',
        code: 'BUILD_CHECKSUM_CHANGED',
        reason: `build ${q.build} already runs in ${q.stage} with checksum ${current.codeSha256}, but this artifact has ${q.codeSha256}; builds are immutable, upload the change as a new build`,
      };
    }
    return { action: 'deploy', redelivery: true, reason: `build ${q.build} already runs in ${q.stage}: re-delivery` };
  }
  const rolledBackFrom = current.rolledBackFrom;
  if (rolledBackFrom !== undefined && q.trigger !== Trigger.Cli && compareBuilds(q.build, rolledBackFrom) <= 0) {
    return {
      action: 'skip',
      code: 'BUILD_ROLLED_BACK',
      reason: `${q.stage} was rolled back from ${rolledBackFrom}; build ${q.build} is not redeployed automatically (deploy a newer build, or deploy it again with the CLI)`,
    };
  }
  return { action: 'deploy', redelivery: false, reason: `build ${q.build} is newer than ${current.build}` };
}

/**
 * The skips that follow from the build id alone (older than the stage's build, or rolled back
 * from), decidable before the artifact is read. The same build is never skipped here: whether its
 * bytes changed needs the checksum, which the locked check after verification has.
 */
export function decideSkipByBuild(
  current: CurrentState | undefined,
  q: Omit<OrderQuestion, 'codeSha256'>,
): Extract<OrderDecision, { action: 'skip' }> | undefined {
  if (current === undefined) return undefined;
  const decision = decideReleaseOrder(current, { ...q, codeSha256: current.codeSha256 });
  return decision.action === 'skip' ? decision : undefined;
}
