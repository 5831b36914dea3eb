/**
 * The engine every front shares (S3 upload, schedule, CodePipeline, CLI): one build of one app
 * into the targets of one or more stages. Verifies the artifact once, deploys each stage's
 * targets concurrently, and logs one summary line per target.
 */
import type { ObjectLocation } from '../aws/s3.js';
import type { AppConfig, Target } from '../core/config.js';
import { describePlan } from '../core/deploy-plan.js';
import { describeError, type FerryError, isFerryError } from '../core/errors.js';
import type { Runtime } from '../runtime/create-runtime.js';
import { deployToTargets, type TargetOutcome, TargetStatus } from './deploy-stage.js';
import { type PreparedArtifact, prepareArtifact } from './prepare-artifact.js';

export const Trigger = { Upload: 'upload', Schedule: 'schedule', Pipeline: 'pipeline', Cli: 'cli' } as const;
export type Trigger = (typeof Trigger)[keyof typeof Trigger];

/** What the engine logs through: the Powertools Logger fits; tests pass a recorder. */
export interface DeployLog {
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

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
}

export interface StageResult {
  readonly stage: string;
  readonly outcomes: readonly TargetOutcome[];
}

export const BuildStatus = {
  Succeeded: 'succeeded',
  Planned: 'planned',
  /** The input was refused before anything changed: bad artifact, unknown app, no stage. */
  Rejected: 'rejected',
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

export async function deployBuild(
  runtime: Runtime,
  log: DeployLog,
  request: BuildDeployRequest,
): Promise<BuildDeployResult> {
  const { app, build } = request;
  let artifact: PreparedArtifact;
  try {
    artifact = await prepareArtifact(
      runtime.store,
      {
        app: app.name,
        build,
        location: request.location,
        ...(request.sizeBytes === undefined ? {} : { sizeBytes: request.sizeBytes }),
      },
      runtime.config.limits,
      runtime.tmpDir,
    );
  } catch (error) {
    const rejected = isFerryError(error) && !error.transient;
    log[rejected ? 'warn' : 'error'](rejected ? 'artifact rejected' : 'artifact could not be read', {
      app: app.name,
      build,
      key: request.location.key,
      versionId: request.location.versionId,
      reason: describeError(error),
      trigger: request.trigger,
    });
    return {
      app: app.name,
      build,
      status: rejected ? BuildStatus.Rejected : BuildStatus.Failed,
      stages: [],
      error: asError(error),
    };
  }
  try {
    const stages: StageResult[] = [];
    for (const stage of request.stages) {
      const targets = (app.targets[stage] ?? []).filter(request.targetFilter ?? (() => true));
      const outcomes = await deployToTargets(
        {
          artifact,
          targets,
          concurrency: runtime.config.concurrency,
          ...(request.dryRun ? { dryRun: true } : {}),
          onTargetDone: (outcome) => {
            logOutcome(log, artifact, stage, request.trigger, outcome);
            request.onTargetDone?.(outcome);
          },
        },
        runtime,
      );
      stages.push({ stage, outcomes });
    }
    const failed = stages.some((s) => s.outcomes.some((o) => o.status === TargetStatus.Failed));
    return {
      app: app.name,
      build,
      codeSha256: artifact.codeSha256,
      status: failed ? BuildStatus.Failed : request.dryRun ? BuildStatus.Planned : BuildStatus.Succeeded,
      stages,
    };
  } finally {
    await artifact.dispose();
  }
}

function logOutcome(
  log: DeployLog,
  artifact: PreparedArtifact,
  stage: string,
  trigger: Trigger,
  outcome: TargetOutcome,
): void {
  const { target } = outcome;
  const line = {
    app: artifact.app,
    build: artifact.build,
    stage,
    account: target.accountId,
    region: target.region,
    function: target.functionName,
    alias: target.alias,
    previousVersion: outcome.previousVersion,
    version: outcome.version,
    codeSha256: outcome.codeSha256,
    commit: artifact.commit,
    durationMs: outcome.durationMs,
    outcome: outcome.status,
    trigger,
    ...(outcome.plan ? { plan: describePlan(outcome.plan) } : {}),
    ...(outcome.error
      ? {
          reason: describeError(outcome.error),
          errorCode: isFerryError(outcome.error) ? outcome.error.code : undefined,
        }
      : {}),
  };
  if (outcome.status === TargetStatus.Failed) log.error('target deployment failed', line);
  else log.info(`target ${outcome.status}`, line);
}

function asError(error: unknown): FerryError | Error {
  return error instanceof Error ? error : new Error(describeError(error));
}
