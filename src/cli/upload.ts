/**
 * `ferry upload <zip> --app A [--build B] [--commit C]`: what CI does. Verifies the zip locally
 * (the same checks the engine makes), then streams it to `<artifactPrefix><app>/<build>.zip` (a
 * multipart upload past one part, with each part's SHA-256) with the `sha256` and `commit`
 * metadata, never holding the zip in memory. The upload itself triggers the deployment into the
 * stages that accept uploads.
 */
import { digestLocalZip, readVerifiedFile } from '../artifact/local-zip.js';
import type { ObjectStorePort } from '../aws/s3.js';
import { formatArtifactKey } from '../core/artifact-key.js';
import { checkBuildPattern } from '../core/build-pattern.js';
import type { AppConfig, FerryConfig } from '../core/config.js';
import { InputError, isFerryError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { type ArtifactDigest, storedChecksumMatches } from '../core/upload-parts.js';
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
  /** base64 SHA-256 (Lambda's CodeSha256 form), stored as metadata sha256. */
  readonly sha256: string;
  /** What S3 stores as ChecksumSHA256: the SHA-256 for one part, the composite of the parts' otherwise. */
  readonly objectChecksumSha256: string;
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

/** A verified local zip: its path and digest (the bytes stay on disk). */
export interface LocalArtifact extends ArtifactDigest {
  readonly path: string;
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

/** Digests and verifies a zip on disk with the configured limits; rejects before anything is uploaded. */
export async function readLocalArtifact(path: string, config: FerryConfig): Promise<LocalArtifact> {
  let digest: ArtifactDigest;
  try {
    digest = await digestLocalZip(path, config.limits);
  } catch (cause) {
    if (isFerryError(cause)) throw cause;
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
  return { path, ...digest };
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
    objectChecksumSha256: artifact.objectChecksumSha256,
    sizeBytes: artifact.sizeBytes,
    ...(commit ? { commit } : {}),
    metadata: { sha256: artifact.sha256, ...(commit ? { commit } : {}) },
    deploysTo,
  };
}

/**
 * Streams the artifact create-only: builds are immutable. The same bytes already there are not
 * written again (no second event, no redeploy); other bytes under the build id are refused. Both
 * are seen before a byte is sent; a build written meanwhile is caught by the create-only write.
 * The file is hashed again as it is sent: bytes that changed since the digest abandon the upload.
 */
export async function applyUpload(
  store: ObjectStorePort,
  plan: UploadPlan,
  artifact: LocalArtifact,
): Promise<{ versionId?: string; alreadyUploaded?: true }> {
  const before = await findExisting(store, plan);
  if (before) return sameBuildOrRefuse(plan, artifact, before);
  try {
    const out = await store.putArtifact({
      bucket: plan.bucket,
      key: plan.key,
      body: readVerifiedFile(artifact.path, artifact),
      digest: artifact,
      metadata: { ...plan.metadata },
      createOnly: true,
    });
    return out.versionId ? { versionId: out.versionId } : {};
  } catch (error) {
    if (!(isFerryError(error) && error.code === 'ARTIFACT_EXISTS')) throw error;
  }
  return sameBuildOrRefuse(plan, artifact, await store.headArtifact({ bucket: plan.bucket, key: plan.key }));
}

async function findExisting(store: ObjectStorePort, plan: UploadPlan) {
  try {
    return await store.headArtifact({ bucket: plan.bucket, key: plan.key });
  } catch (error) {
    if (isFerryError(error) && error.code === 'ARTIFACT_NOT_FOUND') return undefined;
    throw error;
  }
}

function sameBuildOrRefuse(
  plan: UploadPlan,
  artifact: LocalArtifact,
  existing: { checksumSha256?: string; versionId?: string },
): { versionId?: string; alreadyUploaded: true } {
  if (!storedChecksumMatches(existing.checksumSha256, artifact)) {
    throw new InputError(
      'BUILD_EXISTS',
      `s3://${plan.bucket}/${plan.key} already holds build ${plan.build} of ${plan.app} with other bytes (ChecksumSHA256 ${existing.checksumSha256 ?? 'unknown'}, this zip ${plan.objectChecksumSha256}). Builds are immutable: upload it under a new build id (--build).`,
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
