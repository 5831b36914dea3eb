/**
 * Fetches exactly the object version an event names and verifies it while streaming: size,
 * SHA-256 (Lambda's CodeSha256 form), zip structure, and any declared checksum. A rejected
 * artifact deploys nowhere.
 */

import { readFile } from 'node:fs/promises';
import { type DeclaredChecksum, verifyArtifact } from '../artifact/verify-artifact.js';
import type { ObjectLocation, ObjectStorePort } from '../aws/s3.js';
import type { ArtifactLimits } from '../core/config.js';
import { ArtifactError } from '../core/errors.js';

export interface PreparedArtifact {
  readonly app: string;
  readonly build: string;
  readonly location: ObjectLocation & { readonly region: string };
  readonly codeSha256: string;
  readonly sizeBytes: number;
  /**
   * The verified bytes, read from the spooled copy on first use and shared afterwards: only targets
   * Lambda cannot reach by S3 reference (another Region) need them. Valid until dispose().
   */
  readBytes(): Promise<Buffer>;
  /** Commit id from the object metadata (x-amz-meta-commit), when CI set it. */
  readonly commit?: string;
  dispose(): Promise<void>;
}

export interface PrepareArtifactInput {
  readonly app: string;
  readonly build: string;
  readonly location: ObjectLocation & { readonly region: string };
  /** From the event, when known: lets ferry reject an oversize object before reading it. */
  readonly sizeBytes?: number;
}

export async function prepareArtifact(
  store: ObjectStorePort,
  input: PrepareArtifactInput,
  limits: ArtifactLimits,
  tmpDir?: string,
): Promise<PreparedArtifact> {
  const { location } = input;
  if (input.sizeBytes !== undefined && input.sizeBytes > limits.maxArtifactBytes) {
    throw tooLarge(input.sizeBytes, limits, location);
  }
  const object = await store.getArtifact(location);
  const declared = declaredChecksums(object.checksumSha256, object.checksumType, object.metadata);
  const partSizes = isComposite(object) ? await readPartSizes(store, location, object) : undefined;
  const verified = await verifyArtifact(object.body, {
    limits,
    // Same-Region targets read the pinned object version themselves: nothing is held in memory.
    keepBytesUpTo: 0,
    ...(object.contentLength === undefined ? {} : { contentLength: object.contentLength }),
    declared,
    ...(partSizes ? { partSizes } : {}),
    ...(tmpDir ? { tmpDir } : {}),
  });
  const versionId = location.versionId ?? object.versionId;
  let bytes: Promise<Buffer> | undefined;
  const commit = object.metadata.commit;
  return {
    app: input.app,
    build: input.build,
    location: { ...location, ...(versionId ? { versionId } : {}) },
    codeSha256: verified.sha256,
    sizeBytes: verified.sizeBytes,
    ...(commit ? { commit } : {}),
    readBytes() {
      bytes ??= readFile(verified.filePath);
      return bytes;
    },
    dispose: () => {
      bytes = undefined;
      return verified.dispose();
    },
  };
}

/** S3's ChecksumSHA256 of a multipart upload: COMPOSITE, `<base64>-<N>`. */
function isComposite(object: { checksumSha256?: string; checksumType?: string }): boolean {
  return object.checksumType === 'COMPOSITE' || /-\d+$/.test(object.checksumSha256 ?? '');
}

/** The part sizes of the exact version being read; the body stream waits meanwhile (S3 holds it). */
async function readPartSizes(
  store: ObjectStorePort,
  location: ObjectLocation,
  object: { versionId?: string; body: AsyncIterable<Uint8Array> },
): Promise<number[] | undefined> {
  const versionId = location.versionId ?? object.versionId;
  try {
    return await store.getArtifactPartSizes?.({ ...location, ...(versionId ? { versionId } : {}) });
  } catch (error) {
    const body = object.body as { destroy?: () => void };
    body.destroy?.();
    throw error;
  }
}

function declaredChecksums(
  checksumSha256: string | undefined,
  checksumType: string | undefined,
  metadata: Readonly<Record<string, string>>,
): DeclaredChecksum[] {
  const declared: DeclaredChecksum[] = [];
  if (checksumSha256) {
    declared.push({ sha256: checksumSha256, source: 'ChecksumSHA256', ...(checksumType ? { checksumType } : {}) });
  }
  const fromMetadata = metadata.sha256 ?? metadata['code-sha256'];
  if (fromMetadata) declared.push({ sha256: fromMetadata, source: 'metadata' });
  return declared;
}

function tooLarge(size: number, limits: ArtifactLimits, location: ObjectLocation): ArtifactError {
  return new ArtifactError(
    'ARTIFACT_TOO_LARGE',
    `s3://${location.bucket}/${location.key} is ${size} bytes, above the limit of ${limits.maxArtifactBytes}. Make the package smaller (Lambda allows 250 MB unzipped) or use a container image.`,
    { context: { key: location.key, sizeBytes: size } },
  );
}
