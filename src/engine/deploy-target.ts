/**
 * Deploys one verified artifact to one target: observe, plan, apply. Every step is guarded
 * (RevisionId, CodeSha256), so a re-delivery converges without a duplicate version and a run that
 * died half-way resumes where it stopped.
 */

import type { CodeInput, LambdaPort } from '../aws/lambda.js';
import { computePollDelay } from '../core/backoff.js';
import type { Target } from '../core/config.js';
import {
  type ArtifactFacts,
  type DeployStep,
  isPublishedVersion,
  needsVersionList,
  planTargetDeploy,
  type TargetObservation,
  type TargetPlan,
} from '../core/deploy-plan.js';
import { ConflictError, DeployFailedError, isFerryError, TimeoutError } from '../core/errors.js';
import { type FunctionState, type PublishedVersion, UpdateStatus } from '../core/lambda-model.js';

export interface DeployTargetOptions {
  /** How long to wait for LastUpdateStatus to settle. */
  readonly updateTimeoutMs: number;
  readonly pollFirstMs: number;
  readonly pollMaxMs: number;
  /** Re-observe and re-plan this many times when the function changes under us (RevisionId). */
  readonly maxReplans: number;
}

export const DEFAULT_DEPLOY_TARGET_OPTIONS: DeployTargetOptions = {
  updateTimeoutMs: 10 * 60_000,
  // Updates take a second or more on AWS; the first look comes after a short pause, then steadily.
  pollFirstMs: 250,
  pollMaxMs: 1_000,
  maxReplans: 3,
};

export interface TargetArtifact {
  readonly app: string;
  readonly build: string;
  readonly codeSha256: string;
  readonly code: CodeInput;
  /** The version the ledger recorded as holding this artifact on this target, if any. */
  readonly knownVersion?: string;
  /** Publish only: an existing alias is left where it is (a traffic shift moves it). A missing alias is still created. */
  readonly holdAlias?: boolean;
}

export interface DeployTargetDeps {
  readonly lambda: LambdaPort;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  /** Runs one code upload; bounds how many inline (ZipFile) uploads are in memory at once. */
  readonly uploadSlot?: <T>(upload: () => Promise<T>) => Promise<T>;
}

export interface AppliedTarget {
  readonly plan: TargetPlan;
  readonly previousVersion?: string;
  readonly version: string;
}

/**
 * Reads what a plan needs: $LATEST (settled), the alias, the version the ledger knows for this
 * artifact when there is one, and the versions when $LATEST already holds the artifact and no
 * known version does.
 */
export async function observeTarget(
  target: Target,
  artifact: ArtifactFacts,
  deps: DeployTargetDeps,
  options: DeployTargetOptions,
  knownVersion?: string,
): Promise<TargetObservation> {
  let latest = await deps.lambda.getFunctionConfiguration(target.functionName);
  if (latest.lastUpdateStatus === UpdateStatus.InProgress) {
    // Someone else's update is settling; plan against its outcome, not its middle.
    latest = await waitForSettledUpdate(target, deps, options, { failOnFailed: false });
  }
  const alias = await deps.lambda.getAlias(target.functionName, target.alias);
  const known = knownVersion === undefined ? undefined : await readKnownVersion(target, knownVersion, deps);
  const base = { latest, ...(alias ? { alias } : {}), ...(known ? { knownVersion: known } : {}) };
  if (!needsVersionList(base, artifact)) return base;
  const versions = await deps.lambda.listVersions(target.functionName);
  return { ...base, versions };
}

/**
 * The code of the version the ledger recorded, so the planner reuses it only while it really
 * holds the artifact (a function deleted and re-created numbers its versions from 1 again).
 * A version that no longer exists is simply not known.
 */
async function readKnownVersion(
  target: Target,
  version: string,
  deps: DeployTargetDeps,
): Promise<PublishedVersion | undefined> {
  if (!isPublishedVersion(version)) return undefined;
  try {
    const state = await deps.lambda.getFunctionConfiguration(target.functionName, version);
    return {
      version: state.version,
      codeSha256: state.codeSha256,
      ...(state.description ? { description: state.description } : {}),
    };
  } catch (error) {
    if (isFerryError(error) && error.code === 'FUNCTION_NOT_FOUND') return undefined;
    throw error;
  }
}

/** Observes, plans and applies; re-plans when the function changed between reading and writing. */
export async function deployTarget(
  target: Target,
  artifact: TargetArtifact,
  deps: DeployTargetDeps,
  options: DeployTargetOptions = DEFAULT_DEPLOY_TARGET_OPTIONS,
): Promise<AppliedTarget> {
  const facts: ArtifactFacts = {
    codeSha256: artifact.codeSha256,
    via: 'zipFile' in artifact.code ? 'zip-file' : 's3-reference',
  };
  let lastConflict: unknown;
  for (let round = 0; round <= options.maxReplans; round++) {
    const observation = await observeTarget(target, facts, deps, options, artifact.knownVersion);
    const plan = planTargetDeploy(observation, facts, target.alias);
    try {
      return await applyPlan(target, artifact, plan, observation, deps, options);
    } catch (error) {
      if (!isReplannable(error)) throw error;
      lastConflict = error;
    }
  }
  throw new ConflictError(
    'TARGET_KEEPS_CHANGING',
    `${target.functionName} in account ${target.accountId} kept changing while ferry deployed to it (${options.maxReplans + 1} attempts). Another tool is deploying it at the same time; stop it and redeliver.`,
    { cause: lastConflict, context: { account: target.accountId, function: target.functionName } },
  );
}

/** The function or alias changed under ferry (or the alias appeared): re-read and plan again. */
function isReplannable(error: unknown): boolean {
  return (
    isFerryError(error) &&
    (error.code === 'LAMBDA_REVISION_CHANGED' ||
      error.code === 'LAMBDA_CODE_CHANGED' ||
      error.code === 'LAMBDA_ALIAS_EXISTS')
  );
}

async function applyPlan(
  target: Target,
  artifact: TargetArtifact,
  plan: TargetPlan,
  observation: TargetObservation,
  deps: DeployTargetDeps,
  options: DeployTargetOptions,
): Promise<AppliedTarget> {
  let revisionId = observation.latest.revisionId;
  let version = plan.targetVersion;
  for (const step of plan.steps) {
    switch (step.kind) {
      case 'update-code': {
        const upload = () =>
          deps.lambda.updateFunctionCode({
            functionName: target.functionName,
            revisionId: step.expectedRevisionId,
            code: artifact.code,
          });
        await (deps.uploadSlot ? deps.uploadSlot(upload) : upload());
        break;
      }
      case 'wait-for-update': {
        // RevisionId changes again when the asynchronous update finishes: take it from the settled state.
        const settled = await waitForSettledUpdate(target, deps, options, { failOnFailed: true });
        if (settled.codeSha256 !== artifact.codeSha256) {
          throw new ConflictError(
            'LAMBDA_CODE_CHANGED',
            `${target.functionName} holds other code than the artifact after the update; something else changed it.`,
          );
        }
        revisionId = settled.revisionId;
        break;
      }
      case 'publish-version': {
        const published = await deps.lambda.publishVersion({
          functionName: target.functionName,
          codeSha256: step.codeSha256,
          revisionId,
          description: describeVersion(artifact),
        });
        if (published.codeSha256 !== artifact.codeSha256) {
          throw new DeployFailedError(
            'PUBLISHED_CODE_MISMATCH',
            `Lambda published version ${published.version} of ${target.functionName} with CodeSha256 ${published.codeSha256}, not the artifact's ${artifact.codeSha256}. The alias was not moved.`,
            { context: { account: target.accountId, function: target.functionName, version: published.version } },
          );
        }
        version = published.version;
        break;
      }
      case 'point-alias': {
        const to = step.version ?? version;
        if (to === undefined) throw new Error('planner bug: alias step without a version');
        if (artifact.holdAlias && !step.create) {
          version = to;
          break;
        }
        await pointAlias(target, step, to, artifact, deps);
        version = to;
        break;
      }
    }
  }
  if (version === undefined) throw new Error('planner bug: plan ended without a version');
  return { plan, version, ...(plan.previousVersion === undefined ? {} : { previousVersion: plan.previousVersion }) };
}

async function pointAlias(
  target: Target,
  step: Extract<DeployStep, { kind: 'point-alias' }>,
  version: string,
  artifact: TargetArtifact,
  deps: DeployTargetDeps,
): Promise<void> {
  const description = `ferry: ${artifact.app} ${artifact.build}`.slice(0, 256);
  if (!step.create) {
    await deps.lambda.updateAlias({
      functionName: target.functionName,
      alias: target.alias,
      version,
      description,
      ...(step.expectedRevisionId ? { revisionId: step.expectedRevisionId } : {}),
    });
    return;
  }
  // Throttling and an update still in progress are retried in place. An alias that now exists
  // (LAMBDA_ALIAS_EXISTS) means two deliveries raced to create it: the loser re-plans against that
  // alias at once instead of repeating the create.
  await deps.lambda.createAlias({ functionName: target.functionName, alias: target.alias, version, description });
}

/** Polls GetFunctionConfiguration until LastUpdateStatus leaves InProgress. Failed → DeployFailedError with Lambda's reason. */
export async function waitForSettledUpdate(
  target: Target,
  deps: DeployTargetDeps,
  options: DeployTargetOptions,
  mode: { failOnFailed: boolean },
): Promise<FunctionState> {
  const deadline = deps.now() + options.updateTimeoutMs;
  for (let poll = 0; ; poll++) {
    // Sleep first: whoever calls this has just seen (or caused) InProgress, so an immediate poll
    // would only repeat that answer and spend the account's request budget.
    await deps.sleep(computePollDelay(poll, options.pollFirstMs, options.pollMaxMs));
    const state = await deps.lambda.getFunctionConfiguration(target.functionName);
    if (state.lastUpdateStatus !== UpdateStatus.InProgress) {
      if (state.lastUpdateStatus === UpdateStatus.Failed && mode.failOnFailed) {
        throw new DeployFailedError(
          'LAMBDA_UPDATE_FAILED',
          `Lambda reported the code update of ${target.functionName} in account ${target.accountId} as Failed: ${state.lastUpdateStatusReasonCode ?? 'unknown'}: ${state.lastUpdateStatusReason ?? 'no reason given'}. The alias still serves the previous version.`,
          {
            context: {
              account: target.accountId,
              function: target.functionName,
              reasonCode: state.lastUpdateStatusReasonCode,
            },
          },
        );
      }
      return state;
    }
    if (deps.now() >= deadline) {
      throw new TimeoutError(
        'LAMBDA_UPDATE_TIMEOUT',
        `${target.functionName} in account ${target.accountId} was still updating after ${Math.round(options.updateTimeoutMs / 1000)} s. The alias was not moved; redeliver the artifact to resume.`,
        { context: { account: target.accountId, function: target.functionName } },
      );
    }
  }
}

/** Version descriptions (≤ 256 chars) name app, build and checksum, so any version can be traced back. */
export function describeVersion(artifact: { app: string; build: string; codeSha256: string }): string {
  return `ferry: ${artifact.app} ${artifact.build} sha256:${artifact.codeSha256}`.slice(0, 256);
}

/** Reads app and build back from a version description written by ferry. */
export function parseVersionDescription(
  description: string | undefined,
): { app: string; build: string; codeSha256?: string } | undefined {
  const match = /^ferry: (\S+) (\S+)(?: sha256:(\S+))?$/.exec(description ?? '');
  if (!match?.[1] || !match[2]) return undefined;
  return { app: match[1], build: match[2], ...(match[3] ? { codeSha256: match[3] } : {}) };
}
