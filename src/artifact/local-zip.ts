/**
 * A function zip on local disk, on its way into the artifact bucket: digested and checked without
 * holding it in memory (hash while reading, zip structure from the file), then streamed to S3
 * through a check that the bytes sent are the bytes digested.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactLimits } from '../core/config.js';
import { ArtifactError } from '../core/errors.js';
import { type ArtifactDigest, UPLOAD_PART_BYTES } from '../core/upload-parts.js';
import { ArtifactErrorCode } from './artifact-error-codes.js';
import { inspectZip } from './inspect-zip.js';
import { createUploadHasher } from './part-hasher.js';

/** The bytes changed between the digest and the upload: the upload is abandoned, never completed. */
export const ARTIFACT_CHANGED = 'ARTIFACT_CHANGED_DURING_UPLOAD';

/**
 * Digests the zip at `path` (SHA-256, and the checksum S3 will store for an upload in parts of
 * `partBytes`) and checks it with the configured limits, reading it once from disk. Errors from
 * the file system (ENOENT…) are thrown as they are.
 */
export async function digestLocalZip(
  path: string,
  limits: ArtifactLimits,
  partBytes: number = UPLOAD_PART_BYTES,
): Promise<ArtifactDigest> {
  const { size } = await stat(path);
  if (size > limits.maxArtifactBytes) {
    throw new ArtifactError(
      ArtifactErrorCode.TooLarge,
      `The artifact is ${size} bytes, larger than the ${limits.maxArtifactBytes}-byte limit: make the ` +
        'package smaller (drop dev dependencies, bundle and minify) or move dependencies into a layer.',
      { context: { sizeBytes: size, maxArtifactBytes: limits.maxArtifactBytes } },
    );
  }
  const hasher = createUploadHasher(partBytes);
  await pipeline(createReadStream(path), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hasher.update(chunk);
  });
  const digest = hasher.digest();
  await inspectZip(path, digest.sizeBytes, limits);
  return digest;
}

/**
 * `source`, passed through unchanged while it is hashed; at its end the stream fails with
 * ARTIFACT_CHANGED_DURING_UPLOAD unless the bytes are exactly `expected`, so an uploader reading
 * it never completes an upload of other bytes than the ones verified and recorded.
 */
export function passVerified(
  source: Readable,
  expected: ArtifactDigest,
  partBytes: number = UPLOAD_PART_BYTES,
): Readable {
  const hasher = createUploadHasher(partBytes);
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hasher.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const seen = hasher.digest();
      if (seen.sha256 === expected.sha256 && seen.sizeBytes === expected.sizeBytes) return done();
      done(
        new ArtifactError(
          ARTIFACT_CHANGED,
          `The artifact changed while it was uploaded (${seen.sizeBytes} bytes with SHA-256 ${seen.sha256}, verified ${expected.sizeBytes} bytes with ${expected.sha256}); nothing was written. Upload it again once the file is final.`,
          { context: { sha256: expected.sha256, seenSha256: seen.sha256 } },
        ),
      );
    },
  });
  // Errors of the source reach `check` (and whoever reads it); the outcome is observed there.
  pipeline(source, check).catch(() => undefined);
  return check;
}

/** The zip at `path` as a stream that fails at its end unless it still is `expected`. */
export function readVerifiedFile(path: string, expected: ArtifactDigest, partBytes?: number): Readable {
  return passVerified(createReadStream(path), expected, partBytes);
}
