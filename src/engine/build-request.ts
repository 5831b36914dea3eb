/**
 * One build of one app into the targets of one or more stages: what deployBuild is asked, and what
 * it answers. Kept apart from deploy-build.ts so the stage steps it calls can name them without a cycle.
 */
import type { ObjectLocation } from '../aws/s3.js';
import type { AppConfig, Target } from '../core/config.js';
import type { FerryError } from '../core/errors.js';
import type { PipelineContext, Trigger } from '../core/ledger-model.js';
import type { InvocationBudget } from '../core/shard-plan.js';
import type { TrafficOverrides, TrafficSpec } from '../core/traffic-config.js';
import type { TargetOutcome } from './deploy-stage.js';
import type { StageResult } from './release-stage.js';

export interface BuildDeployRequest {
  readonly app: AppConfig;
  readonly build: string;
  readonly location: ObjectLocation & { readonly region: string };
  readonly sizeBytes?: number;
  readonly stages: readonly string[];
  readonly trigger: Trigger;
  readonly dryRun?: boolean;
  /** Narrows the targets (CodePipeline filter, CLI). */
  readonly targetFilter?: (target: Target) => boolean;
  readonly onTargetDone?: (outcome: TargetOutcome) => void;
  /** Who asked, for the ledger (an ARN); default: the identity ferry runs as (STS GetCallerIdentity). */
  readonly caller?: string;
  readonly pipeline?: PipelineContext;
  /** Promotions: the checksum the source stage runs; a different artifact is rejected before any deploy. */
  readonly expectedCodeSha256?: string;
  /** How long to wait for another deployment of the same app and stage. Default 2 minutes. */
  readonly leaseWaitMs?: number;
  /** An operator's --force: the checks it went past, recorded in the ledger entry. */
  readonly forced?: readonly string[];
  /** A promotion rule's traffic override. */
  readonly trafficRule?: TrafficSpec;
  /** The operator's --traffic allAtOnce / --ignore-alarms (recorded in the ledger with the caller). */
  readonly overrides?: TrafficOverrides;
  /**
   * The Lambda invocation's remaining time: with it (and runtime.shards), a stage that cannot finish
   * in time, or is larger than shardTargets, continues in asynchronous invocations (stage-shards.ts).
   */
  readonly budget?: InvocationBudget;
  /**
   * With a budget: targets not started when time runs out come back as the stage's `deferred`
   * instead of continuing in shards (the pipeline carries them in its continuation token).
   */
  readonly returnDeferred?: boolean;
}

export const BuildStatus = {
  Succeeded: 'succeeded',
  Planned: 'planned',
  /** The input was refused before anything changed: bad artifact, unknown app, no stage. */
  Rejected: 'rejected',
  /** Every stage already runs this build or a newer one (or was rolled back from it): nothing deployed. */
  Skipped: 'skipped',
  Failed: 'failed',
} as const;
export type BuildStatus = (typeof BuildStatus)[keyof typeof BuildStatus];

export interface BuildDeployResult {
  readonly app: string;
  readonly build: string;
  readonly status: BuildStatus;
  readonly codeSha256?: string;
  readonly stages: readonly StageResult[];
  readonly error?: FerryError | Error;
}
