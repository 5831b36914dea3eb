/**
 * How Lambda receives an artifact's code, decided per target as plain data: by S3 reference to the
 * pinned object version whenever Lambda can read it (the bucket is in the function's Region), or
 * inline (ZipFile) for other Regions while the encoded request stays safely under Lambda's limit.
 */
import type { CodeSource } from './deploy-plan.js';

const MiB = 1024 * 1024;

/**
 * The largest zip ferry sends inline. UpdateFunctionCode carries ZipFile base64-encoded in a JSON
 * body, and Lambda refuses a request body over 50 MB: 4/3 of 35 MiB is 48.9 MB, which leaves room
 * for the JSON around it (Lambda's own "50 MB zipped" is the limit *before* that encoding).
 */
export const INLINE_MAX_BYTES = 35 * MiB;

export interface CodeSourceFacts {
  readonly sizeBytes: number;
  /** The artifact bucket's Region. */
  readonly bucketRegion: string;
  /** The pinned object version; absent for an unversioned bucket. */
  readonly versionId?: string;
}

export type CodeSourceChoice =
  | { readonly via: CodeSource }
  | { readonly via: 'none'; readonly reason: 'wrong-region' | 'unversioned' };

/**
 * S3 reference for every target in the bucket's Region, whatever the size (no artifact bytes pass
 * through ferry); inline up to INLINE_MAX_BYTES for other Regions or an unversioned bucket (an
 * unpinned reference could deploy bytes ferry never verified); nothing otherwise.
 */
export function chooseCodeSource(facts: CodeSourceFacts, targetRegion: string): CodeSourceChoice {
  const sameRegion = facts.bucketRegion === targetRegion;
  if (sameRegion && facts.versionId !== undefined) return { via: 's3-reference' };
  if (facts.sizeBytes <= INLINE_MAX_BYTES) return { via: 'zip-file' };
  return { via: 'none', reason: sameRegion ? 'unversioned' : 'wrong-region' };
}
