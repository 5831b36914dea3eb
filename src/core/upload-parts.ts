/**
 * How ferry writes an artifact into its bucket: in parts of UPLOAD_PART_BYTES (a multipart upload,
 * as `aws s3 cp` does past its 8 MB threshold), or in one PutObject when it fits in one part. What
 * S3 then stores as the object's ChecksumSHA256 follows from that layout: the SHA-256 of the whole
 * object for one part, the COMPOSITE `<SHA-256 of the parts' SHA-256s>-<N>` for several.
 */

const MiB = 1024 * 1024;

/** The part size ferry uploads with: memory holds a few parts at a time, whatever the artifact's size. */
export const UPLOAD_PART_BYTES = 8 * MiB;

/** S3's smallest part (every part but the last). */
export const MIN_UPLOAD_PART_BYTES = 5 * MiB;

/** The part sizes of an upload of `sizeBytes` in parts of `partBytes`: one part when it fits. */
export function planUploadParts(sizeBytes: number, partBytes: number = UPLOAD_PART_BYTES): number[] {
  if (sizeBytes <= partBytes) return [sizeBytes];
  const parts: number[] = [];
  for (let left = sizeBytes; left > 0; left -= partBytes) parts.push(Math.min(left, partBytes));
  return parts;
}

/** The checksums that name one artifact's bytes. */
export interface ArtifactDigest {
  /** base64 SHA-256 of the whole object (Lambda's CodeSha256 form). */
  readonly sha256: string;
  readonly sizeBytes: number;
  /** What S3 stores as ChecksumSHA256 when ferry uploads these bytes: sha256 for one part, else the composite. */
  readonly objectChecksumSha256: string;
}

/**
 * Whether an object's S3 ChecksumSHA256 (which S3 verified against the bytes it received) names
 * these bytes: the whole-object SHA-256 of a single-part upload, or the composite of ferry's own
 * part layout. A composite over another layout (someone else's multipart upload) cannot be
 * compared without the object's part sizes, so it does not match.
 */
export function storedChecksumMatches(stored: string | undefined, digest: ArtifactDigest): boolean {
  return stored !== undefined && (stored === digest.sha256 || stored === digest.objectChecksumSha256);
}
