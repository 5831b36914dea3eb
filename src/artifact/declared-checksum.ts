/**
 * Declared SHA-256 checksums of an artifact (S3's ChecksumSHA256, or object metadata written by
 * CI) and their comparison with the SHA-256 ferry computed while reading the bytes.
 */
import { ArtifactError } from '../core/errors.js';
import { ArtifactErrorCode } from './artifact-error-codes.js';

export interface DeclaredChecksum {
  readonly sha256: string;
  readonly source: 'ChecksumSHA256' | 'metadata';
  /** S3's ChecksumType for a ChecksumSHA256: FULL_OBJECT (verifiable) or COMPOSITE (multipart, not verifiable). */
  readonly checksumType?: string;
}

/**
 * A declared checksum ready to compare: a SHA-256 in Lambda's CodeSha256 form (base64), or a
 * multipart upload's composite (`<base64>-<N>`) that S3 computed, compared with the composite of
 * the same part sizes ferry computes while reading.
 */
export interface ComparableChecksum {
  readonly sha256: string;
  readonly source: DeclaredChecksum['source'];
  readonly composite?: true;
}

/** What ferry can check a composite against: the object's part sizes (GetObjectAttributes). */
export interface CompositeContext {
  readonly partSizes?: readonly number[];
}

const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
/** S3 composite checksums of multipart uploads: `<base64 of the parts' checksums>-<part count>`. */
const COMPOSITE_SUFFIX = /-\d+$/;

/** A SHA-256 in base64 (44 chars) or hex (64 chars), as base64; undefined when it is neither. */
export function normalizeSha256(value: string): string | undefined {
  const trimmed = value.trim();
  if (HEX_SHA256.test(trimmed)) return Buffer.from(trimmed, 'hex').toString('base64');
  // The round trip rejects non-canonical base64 whose padding bits are not zero: it would name
  // the same digest under a second spelling, and a plain string comparison would call it a mismatch.
  if (BASE64_SHA256.test(trimmed) && Buffer.from(trimmed, 'base64').toString('base64') === trimmed) return trimmed;
  return undefined;
}

/**
 * Validates every declared checksum before any byte is read, so a typo in CI's metadata fails
 * fast. A composite checksum is refused: it is not a SHA-256 of the object, and skipping it would
 * deploy bytes nobody vouched for while the upload looks checksummed.
 */
export function prepareDeclaredChecksums(
  declared: readonly DeclaredChecksum[],
  context: CompositeContext = {},
): ComparableChecksum[] {
  const comparable: ComparableChecksum[] = [];
  for (const { sha256, source, checksumType } of declared) {
    const trimmed = sha256.trim();
    const composite =
      COMPOSITE_SUFFIX.test(trimmed) && normalizeSha256(trimmed.replace(COMPOSITE_SUFFIX, '')) !== undefined;
    // S3 computed this one for a multipart upload (aws s3 cp over 8 MB, ferry upload): with the
    // part sizes ferry recomputes it from the bytes. A composite in metadata is a user's
    // declaration of something ferry cannot recompute, and stays a rejection.
    if (
      composite &&
      source === 'ChecksumSHA256' &&
      checksumType !== 'FULL_OBJECT' &&
      context.partSizes !== undefined &&
      Number(trimmed.split('-').at(-1)) === context.partSizes.length
    ) {
      comparable.push({ sha256: trimmed, source, composite: true });
      continue;
    }
    if (composite || checksumType === 'COMPOSITE') {
      throw new ArtifactError(
        ArtifactErrorCode.ChecksumUnverifiable,
        `The artifact's declared SHA-256 (${source}) is '${truncate(trimmed)}', a composite checksum of a multipart ` +
          "upload (the SHA-256 of its parts' SHA-256s), not the SHA-256 of the object: ferry cannot verify it, so it " +
          "deploys nothing. Upload the zip in one part (PutObject, as 'ferry upload' does; for 'aws s3 cp', raise " +
          "multipart_threshold above the zip's size) with its full-object SHA-256 as ChecksumSHA256 or x-amz-meta-sha256.",
        { context: { source, declared: truncate(trimmed), ...(checksumType ? { checksumType } : {}) } },
      );
    }
    const normalized = normalizeSha256(trimmed);
    if (normalized === undefined) {
      throw new ArtifactError(
        ArtifactErrorCode.ChecksumInvalid,
        `The artifact's declared SHA-256 (${source}) is '${truncate(trimmed)}', which is neither a base64 (44 characters) ` +
          'nor a hex (64 characters) SHA-256: fix how CI computes the checksum, then upload the build again.',
        { context: { source, declared: truncate(trimmed) } },
      );
    }
    comparable.push({ sha256: normalized, source });
  }
  return comparable;
}

/** Throws ARTIFACT_CHECKSUM_MISMATCH when a declared checksum differs from the computed one. */
export function assertChecksumsMatch(
  computedSha256: string,
  declared: readonly ComparableChecksum[],
  sizeBytes: number,
  computedComposite?: string,
): void {
  for (const { sha256, source, composite } of declared) {
    const computed = composite ? (computedComposite ?? 'not computed') : computedSha256;
    if (sha256 === computed) continue;
    throw new ArtifactError(
      ArtifactErrorCode.ChecksumMismatch,
      `The artifact's ${composite ? "composite SHA-256 (over its parts' SHA-256s)" : 'SHA-256'} is ${computed} but its ${source} declares ${sha256}: the object is not the ` +
        'build CI checksummed (changed, truncated or corrupted on the way). Upload the build again.',
      { context: { source, declared: sha256, computed, sizeBytes } },
    );
  }
}

/** Declared values come from users' metadata: keep what we echo into logs short. */
function truncate(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value;
}
