/**
 * `ferry upload <zip> --app A [--build B] [--commit C]`: what CI does. Verifies the zip locally
 * (the same checks the engine makes), then puts it at `<artifactPrefix><app>/<build>.zip` with
 * ChecksumSHA256 and the `sha256` and `commit` metadata. The upload itself triggers the deployment
 * into the stages that accept uploads.
 */
import { readFile } from 'node:fs/promises';
import { verifyArtifact } from '../artifact/verify-artifact.js';
import type { ObjectStorePort } from '../aws/s3.js';
import { formatArtifactKey } from '../core/artifact-key.js';
import { checkBuildPattern } from '../core/build-pattern.js';
import type { AppConfig, FerryConfig } from '../core/config.js';
import { InputError, isFerryError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { CommandContext, CommonOptions } from './context.js';
import { ExitCode, writeJson } from './output.js';

export interface UploadOptions extends CommonOptions {
  readonly app: string;
  readonly build?: string;
  readonly commit?: string;
  readonly dryRun?: boolean;
}

/** The upload, as plain data: printed by --dry-run, applied otherwise. */
export interface UploadPlan {
  readonly app: string;
  readonly build: string;
  readonly bucket: string;
  readonly key: string;
  /** base64 SHA-256 (Lambda's CodeSha256 form), sent as ChecksumSHA256 and metadata sha256. */
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly commit?: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** The stages an upload deploys to (those accepting uploads where the app has targets). */
  readonly deploysTo: readonly string[];
}

export interface UploadResult extends UploadPlan {
  readonly dryRun: boolean;
  readonly versionId?: string;
  /** The build was already uploaded with these very bytes: nothing was written, no deployment triggered. */
  readonly alreadyUploaded?: boolean;
}

/** A verified local zip, held in memory for the PutObject body. */
export interface LocalArtifact {
  readonly path: string;
  readonly bytes: Buffer;
  readonly sha256: string;
}

export async function runUpload(ctx: CommandContext, zipPath: string, options: UploadOptions): Promise<ExitCode> {
  const { config } = ctx.loadConfig(options);
  const app = findApp(config, options.app);
  const artifact = await readLocalArtifact(zipPath, config);
  const plan = planUpload(config, app, artifact, { ...options, build: options.build ?? formatBuildId(ctx.deps.now()) });
  let result: UploadResult = { ...plan, dryRun: Boolean(options.dryRun) };
  if (!options.dryRun) {
    const runtime = await ctx.openRuntime(config);
    result = { ...result, ...(await applyUpload(runtime.store, plan, artifact)) };
  }
  if (options.json) writeJson(ctx.io, result);
  else ctx.io.writeOut(describeUpload(result));
  return ExitCode.Ok;
}

/** The app by name, or an InputError listing the configured apps. */
export function findApp(config: FerryConfig, name: string): AppConfig {
  const app = config.apps[name];
  if (app) return app;
  throw new InputError(
    'UNKNOWN_APP',
    `No app '${name}' is configured.${didYouMean(name, Object.keys(config.apps))} Known apps: ${Object.keys(config.apps).join(', ') || 'none'}.`,
    { context: { app: name } },
  );
}

/** Reads and verifies a zip on disk with the configured limits; rejects before anything is uploaded. */
export async function readLocalArtifact(path: string, config: FerryConfig): Promise<LocalArtifact> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InputError(
      'ARTIFACT_FILE_UNREADABLE',
      `Cannot read ${path} (${code}): pass the path of the function zip.`,
      {
        cause,
        context: { path },
      },
    );
  }
  const verified = await verifyArtifact(
    (async function* () {
      yield bytes;
    })(),
    { limits: config.limits, keepBytesUpTo: 0, contentLength: bytes.length },
  );
  await verified.dispose();
  return { path, bytes, sha256: verified.sha256 };
}

export function planUpload(
  config: FerryConfig,
  app: AppConfig,
  artifact: LocalArtifact,
  options: { readonly build: string; readonly commit?: string },
): UploadPlan {
  const { build, commit } = options;
  const patternProblem = checkBuildPattern(app, build);
  if (patternProblem !== undefined) {
    throw new InputError('BUILD_PATTERN_MISMATCH', `${patternProblem} Pass --build.`, {
      context: { app: app.name, build },
    });
  }
  const deploysTo = config.stages
    .filter((stage) => stage.acceptsUploads && (app.targets[stage.name] ?? []).length > 0)
    .map((stage) => stage.name);
  return {
    app: app.name,
    build,
    bucket: config.artifactBucket,
    key: formatArtifactKey(config.artifactPrefix, { app: app.name, build }),
    sha256: artifact.sha256,
    sizeBytes: artifact.bytes.length,
    ...(commit ? { commit } : {}),
    metadata: { sha256: artifact.sha256, ...(commit ? { commit } : {}) },
    deploysTo,
  };
}

/**
 * Puts the artifact create-only: builds are immutable. The same bytes already there are not
 * written again (no second event, no redeploy); other bytes under the build id are refused.
 */
export async function applyUpload(
  store: ObjectStorePort,
  plan: UploadPlan,
  artifact: LocalArtifact,
): Promise<{ versionId?: string; alreadyUploaded?: true }> {
  try {
    const out = await store.putArtifact({
      bucket: plan.bucket,
      key: plan.key,
      body: artifact.bytes,
      checksumSha256: plan.sha256,
      metadata: { ...plan.metadata },
      createOnly: true,
    });
    return out.versionId ? { versionId: out.versionId } : {};
  } catch (error) {
    if (!(isFerryError(error) && error.code === 'ARTIFACT_EXISTS')) throw error;
  }
  const existing = await store.headArtifact({ bucket: plan.bucket, key: plan.key });
  if (existing.checksumSha256 !== plan.sha256) {
    throw new InputError(
      'BUILD_EXISTS',
      `s3://${plan.bucket}/${plan.key} already holds build ${plan.build} of ${plan.app} with other bytes (sha256 ${existing.checksumSha256 ?? 'unknown'}, this zip ${plan.sha256}). Builds are immutable: upload it under a new build id (--build).`,
      { context: { app: plan.app, build: plan.build, key: plan.key } },
    );
  }
  return { ...(existing.versionId ? { versionId: existing.versionId } : {}), alreadyUploaded: true };
}

/** A UTC timestamp build id, `YYYYMMDDTHHMMSSZ`: fixed width, so it orders as time does. */
export function formatBuildId(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

function describeUpload(result: UploadResult): string {
  const uri = `s3://${result.bucket}/${result.key}`;
  const lines = [
    result.alreadyUploaded
      ? `${result.app} build ${result.build} was already uploaded with these bytes: nothing written, no deployment triggered`
      : `${result.dryRun ? 'would upload' : 'uploaded'} ${result.app} build ${result.build}`,
    `  object    ${uri}${result.versionId ? ` (version ${result.versionId})` : ''}`,
    `  sha256    ${result.sha256}`,
    `  size      ${result.sizeBytes} bytes`,
    ...(result.commit ? [`  commit    ${result.commit}`] : []),
    `  deploys   ${result.deploysTo.length > 0 ? `${result.deploysTo.join(', ')} (stages accepting uploads)` : 'nowhere on upload: no stage of this app accepts uploads'}`,
  ];
  return `${lines.join('\n')}\n`;
}
