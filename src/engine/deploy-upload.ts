/**
 * An artifact uploaded to the bucket → the targets of the app's stages that accept uploads.
 * The key names only the app and the build; which accounts, functions and roles follows from
 * configuration alone.
 */
import { decodeEventKey, parseArtifactKey } from '../core/artifact-key.js';
import type { FerryConfig } from '../core/config.js';
import { describeError, InputError } from '../core/errors.js';
import { buildLedgerEntry, describeSource, LedgerOutcome, UPLOAD_STAGE } from '../core/ledger-model.js';
import type { InvocationBudget } from '../core/shard-plan.js';
import { decideUploadSkip, FERRY_COPY_METADATA_KEY, type UploadSkipDecision } from '../core/staged-copy.js';
import type { Runtime } from '../runtime/create-runtime.js';
import { type BuildDeployResult, BuildStatus, type DeployLog, deployBuild, Trigger } from './deploy-build.js';
import { recordRejected, resolveCaller, startAttempt, writeEntry } from './ledger.js';
import { readStagedCopy } from './staged-copy.js';

export interface UploadedObject {
  readonly bucket: string;
  /** The object key as the S3 event names it: URL-encoded, a space as '+' (deployUpload decodes it). */
  readonly key: string;
  readonly versionId?: string;
  readonly sizeBytes?: number;
  readonly region: string;
  /** Who uploaded it, for the ledger (see describeUploader); default: the identity ferry runs as. */
  readonly caller?: string;
}

const UPLOADER_PREFIX = 's3-uploader:';

/**
 * The ledger's caller for an upload: the principal S3 names in the event record
 * (`userIdentity.principalId`, e.g. `AWS:AROA…:ci-session`), not ferry's own role. It comes from
 * the event, so it is reduced to a log-safe alphabet and length before it reaches a log or the ledger.
 */
export function describeUploader(principalId: unknown): string {
  const cleaned = typeof principalId === 'string' ? principalId.replace(/[^\w+=,.@:/-]/g, '-').slice(0, 128) : '';
  return `${UPLOADER_PREFIX}${cleaned === '' ? 'unknown' : cleaned}`;
}

export interface UploadPlan {
  readonly app: string;
  readonly build: string;
  readonly stages: readonly string[];
}

/** Resolves an uploaded object to an app, a build and the stages to deploy; throws InputError when it must be rejected. */
export function resolveUpload(config: FerryConfig, object: UploadedObject): UploadPlan {
  if (object.bucket !== config.artifactBucket) {
    throw new InputError(
      'WRONG_BUCKET',
      `The event is for bucket ${object.bucket}, but ferry's artifact bucket is ${config.artifactBucket}. Check the bucket notification.`,
      { context: { bucket: object.bucket } },
    );
  }
  const { app, build } = parseArtifactKey(object.key, config.artifactPrefix);
  const appConfig = config.apps[app];
  if (!appConfig) {
    throw new InputError(
      'UNKNOWN_APP',
      `No app '${app}' is configured (key ${object.key}). Add it under apps in the configuration, or fix the upload path. Known apps: ${Object.keys(config.apps).join(', ') || 'none'}.`,
      { context: { app, key: object.key } },
    );
  }
  const withTargets = config.stages.filter((s) => (appConfig.targets[s.name] ?? []).length > 0);
  const stages = withTargets.filter((s) => s.acceptsUploads).map((s) => s.name);
  if (stages.length === 0) {
    throw new InputError(
      'NO_UPLOAD_STAGE',
      `App '${app}' has targets only in ${withTargets.map((s) => s.name).join(', ') || 'no stage'}, and none of those stages accepts uploads. Uploads deploy only to stages with acceptsUploads; later stages are reached by promotion.`,
      { context: { app, build } },
    );
  }
  return { app, build, stages };
}

/** Deploys an uploaded artifact; bad input comes back as a Rejected result, never as a throw. */
/** What an upload led to, with the object's decoded key (the event's, when it does not decode). */
export type UploadDeployResult = BuildDeployResult & { readonly key: string };

export async function deployUpload(
  runtime: Runtime,
  log: DeployLog,
  uploaded: UploadedObject,
  budget?: InvocationBudget,
): Promise<UploadDeployResult> {
  let object = uploaded;
  let plan: UploadPlan;
  try {
    object = { ...uploaded, key: decodeEventKey(uploaded.key) };
    plan = resolveUpload(runtime.config, object);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    log.warn('upload rejected', {
      bucket: object.bucket,
      key: object.key,
      versionId: object.versionId,
      reason: describeError(error),
      errorCode: error.code,
      trigger: Trigger.Upload,
      ...(object.caller ? { caller: object.caller } : {}),
    });
    await recordRejectedUpload(runtime, log, object, error);
    return {
      app: String(error.context.app ?? ''),
      build: String(error.context.build ?? ''),
      status: BuildStatus.Rejected,
      stages: [],
      error,
      key: object.key,
    };
  }
  const app = runtime.config.apps[plan.app];
  if (!app) throw new Error('unreachable: resolveUpload returned an unknown app');
  const copy = await decideCopySkip(runtime, log, object, plan);
  if (copy.action === 'skip') {
    // One of ferry's own copies (a pipeline's pinned build, a CLI direct deploy): its own run deploys it.
    log.info('upload skipped: a copy ferry made and deploys itself', {
      key: object.key,
      versionId: object.versionId,
      app: plan.app,
      build: plan.build,
      reason: copy.reason,
      trigger: Trigger.Upload,
    });
    await recordCopySkipped(runtime, log, object, plan, copy.reason);
    return { app: plan.app, build: plan.build, status: BuildStatus.Succeeded, stages: [], key: object.key };
  }
  const result = await deployBuild(runtime, log, {
    app,
    build: plan.build,
    location: {
      bucket: object.bucket,
      key: object.key,
      region: object.region,
      ...(object.versionId ? { versionId: object.versionId } : {}),
    },
    ...(object.sizeBytes === undefined ? {} : { sizeBytes: object.sizeBytes }),
    stages: plan.stages,
    trigger: Trigger.Upload,
    ...(object.caller ? { caller: object.caller } : {}),
    ...(budget ? { budget } : {}),
  });
  return { ...result, key: object.key };
}

/** Every rejected input is in the ledger: under its app when the app is known, else under `_rejected`. */
export async function recordRejectedUpload(
  runtime: Runtime,
  log: DeployLog,
  object: Pick<UploadedObject, 'bucket' | 'key' | 'versionId' | 'region' | 'caller'>,
  error: InputError,
): Promise<void> {
  const app = typeof error.context.app === 'string' ? error.context.app : undefined;
  const build = typeof error.context.build === 'string' ? error.context.build : undefined;
  try {
    await recordRejected(runtime, {
      ...(app !== undefined && runtime.config.apps[app] !== undefined ? { app } : {}),
      ...(build !== undefined ? { build } : {}),
      source: {
        bucket: object.bucket,
        key: object.key,
        ...(object.versionId ? { versionId: object.versionId } : {}),
        region: object.region,
      },
      trigger: Trigger.Upload,
      ...(object.caller ? { caller: object.caller } : {}),
      error,
    });
  } catch (ledgerError) {
    log.error('could not record the rejected upload in the ledger', {
      key: object.key,
      reason: describeError(ledgerError),
    });
  }
}

/**
 * Whether the upload is one of ferry's own copies (core/staged-copy.ts): the marker in the exact
 * uploaded version's metadata *and* ferry's record of the copy with this object's checksum. If
 * either cannot be read, the upload deploys as usual: a skip needs proof, a deploy does not.
 */
async function decideCopySkip(
  runtime: Runtime,
  log: DeployLog,
  object: UploadedObject,
  plan: UploadPlan,
): Promise<UploadSkipDecision> {
  try {
    const head = await runtime.store.headArtifact({
      bucket: object.bucket,
      key: object.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
    });
    const marker = head.metadata[FERRY_COPY_METADATA_KEY];
    if (marker === undefined) return { action: 'deploy' };
    const record = await readStagedCopy(runtime, plan.app, plan.build);
    const decision = decideUploadSkip({
      key: object.key,
      marker,
      ...(head.checksumSha256 ? { objectSha256: head.checksumSha256 } : {}),
      ...(record ? { record } : {}),
    });
    if (decision.action === 'deploy' && decision.warning) {
      log.warn('upload claims to be a ferry copy', {
        key: object.key,
        versionId: object.versionId,
        reason: decision.warning,
        ...(object.caller ? { caller: object.caller } : {}),
      });
    }
    return decision;
  } catch (error) {
    log.info('upload metadata or copy record unreadable; deploying', { key: object.key, reason: describeError(error) });
    return { action: 'deploy' };
  }
}

/** The skip is an upload attempt too: one skipped entry under the app's `_upload` stage. */
async function recordCopySkipped(
  runtime: Runtime,
  log: DeployLog,
  object: UploadedObject,
  plan: UploadPlan,
  reason: string,
): Promise<void> {
  const attempt = startAttempt(runtime);
  const entry = buildLedgerEntry({
    attempt,
    app: plan.app,
    stage: UPLOAD_STAGE,
    build: plan.build,
    source: describeSource(object),
    trigger: Trigger.Upload,
    caller: await resolveCaller(runtime, object.caller),
    endedAt: new Date(runtime.now()).toISOString(),
    outcome: LedgerOutcome.Skipped,
    reason,
    code: 'FERRY_COPY',
  });
  try {
    await writeEntry(runtime, entry);
  } catch (error) {
    log.error('could not record the skipped upload in the ledger', { key: object.key, reason: describeError(error) });
  }
}
