/**
 * Brings a pipeline's input artifact into ferry's bucket: reads it from the pipeline's artifact
 * store through a store built with the job's own artifact credentials (never ferry's role),
 * extracts the function zip when it sits inside the artifact, checks it is a usable zip, and
 * writes it under the artifact convention key with its SHA-256, so the deployment has a pinned
 * object version that Lambda reads (S3 reference), and promotions and rollbacks reuse.
 *
 * Before writing the copy, ferry records it in the ledger (key, SHA-256, job); the copy carries
 * `ferry-trigger: pipeline` in its metadata. The upload trigger leaves the deployment to the
 * pipeline only when both agree with the object it sees (core/staged-copy.ts).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { inspectZip } from '../artifact/inspect-zip.js';
import { passVerified } from '../artifact/local-zip.js';
import { spoolArtifact } from '../artifact/spool-artifact.js';
import type { ObjectStorePort } from '../aws/s3.js';
import { formatArtifactKey } from '../core/artifact-key.js';
import type { FerryConfig } from '../core/config.js';
import { AccessError, ArtifactError, ConfigurationError, InputError, isFerryError } from '../core/errors.js';
import type { PipelineInputArtifact } from '../core/pipeline-job.js';
import { CopyKind, FERRY_COPY_METADATA_KEY } from '../core/staged-copy.js';
import { type ArtifactDigest, storedChecksumMatches, UPLOAD_PART_BYTES } from '../core/upload-parts.js';
import { type LedgerDeps, resolveCaller } from './ledger.js';
import { recordStagedCopy } from './staged-copy.js';

/** An input artifact that holds the function zip among other files may be this large (it is spooled to /tmp). */
export const MAX_INPUT_ARTIFACT_BYTES = 512 * 1024 * 1024;
/**
 * What the entries of an input artifact that holds the function zip may inflate to, together:
 * checking the container's CRC-32s inflates them all (streamed, nothing kept).
 */
export const MAX_CONTAINER_UNZIPPED_BYTES = 2 * 1024 * 1024 * 1024;
/** Entries an input artifact that holds the function zip may have (build outputs, not a package). */
export const MAX_CONTAINER_ENTRIES = 100_000;

export interface StagedArtifact {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  readonly codeSha256: string;
  /** S3's ChecksumSHA256 of the copy: codeSha256 for one part, the composite of the parts' otherwise. */
  readonly objectChecksumSha256: string;
  readonly sizeBytes: number;
  /** False when the key already held exactly these bytes (a retried job): nothing was written. */
  readonly written: boolean;
}

export interface StageArtifactRequest {
  readonly artifact: PipelineInputArtifact;
  /** The function zip's entry inside the input artifact; absent: the input artifact is the function zip. */
  readonly path?: string;
  readonly app: string;
  readonly build: string;
  readonly jobId: string;
  readonly executionId: string;
}

export interface StageArtifactDeps {
  /** Reads the pipeline's artifact store with the job's artifact credentials. */
  readonly source: ObjectStorePort;
  /** ferry's own store (its execution role). */
  readonly store: ObjectStorePort;
  readonly config: FerryConfig;
  /** Where the copy is recorded before it is written. */
  readonly ledger: LedgerDeps;
  readonly tmpDir?: string;
  /** The copy's part size (default UPLOAD_PART_BYTES). */
  readonly partBytes?: number;
}

/**
 * Spools the function zip to /tmp (hashing it as it arrives), checks it, records the copy, then
 * streams the spooled file into ferry's bucket, hashing it again as it is sent: memory holds a few
 * upload parts whatever the artifact's size.
 */
export async function stagePipelineArtifact(
  deps: StageArtifactDeps,
  request: StageArtifactRequest,
): Promise<StagedArtifact> {
  const { config } = deps;
  const partBytes = deps.partBytes ?? UPLOAD_PART_BYTES;
  const dir = await mkdtemp(join(deps.tmpDir ?? tmpdir(), 'ferry-pipeline-'));
  try {
    const zipFile = join(dir, 'function.zip');
    const spooled = await readFunctionZip(deps, request, dir, zipFile, partBytes);
    await inspectZip(zipFile, spooled.sizeBytes, config.limits);

    const key = formatArtifactKey(config.artifactPrefix, { app: request.app, build: request.build });
    const existing = await findExisting(deps.store, config.artifactBucket, key);
    if (existing) {
      if (!storedChecksumMatches(existing.checksumSha256, spooled)) {
        throw new ConfigurationError(
          'BUILD_EXISTS',
          `s3://${config.artifactBucket}/${key} already holds other bytes for build ${request.build} of ${request.app} (ChecksumSHA256 ${existing.checksumSha256 ?? 'unknown'}, this artifact ${spooled.objectChecksumSha256}). A build id names one artifact: give this run another "build" in UserParameters.`,
          { context: { app: request.app, build: request.build, key } },
        );
      }
      return {
        bucket: config.artifactBucket,
        key,
        ...(existing.versionId ? { versionId: existing.versionId } : {}),
        codeSha256: spooled.sha256,
        objectChecksumSha256: spooled.objectChecksumSha256,
        sizeBytes: spooled.sizeBytes,
        written: false,
      };
    }
    await recordStagedCopy(deps.ledger, {
      schema: 1,
      kind: CopyKind.Pipeline,
      app: request.app,
      build: request.build,
      key,
      codeSha256: spooled.sha256,
      objectChecksumSha256: spooled.objectChecksumSha256,
      caller: await resolveCaller(deps.ledger),
      jobId: request.jobId,
      executionId: request.executionId,
      recordedAt: new Date(deps.ledger.now()).toISOString(),
    });
    const put = await deps.store.putArtifact({
      bucket: config.artifactBucket,
      key,
      body: passVerified(createReadStream(zipFile), spooled, partBytes),
      digest: spooled,
      partBytes,
      metadata: {
        [FERRY_COPY_METADATA_KEY]: CopyKind.Pipeline,
        'pipeline-job-id': request.jobId,
        'pipeline-execution-id': request.executionId,
      },
    });
    return {
      bucket: config.artifactBucket,
      key,
      ...(put.versionId ? { versionId: put.versionId } : {}),
      codeSha256: spooled.sha256,
      objectChecksumSha256: spooled.objectChecksumSha256,
      sizeBytes: spooled.sizeBytes,
      written: true,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readFunctionZip(
  deps: StageArtifactDeps,
  request: StageArtifactRequest,
  dir: string,
  zipFile: string,
  partBytes: number,
): Promise<ArtifactDigest> {
  const { artifact } = request;
  const limits = deps.config.limits;
  const object = await readInput(deps.source, artifact);
  if (!request.path) {
    return digestOf(
      await spoolArtifact(object.body, zipFile, {
        maxArtifactBytes: limits.maxArtifactBytes,
        keepBytesUpTo: 0,
        uploadPartBytes: partBytes,
      }),
    );
  }
  const inputFile = join(dir, 'input.zip');
  const input = await spoolArtifact(object.body, inputFile, {
    maxArtifactBytes: MAX_INPUT_ARTIFACT_BYTES,
    keepBytesUpTo: 0,
  });
  try {
    await inspectContainer(inputFile, input.sizeBytes, artifact, request.path);
    return await extractEntry(
      inputFile,
      input.sizeBytes,
      request.path,
      zipFile,
      limits.maxArtifactBytes,
      artifact,
      partBytes,
    );
  } finally {
    await rm(inputFile, { force: true });
  }
}

async function readInput(source: ObjectStorePort, artifact: PipelineInputArtifact) {
  const where = `input artifact '${artifact.name}' (s3://${artifact.bucket}/${artifact.key})`;
  try {
    return await source.getArtifact({ bucket: artifact.bucket, key: artifact.key });
  } catch (error) {
    if (isFerryError(error) && error.code === 'ARTIFACT_NOT_FOUND') {
      throw new InputError(
        'PIPELINE_ARTIFACT_NOT_FOUND',
        `The ${where} does not exist: check that the previous action produced it.`,
        { cause: error, context: { bucket: artifact.bucket, key: artifact.key } },
      );
    }
    if (isFerryError(error) && error.code === 'S3_ACCESS_DENIED') {
      throw new AccessError(
        'PIPELINE_ARTIFACT_ACCESS_DENIED',
        `The ${where} cannot be read with the job's artifact credentials: it does not exist (S3 answers AccessDenied for a missing object to a reader that may not list the bucket), or the pipeline role may not read it. Check that the previous action produced it, the pipeline role's access to its artifact store and, for SSE-KMS, the key policy.`,
        { cause: error, context: { bucket: artifact.bucket, key: artifact.key } },
      );
    }
    throw error;
  }
}

/**
 * ferry finds `path` in the input artifact with yauzl. The container must mean one thing as much as
 * the function zip does, or the bytes at `path` could differ between ferry and whoever built or
 * reviewed the artifact: the same checks (one central directory, local headers that agree, no
 * duplicate names, no overlapping or hidden bytes, sizes and CRC-32s that hold) apply to it.
 */
async function inspectContainer(
  file: string,
  sizeBytes: number,
  artifact: PipelineInputArtifact,
  path: string,
): Promise<void> {
  try {
    await inspectZip(file, sizeBytes, {
      maxUnzippedBytes: MAX_CONTAINER_UNZIPPED_BYTES,
      maxEntries: MAX_CONTAINER_ENTRIES,
    });
  } catch (error) {
    if (!(error instanceof ArtifactError)) throw error;
    throw new ArtifactError(
      error.code,
      `The input artifact '${artifact.name}', the zip that holds '${path}', is refused, so nothing was taken from it: ${error.message}`,
      { cause: error, context: { ...error.context, path } },
    );
  }
}

/** Streams one entry of the input zip into `target`, hashing it; the entry must be a zip itself. */
async function extractEntry(
  inputFile: string,
  inputSize: number,
  path: string,
  target: string,
  maxBytes: number,
  artifact: PipelineInputArtifact,
  partBytes: number,
): Promise<ArtifactDigest> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(inputFile, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
  } catch (cause) {
    throw new ArtifactError(
      'PIPELINE_ARTIFACT_NOT_ZIP',
      `The input artifact '${artifact.name}' (${inputSize} bytes) is not a readable zip, so "path" cannot be found in it: ${String(cause)}.`,
      { cause },
    );
  }
  try {
    const candidates: string[] = [];
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName === path) {
        if (entry.uncompressedSize > maxBytes) {
          throw new ArtifactError(
            'ARTIFACT_TOO_LARGE',
            `${path} in the input artifact is ${entry.uncompressedSize} bytes, above the ${maxBytes}-byte limit: make the package smaller.`,
            { context: { sizeBytes: entry.uncompressedSize } },
          );
        }
        const stream = await zip.openReadStreamPromise(entry);
        return digestOf(
          await spoolArtifact(stream, target, {
            maxArtifactBytes: maxBytes,
            keepBytesUpTo: 0,
            uploadPartBytes: partBytes,
          }),
        );
      }
      if (entry.fileName.endsWith('.zip') && candidates.length < 10) candidates.push(entry.fileName);
    }
    throw new ConfigurationError(
      'PIPELINE_PATH_NOT_FOUND',
      `The input artifact '${artifact.name}' has no entry '${path}'. ${candidates.length > 0 ? `Zip entries it holds: ${candidates.join(', ')}.` : 'It holds no .zip entry: omit "path" if the artifact is the function zip itself.'}`,
      { context: { path } },
    );
  } catch (error) {
    if (isFerryError(error)) throw error;
    throw new ArtifactError(
      'PIPELINE_ARTIFACT_NOT_ZIP',
      `The input artifact '${artifact.name}' could not be read as a zip while looking for '${path}': ${String(error)}.`,
      { cause: error },
    );
  } finally {
    zip.close();
  }
}

function digestOf(spooled: { sha256: string; sizeBytes: number; objectChecksumSha256?: string }): ArtifactDigest {
  return {
    sha256: spooled.sha256,
    sizeBytes: spooled.sizeBytes,
    objectChecksumSha256: spooled.objectChecksumSha256 ?? spooled.sha256,
  };
}

async function findExisting(store: ObjectStorePort, bucket: string, key: string) {
  try {
    return await store.headArtifact({ bucket, key });
  } catch (error) {
    if (isFerryError(error) && error.code === 'ARTIFACT_NOT_FOUND') return undefined;
    throw error;
  }
}
