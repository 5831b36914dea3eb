/**
 * S3's COMPOSITE SHA-256 of a multipart object (S3 User Guide, "Checking object integrity"): the
 * SHA-256 of the concatenated binary SHA-256 digests of its parts, then `-<part count>`. Computed
 * over the same stream as the full-object hash, splitting chunks at the part boundaries.
 */
import { createHash, type Hash } from 'node:crypto';
import { type ArtifactDigest, UPLOAD_PART_BYTES } from '../core/upload-parts.js';

export interface PartHasher {
  update(chunk: Uint8Array): void;
  /** `<base64>-<N>`, or undefined when the bytes did not fill the parts exactly. */
  finish(sizeBytes: number): string | undefined;
}

/** The composite over known part sizes (GetObjectAttributes ObjectParts), in order. */
export function createPartHasher(partSizes: readonly number[]): PartHasher {
  const splitter = createSplitter((index) => partSizes[index]);
  return {
    update: splitter.update,
    finish(sizeBytes) {
      const total = partSizes.reduce((sum, size) => sum + size, 0);
      const digests = splitter.finish();
      if (splitter.overflowed() || total !== sizeBytes || digests.length !== partSizes.length) return undefined;
      return compositeOf(digests);
    },
  };
}

/**
 * Hashes an artifact as ferry uploads it: the whole-object SHA-256, and the composite over parts
 * of `partBytes` (the checksum S3 stores when the upload takes more than one part).
 */
export function createUploadHasher(partBytes: number = UPLOAD_PART_BYTES) {
  const whole = createHash('sha256');
  const splitter = createSplitter(() => partBytes);
  let sizeBytes = 0;
  return {
    update(chunk: Uint8Array) {
      sizeBytes += chunk.byteLength;
      whole.update(chunk);
      splitter.update(chunk);
    },
    digest(): ArtifactDigest {
      const sha256 = whole.digest('base64');
      const digests = splitter.finish();
      return { sha256, sizeBytes, objectChecksumSha256: digests.length > 1 ? compositeOf(digests) : sha256 };
    },
  };
}

function compositeOf(digests: readonly Buffer[]): string {
  return `${createHash('sha256').update(Buffer.concat(digests)).digest('base64')}-${digests.length}`;
}

/** Feeds bytes into one SHA-256 per part; `sizeOf(index)` is undefined past the last part. */
function createSplitter(sizeOf: (index: number) => number | undefined) {
  const digests: Buffer[] = [];
  let index = 0;
  let left = sizeOf(0) ?? 0;
  let current: Hash | undefined;
  let overflow = false;
  return {
    update(chunk: Uint8Array) {
      let offset = 0;
      while (offset < chunk.byteLength) {
        if (sizeOf(index) === undefined) {
          overflow = true;
          return;
        }
        current ??= createHash('sha256');
        const take = Math.min(left, chunk.byteLength - offset);
        current.update(chunk.subarray(offset, offset + take));
        offset += take;
        left -= take;
        if (left === 0) {
          digests.push(current.digest());
          current = undefined;
          index++;
          left = sizeOf(index) ?? 0;
        }
      }
    },
    /** The parts' digests, the last (partial) part included. */
    finish(): Buffer[] {
      if (current !== undefined) {
        digests.push(current.digest());
        current = undefined;
      }
      return digests;
    },
    overflowed: () => overflow,
  };
}
