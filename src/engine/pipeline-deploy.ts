/**
 * One invocation of a CodePipeline job: stage the artifact (first invocation only), then deploy
 * the selected targets through the shared engine, in one deployment that starts targets while time allows. The result is the
 * report to send, as plain data: final success with output variables, "still working" with a
 * continuation token listing the finished targets, or failure. Thrown errors are the caller's to
 * report.
 */
import type { ObjectStorePort } from '../aws/s3.js';
import { formatArtifactKey } from '../core/artifact-key.js';
import { checkBuildPattern } from '../core/build-pattern.js';
import type { Target } from '../core/config.js';
import { ConfigurationError, DeployFailedError, describeError, InputError, isFerryError } from '../core/errors.js';
import {
  type ArtifactCredentials,
  type ContinuationState,
  classifyFailure,
  decodeContinuationToken,
  deriveBuildId,
  encodeContinuationToken,
  type FinishedTarget,
  fingerprintTargets,
  PipelineFailureType,
  type PipelineInputArtifact,
  type PipelineJob,
  type PipelineParameters,
  type PipelineSelection,
  selectPipelineTargets,
  truncateText,
} from '../core/pipeline-job.js';
import { describeServedDrift, findServedDrift } from '../core/served-check.js';
import { buildSessionName } from '../core/session-name.js';
import type { InvocationBudget } from '../core/shard-plan.js';
import { resolveShiftSettings } from '../core/traffic-config.js';
import { isAllAtOnce } from '../core/traffic-policy.js';
import { describeWeights, ShiftStatus } from '../core/traffic-shift.js';
import type { Runtime } from '../runtime/create-runtime.js';
import {
  type BuildDeployRequest,
  type BuildDeployResult,
  BuildStatus,
  type DeployLog,
  deployBuild,
  StageStatus,
  Trigger,
} from './deploy-build.js';
import { TargetStatus } from './deploy-stage.js';
import { recordRejected } from './ledger.js';
import { observeServed } from './observe-served.js';
import { stagePipelineArtifact } from './pipeline-artifact.js';
import { readShift } from './traffic-store.js';

export type PipelineReport =
  | {
      readonly kind: 'success';
      readonly summary: string;
      readonly outputVariables: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'continue';
      readonly summary: string;
      readonly continuationToken: string;
      readonly percentComplete: number;
    }
  | { readonly kind: 'failure'; readonly type: PipelineFailureType; readonly message: string };

export interface PipelineRunDeps {
  readonly runtime: Runtime;
  readonly log: DeployLog;
  /** A store over the pipeline's artifact bucket, acting with the job's artifact credentials. */
  readonly openSourceStore: (credentials: ArtifactCredentials) => ObjectStorePort;
  /** Lambda's context.getRemainingTimeInMillis. */
  readonly remainingTimeMs: () => number;
  /** Start no target when less than this remains: the rest continue in the next invocation. */
  readonly safetyMarginMs: number;
}

/** Long enough for a final report and a batch that runs over: Lambda's waiter alone may take minutes. */
export const DEFAULT_SAFETY_MARGIN_MS = 60_000;

/** The "no previous version" value: pipeline variables cannot be empty. */
const NONE = 'none';

export async function runPipelineJob(
  deps: PipelineRunDeps,
  job: PipelineJob,
  params: PipelineParameters,
): Promise<PipelineReport> {
  const { runtime } = deps;
  // A new job's build is fixed before staging, so a refusal of its artifact names it.
  const run = job.continuationToken
    ? { token: job.continuationToken }
    : { start: planStart(runtime, job, params), token: undefined };
  const start = run.token === undefined ? run.start : undefined;
  let selection: PipelineSelection;
  let state: ContinuationState;
  try {
    selection = selectPipelineTargets(runtime.config, params);
    state =
      run.token === undefined
        ? await startState(deps, job, params, selection, run.start)
        : await resumeState(runtime.store, runtime.config, run.token, params, selection);
  } catch (error) {
    // Refused before the engine ran, so deployBuild never saw it: the ledger must hear it from here.
    await recordRejectedJob(runtime, deps.log, {
      jobId: job.jobId,
      ...(start ? { executionId: start.executionId } : job.executionId ? { executionId: job.executionId } : {}),
      app: params.app,
      stage: params.stage,
      ...(start ? { build: start.build } : params.build ? { build: params.build } : {}),
      ...(job.inputArtifacts[0] ? { artifact: job.inputArtifacts[0] } : {}),
      error,
    });
    throw error;
  }
  const done = new Map(state.done.map((t) => [t.index, t] as const));
  const pending = selection.targets.map((target, index) => ({ target, index })).filter((t) => !done.has(t.index));

  if (pending.length > 0 && deps.remainingTimeMs() < deps.safetyMarginMs) {
    // Staging took most of the time: the token pins the staged object, so nothing is redone.
    return continueReport(state, done, selection);
  }

  const shifting = !isAllAtOnce(resolveShiftSettings(selection.app.traffic[selection.stage], undefined).policy);
  // One deployment for the pending targets: the artifact is prepared and verified once, the lease
  // held throughout and one ledger entry written. A target starts only while time allows; the
  // others come back deferred and continue in the next invocation. (A traffic shift covers the
  // targets of one release: the engine starts all of them.)
  if (pending.length > 0) {
    const result = await deployBuild(
      runtime,
      deps.log,
      deployRequest(runtime.config, job, state, selection, pending, {
        remainingMs: deps.remainingTimeMs,
        marginMs: deps.safetyMarginMs,
      }),
    );
    if (result.status !== BuildStatus.Succeeded) {
      // A shift that ended at once (a hook or an alarm) fails the job with the gate's reason.
      const ended = shifting ? await reportShift(runtime, state, done, selection) : undefined;
      return ended?.kind === 'failure' ? ended : failureReport(result, selection, done);
    }
    for (const outcome of result.stages.flatMap((s) => s.outcomes)) {
      const index = selection.targets.findIndex((t) => t.id === outcome.target.id);
      if (index < 0) continue;
      done.set(index, {
        index,
        status: outcome.status === TargetStatus.Deployed ? 'deployed' : 'unchanged',
        version: outcome.version ?? NONE,
        ...(outcome.previousVersion ? { previousVersion: outcome.previousVersion } : {}),
      });
    }
    if (result.stages.some((s) => (s.deferred?.length ?? 0) > 0)) return continueReport(state, done, selection);
  }
  if (shifting) {
    const report = await reportShift(runtime, state, done, selection);
    if (report !== undefined) return report;
  }
  const unconfirmed = await confirmTokenTargets(runtime, state, selection);
  if (unconfirmed !== undefined) {
    await recordRejectedJob(runtime, deps.log, {
      jobId: job.jobId,
      executionId: state.executionId,
      app: selection.app.name,
      stage: selection.stage,
      build: state.build,
      error: unconfirmed,
    });
    return reportForError(unconfirmed);
  }
  return successReport(state, done, selection);
}

/**
 * The targets an earlier invocation finished come from the continuation token, which anyone
 * could have edited: before success is reported, each one's alias is read live and must serve
 * the build's checksum at the version the token names. Returns the error to fail the job with.
 */
async function confirmTokenTargets(
  runtime: Runtime,
  state: ContinuationState,
  selection: PipelineSelection,
): Promise<DeployFailedError | undefined> {
  const claimed = state.done.flatMap((t) => {
    const target = selection.targets[t.index];
    return target ? [{ target, version: t.version }] : [];
  });
  if (claimed.length === 0) return undefined;
  const served = await observeServed(
    runtime,
    claimed.map((c) => c.target),
    buildSessionName(selection.app.name, state.build),
  );
  const drift = findServedDrift(
    claimed.map((c) => ({ targetId: c.target.id, codeSha256: state.codeSha256, version: c.version })),
    served,
  );
  if (drift.length === 0) return undefined;
  return new DeployFailedError(
    'PIPELINE_TOKEN_DRIFT',
    `Not reporting success for ${selection.app.name} build ${state.build}: ${describeServedDrift(drift, 'the continuation token')}. The token or the targets changed between invocations; retry the action so it deploys again.`,
    { context: { app: selection.app.name, stage: selection.stage, build: state.build } },
  );
}

/** The run a new job starts: its execution id and build. */
function planStart(
  runtime: Runtime,
  job: PipelineJob,
  params: PipelineParameters,
): { executionId: string; build: string } {
  // Without an execution id the first job's id names the run; continuations keep it from the token.
  const executionId = params.executionId ?? job.executionId ?? job.jobId;
  return { executionId, build: params.build ?? deriveBuildId(new Date(runtime.now()), executionId) };
}

async function startState(
  deps: PipelineRunDeps,
  job: PipelineJob,
  params: PipelineParameters,
  selection: PipelineSelection,
  start: { executionId: string; build: string },
): Promise<ContinuationState> {
  const { runtime } = deps;
  const input = job.inputArtifacts[0];
  if (!input) {
    throw new ConfigurationError(
      'PIPELINE_NO_INPUT_ARTIFACT',
      'The action has no input artifact. Give it the artifact that holds the function zip (the build output) as its input.',
    );
  }
  const { executionId, build } = start;
  const patternProblem = checkBuildPattern(selection.app, build);
  if (patternProblem !== undefined) {
    // Before staging: a build id the app refuses is never copied into the bucket.
    throw new ConfigurationError('BUILD_PATTERN_MISMATCH', `${patternProblem} Set "build" in UserParameters.`, {
      context: { app: selection.app.name, build },
    });
  }
  const staged = await stagePipelineArtifact(
    {
      source: deps.openSourceStore(job.artifactCredentials),
      store: runtime.store,
      config: runtime.config,
      ledger: runtime,
      ...(runtime.tmpDir ? { tmpDir: runtime.tmpDir } : {}),
    },
    {
      artifact: input,
      ...(params.path ? { path: params.path } : {}),
      app: selection.app.name,
      build,
      jobId: job.jobId,
      executionId,
    },
  );
  deps.log.info('pipeline artifact staged', {
    jobId: job.jobId,
    app: selection.app.name,
    stage: selection.stage,
    build,
    key: staged.key,
    versionId: staged.versionId,
    codeSha256: staged.codeSha256,
    sizeBytes: staged.sizeBytes,
    written: staged.written,
  });
  return {
    build,
    codeSha256: staged.codeSha256,
    ...(staged.versionId ? { versionId: staged.versionId } : {}),
    sizeBytes: staged.sizeBytes,
    fingerprint: fingerprintTargets(selection.targets),
    executionId,
    done: [],
  };
}

/** A token resumes only the job it came from: same targets, and the pinned object still holds the artifact. */
async function resumeState(
  store: ObjectStorePort,
  config: Runtime['config'],
  token: string,
  params: PipelineParameters,
  selection: PipelineSelection,
): Promise<ContinuationState> {
  const state = decodeContinuationToken(token);
  if (state.fingerprint !== fingerprintTargets(selection.targets)) {
    throw new ConfigurationError(
      'PIPELINE_TARGETS_CHANGED',
      `The targets of app '${selection.app.name}' in stage '${selection.stage}' changed since this job started (configuration or "targets"). Retry the action so it starts over with the current targets.`,
    );
  }
  if (state.done.some((t) => t.index >= selection.targets.length)) {
    throw new InputError('PIPELINE_TOKEN_INVALID', 'The continuation token names targets that do not exist.');
  }
  if (params.build && params.build !== state.build) {
    throw new InputError(
      'PIPELINE_TOKEN_INVALID',
      `The continuation token is for build ${state.build}, but UserParameters name build ${params.build}.`,
    );
  }
  const key = formatArtifactKey(config.artifactPrefix, { app: selection.app.name, build: state.build });
  const head = await store.headArtifact({
    bucket: config.artifactBucket,
    key,
    ...(state.versionId ? { versionId: state.versionId } : {}),
  });
  // A multipart copy's ChecksumSHA256 is S3's composite; its whole-object SHA-256 is the metadata
  // ferry wrote on that (immutable) version, which the deployment verifies against the bytes again.
  const composite = head.checksumType === 'COMPOSITE' || /-\d+$/.test(head.checksumSha256 ?? '');
  const wholeSha256 = composite ? head.metadata.sha256 : head.checksumSha256;
  if (wholeSha256 !== state.codeSha256) {
    throw new InputError(
      'PIPELINE_TOKEN_INVALID',
      `s3://${config.artifactBucket}/${key} no longer holds the artifact this job started with (sha256 ${state.codeSha256}). Retry the action.`,
    );
  }
  return state;
}

function deployRequest(
  config: Runtime['config'],
  job: PipelineJob,
  state: ContinuationState,
  selection: PipelineSelection,
  batch: readonly { target: Target }[],
  budget: InvocationBudget,
): BuildDeployRequest {
  const ids = new Set(batch.map((b) => b.target.id));
  return {
    app: selection.app,
    build: state.build,
    location: {
      bucket: config.artifactBucket,
      key: formatArtifactKey(config.artifactPrefix, { app: selection.app.name, build: state.build }),
      region: config.region,
      ...(state.versionId ? { versionId: state.versionId } : {}),
    },
    sizeBytes: state.sizeBytes,
    stages: [selection.stage],
    trigger: Trigger.Pipeline,
    targetFilter: (target) => ids.has(target.id),
    // Links the ledger record to the job and the pipeline run.
    pipeline: { jobId: job.jobId, executionId: state.executionId },
    budget,
    returnDeferred: true,
  };
}

/**
 * While the build's traffic shift is in flight the action stays in progress (a continuation token
 * each time CodePipeline asks again); it fails with the gate's reason when the shift ends without
 * reaching 100 %. Undefined when the shift succeeded (or there is none for this build): the
 * usual checks and success report follow.
 */
async function reportShift(
  runtime: Runtime,
  state: ContinuationState,
  done: ReadonlyMap<number, FinishedTarget>,
  selection: PipelineSelection,
): Promise<PipelineReport | undefined> {
  const shift = (await readShift(runtime, selection.app.name, selection.stage))?.value;
  if (shift === undefined || shift.build !== state.build) return undefined;
  const head = `${selection.app.name} build ${state.build} to ${selection.stage}`;
  if (shift.status === ShiftStatus.InFlight) {
    const weights = Object.values(describeWeights(shift));
    const percent = weights.length === 0 ? 0 : weights.reduce((a, b) => a + b, 0) / weights.length;
    return {
      kind: 'continue',
      summary: truncateText(
        `${head}: shifting with ${shift.settings.policy.name}, ${shift.position.percent}% on wave ${shift.position.wave + 1} of ${shift.waves.length} (${shift.position.phase}).`,
        2048,
      ),
      continuationToken: encodeContinuationToken({
        ...state,
        done: [...done.values()].sort((a, b) => a.index - b.index),
      }),
      percentComplete: Math.min(99, Math.floor(percent)),
    };
  }
  if (shift.status === ShiftStatus.Succeeded) return undefined;
  return {
    kind: 'failure',
    type: PipelineFailureType.JobFailed,
    message: truncateText(
      `${head}: the traffic shift ended ${shift.status}: ${shift.reason ?? 'no reason recorded'}`,
      5000,
    ),
  };
}

function continueReport(
  state: ContinuationState,
  done: ReadonlyMap<number, FinishedTarget>,
  selection: PipelineSelection,
): PipelineReport {
  const finished = [...done.values()].sort((a, b) => a.index - b.index);
  const total = selection.targets.length;
  return {
    kind: 'continue',
    summary: `${selection.app.name} build ${state.build} to ${selection.stage}: ${finished.length} of ${total} targets done, continuing.`,
    continuationToken: encodeContinuationToken({ ...state, done: finished }),
    percentComplete: Math.min(99, Math.floor((finished.length / total) * 100)),
  };
}

function successReport(
  state: ContinuationState,
  done: ReadonlyMap<number, FinishedTarget>,
  selection: PipelineSelection,
): PipelineReport {
  const rows = selection.targets.map((target, index) => ({ target, finished: done.get(index) }));
  const deployed = rows.filter((r) => r.finished?.status === 'deployed').length;
  const detail = rows
    .map(({ target, finished }) => {
      const was = finished?.previousVersion ? ` (was ${finished.previousVersion})` : '';
      return `${target.functionName}@${target.accountId}/${target.region}:${target.alias} → ${finished?.version ?? '?'}${was}`;
    })
    .join('; ');
  return {
    kind: 'success',
    summary: truncateText(
      `${selection.app.name} build ${state.build} (sha256 ${state.codeSha256}) to ${selection.stage}: ${deployed} deployed, ${rows.length - deployed} unchanged. ${detail}`,
      2048,
    ),
    outputVariables: buildOutputVariables(state, rows),
  };
}

/**
 * One target: `version`, `previousVersion`, `alias`, `checksum`, `build`. Several targets: `build`,
 * `checksum`, `targetCount`, and per target `<label>_version`, `<label>_previousVersion`,
 * `<label>_alias`, where the label is the function name, or `<account>_<region>_<function>` when
 * two selected targets share a function name.
 */
export function buildOutputVariables(
  state: Pick<ContinuationState, 'build' | 'codeSha256'>,
  rows: readonly { target: Target; finished?: FinishedTarget }[],
): Record<string, string> {
  const common = { build: state.build, checksum: state.codeSha256 };
  const [only] = rows;
  if (rows.length === 1 && only) {
    return {
      ...common,
      version: only.finished?.version ?? NONE,
      previousVersion: only.finished?.previousVersion ?? NONE,
      alias: only.target.alias,
    };
  }
  const names = new Map<string, number>();
  for (const { target } of rows) names.set(target.functionName, (names.get(target.functionName) ?? 0) + 1);
  const variables: Record<string, string> = { ...common, targetCount: String(rows.length) };
  for (const { target, finished } of rows) {
    const label =
      names.get(target.functionName) === 1
        ? target.functionName
        : `${target.accountId}_${target.region}_${target.functionName}`;
    variables[`${label}_version`] = finished?.version ?? NONE;
    variables[`${label}_previousVersion`] = finished?.previousVersion ?? NONE;
    variables[`${label}_alias`] = target.alias;
  }
  return variables;
}

function failureReport(
  result: BuildDeployResult,
  selection: PipelineSelection,
  done: ReadonlyMap<number, FinishedTarget>,
): PipelineReport {
  const head = `${selection.app.name} build ${result.build} to ${selection.stage}`;
  if (result.error) {
    return {
      kind: 'failure',
      type: classifyFailure(result.error),
      message: truncateText(`${head} was refused: ${describeError(result.error)}`, 5000),
    };
  }
  const skipped = result.stages.find((s) => s.status === StageStatus.Skipped);
  if (result.status === BuildStatus.Skipped && skipped) {
    return {
      kind: 'failure',
      type: PipelineFailureType.JobFailed,
      message: truncateText(`${head} was not deployed: ${skipped.reason ?? 'skipped'}.`, 5000),
    };
  }
  const outcomes = result.stages.flatMap((s) => s.outcomes);
  const failed = outcomes.filter((o) => o.status === TargetStatus.Failed);
  const finished = done.size + outcomes.length - failed.length;
  const reasons =
    failed.map((o) => `${o.target.id}: ${describeError(o.error)}`).join('; ') ||
    result.stages.map((s) => `${s.stage}: ${s.reason ?? s.status}`).join('; ');
  return {
    kind: 'failure',
    type: classifyFailure(failed[0]?.error),
    message: truncateText(
      `${head} failed on ${failed.length} of ${selection.targets.length} targets (${finished} done, the others untouched): ${reasons}`,
      5000,
    ),
  };
}

export interface RejectedJob {
  readonly jobId: string;
  readonly executionId?: string;
  /** As the job named them; used only when configured. */
  readonly app?: string;
  readonly stage?: string;
  readonly build?: string;
  readonly artifact?: PipelineInputArtifact;
  readonly error: unknown;
}

/**
 * Records a job refused before the engine ran (bad UserParameters, no or unreadable input
 * artifact, a corrupt, oversize or unsafe zip, a stale continuation token) with trigger
 * `pipeline` and the job id: under the app (and stage) when configured, else under `_rejected`.
 * Only permanent refusals are rejections; a transient failure is retried, not recorded as bad
 * input. Best effort: a ledger failure is logged and never stops the job report.
 */
export async function recordRejectedJob(runtime: Runtime, log: DeployLog, job: RejectedJob): Promise<void> {
  if (!isFerryError(job.error) || job.error.transient) return;
  const { config } = runtime;
  const app = job.app !== undefined && config.apps[job.app] !== undefined ? job.app : undefined;
  const stage =
    app !== undefined && job.stage !== undefined && config.stages.some((s) => s.name === job.stage)
      ? job.stage
      : undefined;
  try {
    await recordRejected(runtime, {
      ...(app === undefined ? {} : { app }),
      ...(stage === undefined ? {} : { stage }),
      ...(job.build === undefined ? {} : { build: job.build }),
      // The input artifact in the pipeline's store, when the job names one.
      source: job.artifact ? { bucket: job.artifact.bucket, key: job.artifact.key } : { bucket: '', key: '' },
      trigger: Trigger.Pipeline,
      pipeline: { jobId: job.jobId, ...(job.executionId ? { executionId: job.executionId } : {}) },
      error: job.error,
    });
  } catch (ledgerError) {
    log.error('could not record the rejected pipeline job in the ledger', {
      jobId: job.jobId,
      reason: describeError(ledgerError),
    });
  }
}

/** The report for a thrown error: the job fails with a message saying what to fix. */
export function reportForError(error: unknown): PipelineReport {
  const message = isFerryError(error) ? describeError(error) : `ferry failed unexpectedly: ${describeError(error)}`;
  return { kind: 'failure', type: classifyFailure(error), message: truncateText(message, 5000) };
}
