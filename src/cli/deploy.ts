/**
 * `ferry deploy <zip|s3://bucket/key[?versionId=V]> --app A --stage S [--target T] [--dry-run]`:
 * runs the engine directly with the caller's credentials. A local zip is verified and uploaded
 * first (as `ferry upload` does), then that exact object version is deployed; an S3 URI deploys
 * the object version it names (the latest when it names none).
 */
import { parseArtifactKey } from '../core/artifact-key.js';
import type { AppConfig, FerryConfig, Target } from '../core/config.js';
import { describePlan } from '../core/deploy-plan.js';
import { InputError } from '../core/errors.js';
import { CopyKind, FERRY_COPY_METADATA_KEY } from '../core/staged-copy.js';
import { didYouMean } from '../core/suggest.js';
import type { BuildDeployResult, Trigger } from '../engine/deploy-build.js';
import type { TargetOutcome } from '../engine/deploy-stage.js';
import type { StageResult } from '../engine/release-stage.js';
import type { Runtime } from '../runtime/create-runtime.js';
import type { CommandContext, CommonOptions } from './context.js';
import {
  describeShort,
  ExitCode,
  exitCodeForError,
  exitCodeForFailures,
  formatDuration,
  renderTable,
  serializeError,
  UsageError,
  writeJson,
} from './output.js';
import { startProgress } from './progress.js';
import { applyUpload, findApp, formatBuildId, planUpload, readLocalArtifact } from './upload.js';

export interface DeployOptions extends CommonOptions {
  readonly app: string;
  readonly stage: string;
  /** Target ids (`<account>/<region>/<function>:<alias>`), account ids or function names. */
  readonly target?: readonly string[];
  readonly build?: string;
  readonly commit?: string;
  readonly dryRun?: boolean;
  /** `allAtOnce`: skip the stage's traffic policy (escape hatch for a fix), recorded with the caller. */
  readonly traffic?: 'allAtOnce';
  readonly ignoreAlarms?: boolean;
}

/** The overrides a command line asked for, as the engine takes them. */
export function trafficOverridesOf(options: { traffic?: 'allAtOnce'; ignoreAlarms?: boolean }) {
  const overrides = {
    ...(options.traffic === 'allAtOnce' ? { traffic: 'allAtOnce' as const } : {}),
    ...(options.ignoreAlarms ? { ignoreAlarms: true } : {}),
  };
  return Object.keys(overrides).length > 0 ? { overrides } : {};
}

export interface S3Uri {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

const CLI_TRIGGER: Trigger = 'cli';

export async function runDeploy(ctx: CommandContext, source: string, options: DeployOptions): Promise<ExitCode> {
  const { config } = ctx.loadConfig(options);
  const app = findApp(config, options.app);
  const targets = selectTargets(config, app, options.stage, options.target);
  const ids = new Set(targets.map((t) => t.id));

  let location: S3Uri;
  let build: string;
  let runtime: Runtime;
  if (source.startsWith('s3://')) {
    location = parseS3Uri(source);
    if (location.bucket !== config.artifactBucket) {
      // Only the configured bucket's objects are ferry's artifacts: versioned, covered by its bucket policy and the deploy roles' read grant.
      throw new InputError(
        'WRONG_BUCKET',
        `ferry deploys only from its artifact bucket, ${config.artifactBucket}; s3://${location.bucket} is not configured. Upload the zip with \`ferry upload\` (or \`ferry deploy <zip>\`) instead.`,
        { context: { bucket: location.bucket } },
      );
    }
    build = options.build ?? buildFromKey(location.key, config, app.name);
    runtime = await ctx.openRuntime(config);
  } else {
    const artifact = await readLocalArtifact(source, config);
    const planned = planUpload(config, app, artifact, {
      build: options.build ?? formatBuildId(ctx.deps.now()),
      ...(options.commit ? { commit: options.commit } : {}),
    });
    // A direct deploy into one stage: the upload is marked and recorded as ferry's own copy, so the
    // upload trigger does not also deploy it into the stages that accept uploads.
    const plan = {
      ...planned,
      metadata: { ...planned.metadata, [FERRY_COPY_METADATA_KEY]: CopyKind.Cli },
      deploysTo: [options.stage],
    };
    build = plan.build;
    if (options.dryRun) {
      // Nothing is uploaded in a dry run, so there is no object for the engine to observe and plan against.
      const upload = { ...plan, dryRun: true };
      if (options.json) {
        writeJson(ctx.io, {
          app: app.name,
          build,
          status: 'planned',
          upload,
          stage: options.stage,
          targets: targets.map(describeTarget),
        });
      } else ctx.io.writeOut(describeLocalDryRun(plan.bucket, plan.key, build, options.stage, targets));
      return ExitCode.Ok;
    }
    runtime = await ctx.openRuntime(config);
    const engine = await ctx.engine();
    await engine.recordDirectDeployCopy(runtime, {
      app: app.name,
      build,
      key: plan.key,
      codeSha256: plan.sha256,
      objectChecksumSha256: plan.objectChecksumSha256,
      stage: options.stage,
    });
    const uploaded = await applyUpload(runtime.store, plan, artifact);
    location = { bucket: plan.bucket, key: plan.key, ...(uploaded.versionId ? { versionId: uploaded.versionId } : {}) };
    ctx.io.writeErr(
      `${uploaded.alreadyUploaded ? 'already uploaded' : 'uploaded'} s3://${location.bucket}/${location.key}${location.versionId ? ` (version ${location.versionId})` : ''}\n`,
    );
  }

  const engine = await ctx.engine();
  const progress = startProgress(ctx.io, ctx.deps.env, options.stage, options.dryRun ? [] : targets, options);
  const result = await engine
    .deployBuild(runtime, ctx.log, {
      app,
      build,
      location: { ...location, region: config.region },
      stages: [options.stage],
      trigger: CLI_TRIGGER,
      ...(options.dryRun ? { dryRun: true } : {}),
      targetFilter: (target) => ids.has(target.id),
      onTargetDone: progress.onTargetDone,
      ...trafficOverridesOf(options),
    })
    .finally(() => progress.stop());
  if (options.json) writeJson(ctx.io, toBuildResultJson(result));
  else ctx.io.writeOut(describeBuildResult(result));
  return exitCodeForBuild(result);
}

/** The stage's targets, narrowed by --target; unknown stages and targets are rejected with the valid names. */
export function selectTargets(
  config: FerryConfig,
  app: AppConfig,
  stage: string,
  filters: readonly string[] = [],
): readonly Target[] {
  if (!config.stages.some((s) => s.name === stage)) {
    throw new InputError(
      'UNKNOWN_STAGE',
      `No stage '${stage}' is configured.${didYouMean(
        stage,
        config.stages.map((s) => s.name),
      )} Stages: ${config.stages.map((s) => s.name).join(', ')}.`,
      { context: { stage } },
    );
  }
  const targets = app.targets[stage] ?? [];
  if (targets.length === 0) {
    throw new InputError(
      'NO_TARGETS',
      `App '${app.name}' has no targets in stage '${stage}'. It has targets in: ${Object.keys(app.targets).join(', ') || 'no stage'}.`,
      { context: { app: app.name, stage } },
    );
  }
  if (filters.length === 0) return targets;
  const unknown = filters.filter((f) => !targets.some((t) => matchesTarget(t, f)));
  if (unknown.length > 0) {
    throw new InputError(
      'UNKNOWN_TARGET',
      `--target ${unknown.join(', ')} matches no target of ${app.name} in ${stage}. Targets: ${targets.map((t) => t.id).join(', ')}.`,
      { context: { app: app.name, stage } },
    );
  }
  return targets.filter((t) => filters.some((f) => matchesTarget(t, f)));
}

function matchesTarget(target: Target, filter: string): boolean {
  return filter === target.id || filter === target.accountId || filter === target.functionName;
}

/** `s3://bucket/key[?versionId=V]`; a malformed URI is a usage error. */
export function parseS3Uri(uri: string): S3Uri {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  let key = slash < 0 ? '' : rest.slice(slash + 1);
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  let versionId: string | undefined;
  const query = key.lastIndexOf('?versionId=');
  if (query >= 0) {
    versionId = decodeURIComponent(key.slice(query + '?versionId='.length));
    key = key.slice(0, query);
  }
  if (!bucket || !key || versionId === '') {
    throw new UsageError(`'${uri}' is not an S3 object URI: expected s3://<bucket>/<key>[?versionId=<version>].`);
  }
  return { bucket, key, ...(versionId ? { versionId } : {}) };
}

function buildFromKey(key: string, config: FerryConfig, app: string): string {
  const parsed = parseArtifactKey(key, config.artifactPrefix);
  if (parsed.app !== app) {
    throw new InputError(
      'APP_MISMATCH',
      `The object ${key} is a build of '${parsed.app}', not '${app}'. Deploy it with --app ${parsed.app}, or name another object.`,
      { context: { app, key } },
    );
  }
  return parsed.build;
}

/** 0 when every target succeeded or was planned; otherwise the failure kind. */
export function exitCodeForBuild(result: Pick<BuildDeployResult, 'status' | 'error' | 'stages'>): ExitCode {
  if (result.status === 'succeeded' || result.status === 'planned') return ExitCode.Ok;
  if (result.error) return exitCodeForError(result.error);
  const errors = result.stages.flatMap((s) => s.outcomes.filter((o) => o.status === 'failed').map((o) => o.error));
  if (errors.length > 0) return exitCodeForFailures(errors);
  // Skipped: the stage runs a newer build (or this build with other bytes); nothing was deployed.
  return result.status === 'rejected' || result.status === 'skipped' ? ExitCode.Rejected : ExitCode.Failed;
}

/** A target as the CLI shows it: never the role or ExternalId. */
export function describeTarget(target: Target) {
  return {
    id: target.id,
    account: target.accountId,
    region: target.region,
    function: target.functionName,
    alias: target.alias,
  };
}

function toOutcomeJson(outcome: TargetOutcome) {
  return {
    target: describeTarget(outcome.target),
    status: outcome.status,
    previousVersion: outcome.previousVersion,
    version: outcome.version,
    codeSha256: outcome.codeSha256,
    durationMs: outcome.durationMs,
    ...(outcome.plan ? { plan: { ...outcome.plan, description: describePlan(outcome.plan) } } : {}),
    ...(outcome.error ? { error: serializeError(outcome.error) } : {}),
  };
}

export function toBuildResultJson(result: BuildDeployResult) {
  return {
    app: result.app,
    build: result.build,
    status: result.status,
    codeSha256: result.codeSha256,
    stages: result.stages.map((s) => ({
      stage: s.stage,
      status: s.status,
      ...(s.reason ? { reason: s.reason } : {}),
      ...(s.entryId ? { ledgerEntry: s.entryId } : {}),
      outcomes: s.outcomes.map(toOutcomeJson),
      ...(s.pruned ? { pruned: s.pruned } : {}),
    })),
    ...(result.error ? { error: serializeError(result.error) } : {}),
  };
}

/** The per-target table and a summary line. */
export function describeBuildResult(result: BuildDeployResult): string {
  // During a traffic shift a target's new version is published but its alias still serves the
  // stable one with a share of the traffic: say "shifting", not "deployed".
  const statusOf = (s: StageResult, o: TargetOutcome) =>
    s.status === 'shifting' && o.status === 'deployed' ? 'shifting' : o.status;
  const rows = result.stages.flatMap((s) =>
    s.outcomes.map((o) => [
      s.stage,
      o.target.id,
      statusOf(s, o),
      formatVersions(o.previousVersion, o.version),
      formatDuration(o.durationMs),
      // A dry run shows each target's full plan; a real run only what kind of change it was.
      o.error ? describeShort(o.error) : o.plan ? (o.status === 'planned' ? describePlan(o.plan) : o.plan.outcome) : '',
    ]),
  );
  const table = rows.length > 0 ? renderTable(['STAGE', 'TARGET', 'STATUS', 'VERSION', 'TIME', 'DETAIL'], rows) : '';
  const counts = new Map<string, number>();
  for (const s of result.stages) {
    for (const o of s.outcomes) counts.set(statusOf(s, o), (counts.get(statusOf(s, o)) ?? 0) + 1);
  }
  const tally = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
  const why = result.error ? `: ${describeShort(result.error)}` : '';
  // A skipped stage has no target rows: say why it was skipped (or why the plan deploys).
  const stageNotes = result.stages
    .filter((s) => s.reason && (s.outcomes.length === 0 || s.status === 'planned' || s.status === 'shifting'))
    .map((s) =>
      s.status === 'shifting'
        ? `${s.stage}: ${s.reason}; the traffic tick moves it on: \`ferry traffic status --app ${result.app} --stage ${s.stage}\`\n`
        : `${s.stage}: ${s.status}, ${s.reason}\n`,
    )
    .join('');
  return `${table}${stageNotes}${result.app} build ${result.build}: ${result.status}${tally ? ` (${tally})` : ''}${why}\n`;
}

function formatVersions(previous: string | undefined, next: string | undefined): string {
  if (!next) return previous ?? '';
  return previous && previous !== next ? `${previous} → ${next}` : next;
}

function describeLocalDryRun(bucket: string, key: string, build: string, stage: string, targets: readonly Target[]) {
  const table = renderTable(
    ['STAGE', 'TARGET', 'STATUS'],
    targets.map((t) => [stage, t.id, 'planned']),
  );
  return `would upload s3://${bucket}/${key} (build ${build}), then deploy it to:\n${table}`;
}
