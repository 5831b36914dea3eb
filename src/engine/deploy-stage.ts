/**
 * One verified artifact into every target of one stage, concurrently with a bound. Each target
 * ends with an outcome; one target's failure never stops the others.
 */
import pLimit from 'p-limit';
import type { CodeInput, LambdaPort } from '../aws/lambda.js';
import { chooseCodeSource, INLINE_MAX_BYTES } from '../core/code-source.js';
import type { Target } from '../core/config.js';
import { type ArtifactFacts, PlanOutcome, planTargetDeploy, type TargetPlan } from '../core/deploy-plan.js';
import { AccessError, describeError, type FerryError, isFerryError } from '../core/errors.js';
import { buildSessionName } from '../core/session-name.js';
import {
  DEFAULT_DEPLOY_TARGET_OPTIONS,
  type DeployTargetOptions,
  deployTarget,
  observeTarget,
} from './deploy-target.js';
import type { PreparedArtifact } from './prepare-artifact.js';
import type { RetryDeps } from './retry.js';

export const TargetStatus = {
  /** New code published and the alias moved. */
  Deployed: 'deployed',
  /** A version already held the artifact: only the alias moved (or nothing, if it was already there). */
  Unchanged: 'unchanged',
  /** Dry run: the plan only. */
  Planned: 'planned',
  Failed: 'failed',
} as const;
export type TargetStatus = (typeof TargetStatus)[keyof typeof TargetStatus];

export interface TargetOutcome {
  readonly target: Target;
  readonly status: TargetStatus;
  readonly plan?: TargetPlan;
  readonly previousVersion?: string;
  readonly version?: string;
  readonly codeSha256: string;
  readonly durationMs: number;
  readonly error?: FerryError | Error;
}

export interface StageDeployDeps extends RetryDeps {
  /** A Lambda port acting as the target's deploy role (assumed, cached and paced by the runtime). */
  readonly lambdaFor: (target: Target, sessionName: string) => Promise<LambdaPort>;
  readonly now: () => number;
}

export interface StageDeployRequest {
  readonly artifact: PreparedArtifact;
  readonly targets: readonly Target[];
  readonly concurrency: number;
  readonly dryRun?: boolean;
  readonly options?: DeployTargetOptions;
  /**
   * Target id → the version the ledger recorded as holding this very artifact (the stage's
   * current state, when its checksum is the artifact's). Versions are immutable, so a re-delivery
   * reuses it instead of publishing the same code again.
   */
  readonly knownVersions?: Readonly<Record<string, string>>;
  /** Called once per target as soon as it finishes, for progress output and summary logs. */
  readonly onTargetDone?: (outcome: TargetOutcome) => void;
  /** Publish without moving existing aliases: a traffic shift moves them afterwards. */
  readonly holdAlias?: boolean;
}

/**
 * The SDK sends a ZipFile as base64 inside a JSON body, so each inline upload briefly holds about
 * three times the artifact. This budget bounds how many run at once, whatever the concurrency.
 * Only targets in another Region than the artifact bucket go inline (see chooseCodeSource).
 */
export const INLINE_UPLOAD_BUDGET_BYTES = 256 * 1024 * 1024;

/** How many inline uploads of an artifact of this size may be in flight together. */
export function countUploadSlots(sizeBytes: number): number {
  return Math.max(1, Math.floor(INLINE_UPLOAD_BUDGET_BYTES / (3 * Math.max(1, sizeBytes))));
}

export async function deployToTargets(request: StageDeployRequest, deps: StageDeployDeps): Promise<TargetOutcome[]> {
  return (await runTargets(request, deps, () => true)).outcomes;
}

/**
 * As deployToTargets, but a target starts only while `canStart()` says there is time (an
 * invocation's remaining time): the ones never started come back as `deferred`, untouched, for
 * another invocation to deploy.
 */
export async function deployToTargetsWithin(
  request: StageDeployRequest,
  deps: StageDeployDeps,
  canStart: () => boolean,
): Promise<{ outcomes: TargetOutcome[]; deferred: Target[] }> {
  return runTargets(request, deps, canStart);
}

async function runTargets(
  request: StageDeployRequest,
  deps: StageDeployDeps,
  canStart: () => boolean,
): Promise<{ outcomes: TargetOutcome[]; deferred: Target[] }> {
  const limit = pLimit(request.concurrency);
  const uploads = pLimit(countUploadSlots(request.artifact.sizeBytes));
  const uploadSlot = <T>(upload: () => Promise<T>): Promise<T> => uploads(upload);
  const outcomes = new Map<Target, Promise<TargetOutcome | undefined>>();
  // Start targets round-robin across accounts: each account has its own Lambda rate budget, so
  // spreading the first slots over accounts keeps every budget busy instead of queueing on one.
  for (const target of interleaveByAccount(request.targets)) {
    outcomes.set(
      target,
      limit(async () => {
        if (!canStart()) return undefined;
        const outcome = await deployOneTarget(target, request, deps, uploadSlot);
        request.onTargetDone?.(outcome);
        return outcome;
      }),
    );
  }
  const settled = await Promise.all(
    request.targets.map((target) => outcomes.get(target) as Promise<TargetOutcome | undefined>),
  );
  return {
    outcomes: settled.filter((o): o is TargetOutcome => o !== undefined),
    deferred: request.targets.filter((_, i) => settled[i] === undefined),
  };
}

/** Targets reordered a, b, c, a, b, c… by account (and Region), keeping each account's own order. */
export function interleaveByAccount(targets: readonly Target[]): Target[] {
  const queues = new Map<string, Target[]>();
  for (const target of targets) {
    const key = `${target.accountId}/${target.region}`;
    const queue = queues.get(key) ?? [];
    queue.push(target);
    queues.set(key, queue);
  }
  const order: Target[] = [];
  for (let round = 0; order.length < targets.length; round++) {
    for (const queue of queues.values()) {
      const next = queue[round];
      if (next) order.push(next);
    }
  }
  return order;
}

async function deployOneTarget(
  target: Target,
  request: StageDeployRequest,
  deps: StageDeployDeps,
  uploadSlot: <T>(upload: () => Promise<T>) => Promise<T>,
): Promise<TargetOutcome> {
  const started = deps.now();
  const { artifact } = request;
  const options = request.options ?? DEFAULT_DEPLOY_TARGET_OPTIONS;
  const base = { target, codeSha256: artifact.codeSha256 };
  const known = request.knownVersions;
  const knownVersion = known !== undefined && Object.hasOwn(known, target.id) ? known[target.id] : undefined;
  try {
    const code = await chooseCodeInput(artifact, target);
    const lambda = await deps.lambdaFor(target, buildSessionName(artifact.app, artifact.build));
    const targetDeps = { ...deps, lambda, uploadSlot };
    if (request.dryRun) {
      const facts: ArtifactFacts = {
        codeSha256: artifact.codeSha256,
        via: 'zipFile' in code ? 'zip-file' : 's3-reference',
      };
      const observation = await observeTarget(target, facts, targetDeps, options, knownVersion);
      const plan = planTargetDeploy(observation, facts, target.alias);
      return {
        ...base,
        status: TargetStatus.Planned,
        plan,
        ...(plan.previousVersion ? { previousVersion: plan.previousVersion } : {}),
        ...(plan.targetVersion ? { version: plan.targetVersion } : {}),
        durationMs: deps.now() - started,
      };
    }
    const applied = await deployTarget(
      target,
      {
        app: artifact.app,
        build: artifact.build,
        codeSha256: artifact.codeSha256,
        code,
        ...(knownVersion === undefined ? {} : { knownVersion }),
        ...(request.holdAlias ? { holdAlias: true } : {}),
      },
      targetDeps,
      options,
    );
    // Moving the alias is a deployment, even onto a version that already existed (a run that died
    // between PublishVersion and the alias move, a re-delivery after a rollback): only a plan that
    // changed nothing is unchanged.
    const status = applied.plan.outcome === PlanOutcome.Unchanged ? TargetStatus.Unchanged : TargetStatus.Deployed;
    return {
      ...base,
      status,
      plan: applied.plan,
      version: applied.version,
      ...(applied.previousVersion ? { previousVersion: applied.previousVersion } : {}),
      durationMs: deps.now() - started,
    };
  } catch (error) {
    return {
      ...base,
      status: TargetStatus.Failed,
      error: isFerryError(error) || error instanceof Error ? error : new Error(describeError(error)),
      durationMs: deps.now() - started,
    };
  }
}

/**
 * By S3 reference to the pinned object version for every target in the bucket's Region, whatever
 * the size: Lambda reads the bytes ferry verified, and none pass through ferry. Inline (ZipFile)
 * only where Lambda cannot read the bucket (another Region) and the encoded request fits.
 */
export async function chooseCodeInput(artifact: PreparedArtifact, target: Target): Promise<CodeInput> {
  const { location } = artifact;
  const choice = chooseCodeSource(
    {
      sizeBytes: artifact.sizeBytes,
      bucketRegion: location.region,
      ...(location.versionId ? { versionId: location.versionId } : {}),
    },
    target.region,
  );
  if (choice.via === 's3-reference' && location.versionId) {
    return { s3Bucket: location.bucket, s3Key: location.key, s3ObjectVersion: location.versionId };
  }
  if (choice.via === 'zip-file') return { zipFile: await artifact.readBytes() };
  if (choice.via === 'none' && choice.reason === 'unversioned') {
    throw new AccessError(
      'ARTIFACT_BUCKET_UNVERSIONED',
      `The artifact bucket ${location.bucket} has no object versions, so ferry cannot pin the bytes Lambda reads, and at ${artifact.sizeBytes} bytes the artifact is too large to send inline (at most ${INLINE_MAX_BYTES}). Enable versioning on the bucket.`,
      { context: { bucket: location.bucket } },
    );
  }
  throw new AccessError(
    'ARTIFACT_BUCKET_WRONG_REGION',
    `The artifact is ${artifact.sizeBytes} bytes, above the ${INLINE_MAX_BYTES} bytes ferry sends inline (Lambda's 50 MB request limit after base64), so Lambda must read it from S3, but the bucket ${location.bucket} is in ${location.region} and ${target.functionName} is in ${target.region}. Lambda only reads S3 references from the function's Region: deploy this target with a ferry (and its bucket) in ${target.region}, or make the artifact smaller.`,
    { context: { bucket: location.bucket, function: target.functionName, region: target.region } },
  );
}
