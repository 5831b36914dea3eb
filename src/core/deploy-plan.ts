/**
 * Deciding what to do to one target, as plain data: the executor applies it, `--dry-run` prints
 * it, tests assert it. No AWS SDK here.
 */
import type { AliasState, FunctionState, PublishedVersion } from './lambda-model.js';
import { compareVersions, UpdateStatus } from './lambda-model.js';

/** How Lambda receives the code: inline bytes (≤ 50 MB) or a pinned S3 object version. */
export type CodeSource = 'zip-file' | 's3-reference';

export type DeployStep =
  | { readonly kind: 'update-code'; readonly via: CodeSource; readonly expectedRevisionId: string }
  | { readonly kind: 'wait-for-update' }
  | { readonly kind: 'publish-version'; readonly codeSha256: string }
  | {
      readonly kind: 'point-alias';
      readonly alias: string;
      /** A known version to point at, or undefined for "the version just published". */
      readonly version?: string;
      /** Create the alias (it does not exist yet) rather than update it. */
      readonly create: boolean;
      readonly expectedRevisionId?: string;
    };

export const PlanOutcome = {
  /** New code: update, wait, publish, move the alias. */
  Deploy: 'deploy',
  /** $LATEST already holds the artifact but no version has it: publish and move the alias. */
  Publish: 'publish',
  /** A published version already holds the artifact: only move the alias to it. */
  PointAlias: 'point-alias',
  /** The alias already serves the artifact with no canary routing: nothing to do. */
  Unchanged: 'unchanged',
} as const;
export type PlanOutcome = (typeof PlanOutcome)[keyof typeof PlanOutcome];

export interface TargetPlan {
  readonly outcome: PlanOutcome;
  readonly steps: readonly DeployStep[];
  /** The version the alias served before, if the alias exists. */
  readonly previousVersion?: string;
  /** The version that will serve afterwards when already known (reuse cases). */
  readonly targetVersion?: string;
}

export interface TargetObservation {
  readonly latest: FunctionState;
  readonly alias?: AliasState;
  /** Only read when $LATEST already holds the artifact (to find a version to reuse). */
  readonly versions?: readonly PublishedVersion[];
  /**
   * The version the ledger recorded for this artifact on this target, as Lambda describes it.
   * Versions are immutable, so when it still holds the artifact it is reused as it is, whatever
   * $LATEST holds now (after a rollback, $LATEST holds the newer build's code).
   */
  readonly knownVersion?: PublishedVersion;
}

export interface ArtifactFacts {
  readonly codeSha256: string;
  readonly via: CodeSource;
}

/** True when the observation needs the published versions before a plan can be made. */
export function needsVersionList(observation: Omit<TargetObservation, 'versions'>, artifact: ArtifactFacts): boolean {
  if (knownVersionHolds(observation.knownVersion, artifact)) return false;
  return latestHoldsArtifact(observation.latest, artifact);
}

/**
 * Plans one target. Re-delivery of an artifact that is already published only points the alias
 * at that version, so no duplicate version is ever created: first the version the ledger knows
 * (whatever $LATEST holds), then one found among the versions when $LATEST holds the artifact.
 * A run that died after updating code resumes by publishing; everything else updates the code first.
 */
export function planTargetDeploy(observation: TargetObservation, artifact: ArtifactFacts, alias: string): TargetPlan {
  const { latest } = observation;
  const current = observation.alias;
  const previous = current === undefined ? {} : { previousVersion: current.functionVersion };
  const pointAt = (version?: string): DeployStep => ({
    kind: 'point-alias',
    alias,
    create: current === undefined,
    ...(version === undefined ? {} : { version }),
    ...(current === undefined ? {} : { expectedRevisionId: current.revisionId }),
  });

  const reuseVersion = (reuse: string): TargetPlan => {
    if (current !== undefined && current.functionVersion === reuse && Object.keys(current.routing).length === 0) {
      return { outcome: PlanOutcome.Unchanged, steps: [], ...previous, targetVersion: reuse };
    }
    return { outcome: PlanOutcome.PointAlias, steps: [pointAt(reuse)], ...previous, targetVersion: reuse };
  };

  const known = observation.knownVersion;
  if (known !== undefined && knownVersionHolds(known, artifact)) return reuseVersion(known.version);
  if (latestHoldsArtifact(latest, artifact)) {
    const reuse = newestVersionWith(observation.versions ?? [], artifact.codeSha256);
    if (reuse !== undefined) return reuseVersion(reuse);
    return {
      outcome: PlanOutcome.Publish,
      steps: [{ kind: 'publish-version', codeSha256: artifact.codeSha256 }, pointAt()],
      ...previous,
    };
  }
  return {
    outcome: PlanOutcome.Deploy,
    steps: [
      { kind: 'update-code', via: artifact.via, expectedRevisionId: latest.revisionId },
      { kind: 'wait-for-update' },
      { kind: 'publish-version', codeSha256: artifact.codeSha256 },
      pointAt(),
    ],
    ...previous,
  };
}

function latestHoldsArtifact(latest: FunctionState, artifact: ArtifactFacts): boolean {
  // A Failed update leaves the old code serving; only a Successful (or never-updated) $LATEST counts.
  const settled = latest.lastUpdateStatus === undefined || latest.lastUpdateStatus === UpdateStatus.Successful;
  return settled && latest.codeSha256 === artifact.codeSha256;
}

function knownVersionHolds(known: PublishedVersion | undefined, artifact: ArtifactFacts): boolean {
  return known !== undefined && isPublishedVersion(known.version) && known.codeSha256 === artifact.codeSha256;
}

/** A published version number: $LATEST (or anything else) never counts as immutable code. */
export function isPublishedVersion(version: string): boolean {
  return /^[1-9]\d*$/.test(version);
}

function newestVersionWith(versions: readonly PublishedVersion[], codeSha256: string): string | undefined {
  return versions
    .filter((v) => v.version !== '$LATEST' && v.codeSha256 === codeSha256)
    .map((v) => v.version)
    .sort(compareVersions)
    .at(-1);
}

/** A one-line human description of a plan, for logs and `--dry-run`. */
export function describePlan(plan: TargetPlan): string {
  if (plan.steps.length === 0) return `unchanged: alias already serves version ${plan.targetVersion ?? '?'}`;
  return plan.steps.map(describeStep).join(', then ');
}

function describeStep(step: DeployStep): string {
  if (step.kind === 'update-code') return `update code (${step.via}, if revision ${step.expectedRevisionId})`;
  if (step.kind === 'wait-for-update') return 'wait for Successful';
  if (step.kind === 'publish-version') return `publish version (CodeSha256 ${step.codeSha256})`;
  return `${step.create ? 'create' : 'move'} alias ${step.alias} → ${step.version ?? 'new version'}`;
}
