/**
 * Deletes old published versions of a function after a successful deployment, as planned by
 * planPrune. Best effort: a version that turns out to be in use (an alias moved to it meanwhile)
 * or any other failure is logged, never fails the deployment.
 */
import type { LambdaPort } from '../aws/lambda.js';
import type { Target } from '../core/config.js';
import { describeError, isFerryError } from '../core/errors.js';
import { planPrune } from '../core/prune-plan.js';
import type { DeployLog } from './deploy-log.js';

export interface PruneResult {
  readonly targetId: string;
  readonly deleted: readonly string[];
  readonly kept: readonly string[];
  readonly failed: readonly { readonly version: string; readonly reason: string }[];
  readonly error?: string;
}

export async function pruneTarget(
  lambda: LambdaPort,
  target: Target,
  keep: number,
  justLeft: readonly string[],
  log: DeployLog,
): Promise<PruneResult> {
  const base = { targetId: target.id };
  try {
    const [versions, aliases] = await Promise.all([
      lambda.listVersions(target.functionName),
      lambda.listAliases(target.functionName),
    ]);
    const plan = planPrune({ versions: versions.map((v) => v.version), aliases, keep, justLeft });
    const deleted: string[] = [];
    const failed: { version: string; reason: string }[] = [];
    // One at a time: deletes share the account's 15 requests/s control-plane budget with deployments.
    for (const version of plan.delete) {
      try {
        await lambda.deleteVersion(target.functionName, version);
        deleted.push(version);
      } catch (error) {
        failed.push({ version, reason: describeError(error) });
        if (isFerryError(error) && error.kind === 'access') break;
      }
    }
    const result = { ...base, deleted, kept: plan.keep, failed };
    if (deleted.length > 0 || failed.length > 0) {
      log[failed.length > 0 ? 'warn' : 'info']('pruned old versions', {
        target: target.id,
        function: target.functionName,
        account: target.accountId,
        deleted,
        failed,
        protected: plan.protected,
      });
    }
    return result;
  } catch (error) {
    log.warn('pruning failed; the deployment stands', {
      target: target.id,
      function: target.functionName,
      account: target.accountId,
      reason: describeError(error),
    });
    return { ...base, deleted: [], kept: [], failed: [], error: describeError(error) };
  }
}
