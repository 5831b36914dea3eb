/**
 * Artifact verification: the gate every zip passes before ferry deploys it anywhere. Reads the
 * body once (hash, size limit, spool to a temp file), compares declared checksums, then checks
 * the zip's central directory. Every rejection is an ArtifactError (permanent: never retried).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactLimits } from '../core/config.js';
import { ArtifactError, ServiceUnavailableError } from '../core/errors.js';
import { ArtifactErrorCode } from './artifact-error-codes.js';
import { assertChecksumsMatch, type DeclaredChecksum, prepareDeclaredChecksums } from './declared-checksum.js';
import { inspectZip } from './inspect-zip.js';
import { type ArtifactBody, spoolArtifact } from './spool-artifact.js';

export { ArtifactErrorCode } from './artifact-error-codes.js';
export { type DeclaredChecksum, normalizeSha256 } from './declared-checksum.js';

export interface VerifyOptions {
  readonly limits: ArtifactLimits;
  /** Keep the bytes in memory when the artifact is at most this size (Lambda's 50 MB ZipFile limit); else only on disk. */
  readonly keepBytesUpTo: number;
  /** The object's size from S3: an artifact known to be too large is rejected before reading a byte. */
  readonly contentLength?: number;
  readonly declared?: readonly DeclaredChecksum[];
  /** A multipart object's part sizes (GetObjectAttributes): makes S3's composite ChecksumSHA256 verifiable. */
  readonly partSizes?: readonly number[];
  /** Where the spooled copy goes; default os.tmpdir() (on Lambda, /tmp). */
  readonly tmpDir?: string;
}

export interface VerifiedArtifact {
  /** base64 SHA-256, Lambda's CodeSha256 form. */
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly entryCount: number;
  readonly unzippedBytes: number;
  /** Present when sizeBytes <= keepBytesUpTo. */
  readonly bytes?: Buffer;
  /** The spooled temp file; valid until dispose(). */
  readonly filePath: string;
  /** Removes the temp file; safe to call more than once. */
  dispose(): Promise<void>;
}

/**
 * Verifies a function zip while streaming it, and returns its CodeSha256 and a spooled copy.
 * Consumes `body`; when rejecting before reading, destroys it so the connection is released.
 * The caller must call dispose() on the result; on any error the temp file is already gone.
 */
export async function verifyArtifact(body: ArtifactBody, options: VerifyOptions): Promise<VerifiedArtifact> {
  const { limits, contentLength } = options;
  let declared: ReturnType<typeof prepareDeclaredChecksums>;
  try {
    declared = prepareDeclaredChecksums(options.declared ?? [], {
      ...(options.partSizes ? { partSizes: options.partSizes } : {}),
    });
    if (contentLength !== undefined && contentLength > limits.maxArtifactBytes) {
      throw new ArtifactError(
        ArtifactErrorCode.TooLarge,
        `The artifact is ${contentLength} bytes, larger than the ${limits.maxArtifactBytes}-byte limit: make the ` +
          'package smaller (drop dev dependencies, bundle and minify) or move dependencies into a layer.',
        { context: { sizeBytes: contentLength, maxArtifactBytes: limits.maxArtifactBytes } },
      );
    }
  } catch (error) {
    destroyBody(body);
    throw error;
  }

  // A private directory (0700) rather than a bare file: /tmp may be shared, and the name is unguessable.
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'ferry-artifact-'));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  const filePath = join(dir, 'artifact.zip');
  try {
    const spooled = await spoolArtifact(body, filePath, {
      maxArtifactBytes: limits.maxArtifactBytes,
      // S3 announced more than will ever be kept: never buffer any of it.
      keepBytesUpTo: contentLength !== undefined && contentLength > options.keepBytesUpTo ? 0 : options.keepBytesUpTo,
      ...(contentLength === undefined ? {} : { expectedBytes: contentLength }),
      ...(options.partSizes ? { partSizes: options.partSizes } : {}),
    });
    if (contentLength !== undefined && spooled.sizeBytes !== contentLength) {
      // A short read is a broken download, not a bad artifact: transient, so the invocation
      // fails and Lambda's retry reads the object again.
      throw new ServiceUnavailableError(
        'ARTIFACT_READ_INCOMPLETE',
        `Read ${spooled.sizeBytes} bytes of the artifact but S3 announced ${contentLength}: the download was cut short; retry.`,
      );
    }
    assertChecksumsMatch(spooled.sha256, declared, spooled.sizeBytes, spooled.compositeSha256);
    const summary = await inspectZip(filePath, spooled.sizeBytes, limits);
    let disposed: Promise<void> | undefined;
    return {
      sha256: spooled.sha256,
      sizeBytes: spooled.sizeBytes,
      entryCount: summary.entryCount,
      unzippedBytes: summary.unzippedBytes,
      ...(spooled.bytes === undefined ? {} : { bytes: spooled.bytes }),
      filePath,
      dispose() {
        disposed ??= removeDir();
        return disposed;
      },
    };
  } catch (error) {
    await removeDir().catch(() => undefined);
    throw error;
  }
}

function destroyBody(body: ArtifactBody): void {
  if ('destroy' in body && typeof body.destroy === 'function') body.destroy();
}
