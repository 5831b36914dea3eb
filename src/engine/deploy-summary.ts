/**
 * Plain-data views of engine results, for `--json`, summary log lines and ledger-adjacent reports:
 * no Error objects, no closures, no Buffers.
 */
import { describeError, isFerryError } from '../core/errors.js';
import type { BuildDeployResult } from './deploy-build.js';

export interface DeploymentSummary {
  readonly status: string;
  readonly build: string;
  readonly codeSha256?: string;
  readonly reason?: string;
  readonly stages: readonly {
    readonly stage: string;
    readonly status: string;
    readonly reason?: string;
    readonly entryId?: string;
    readonly targets: readonly {
      readonly targetId: string;
      readonly status: string;
      readonly previousVersion?: string;
      readonly version?: string;
      readonly reason?: string;
      readonly code?: string;
    }[];
  }[];
}

export function summarizeDeployment(result: BuildDeployResult): DeploymentSummary {
  return {
    status: result.status,
    build: result.build,
    ...(result.codeSha256 ? { codeSha256: result.codeSha256 } : {}),
    ...(result.error ? { reason: describeError(result.error) } : {}),
    stages: result.stages.map((s) => ({
      stage: s.stage,
      status: s.status,
      ...(s.reason ? { reason: s.reason } : {}),
      ...(s.entryId ? { entryId: s.entryId } : {}),
      targets: s.outcomes.map((o) => ({
        targetId: o.target.id,
        status: o.status,
        ...(o.previousVersion ? { previousVersion: o.previousVersion } : {}),
        ...(o.version ? { version: o.version } : {}),
        ...(o.error ? { reason: describeError(o.error) } : {}),
        ...(o.error && isFerryError(o.error) ? { code: o.error.code } : {}),
      })),
    })),
  };
}

/** The first reason a deployment did not succeed, in one line. */
export function describeDeploymentFailure(result: BuildDeployResult): string {
  if (result.error) return describeError(result.error);
  const failed = result.stages.flatMap((s) => s.outcomes.filter((o) => o.error));
  return failed.map((o) => `${o.target.id}: ${describeError(o.error)}`).join('; ') || result.status;
}
