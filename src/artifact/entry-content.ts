/**
 * Reads one entry's data the way an extractor would, and checks it against what the directory
 * declares: the number of bytes it inflates to and their CRC-32. A lying size is how a zip bomb
 * passes a check of declared sizes (40 MB of zeros declared as 100 bytes); a lying CRC-32 means
 * extractors that verify it refuse the file while others write it. Inflation stops as soon as an
 * entry passes its declared size, so neither memory nor time grows with what the zip really holds.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import type yauzl from 'yauzl';
import { ArtifactError } from '../core/errors.js';
import { ArtifactErrorCode } from './artifact-error-codes.js';
import { READ_DIFFERENTLY, rejectZip } from './zip-rejection.js';

export const CompressionMethod = { Stored: 0, Deflated: 8 } as const;

/**
 * Streams the entry through inflate, counting and CRC-ing; returns the bytes it really holds.
 * Inflation stops at the first chunk past the declared size, so an entry never inflates to more
 * than it declares; the declared sizes already add up to at most maxUnzippedBytes, so the bytes
 * actually inflated stay within it too.
 */
export async function verifyEntryContent(
  zipfile: yauzl.ZipFile,
  entry: yauzl.Entry,
  shown: string,
  sizeBytes: number,
): Promise<number> {
  let inflated = 0;
  let crc = 0;
  const context = { sizeBytes, entry: shown };
  const count = new Writable({
    write(chunk: Buffer, _encoding, done) {
      inflated += chunk.length;
      if (inflated > entry.uncompressedSize) {
        done(contentMismatch(shown, `inflates to more than the ${entry.uncompressedSize} bytes it declares`, context));
        return;
      }
      crc = crc32(chunk, crc);
      done();
    },
  });
  // Raw bytes from yauzl (bounded to the entry's compressed range); we inflate them ourselves so
  // every mismatch is ours to name, and yauzl's own size check cannot race ours.
  const raw = await zipfile.openReadStreamPromise(entry, { decodeFileData: false });
  const inflate = entry.compressionMethod === CompressionMethod.Deflated ? createInflateRaw() : undefined;
  try {
    if (inflate === undefined) await pipeline(raw, count);
    else await pipeline(raw, inflate, count);
  } catch (error) {
    if (error instanceof ArtifactError) throw error;
    throw contentMismatch(
      shown,
      `cannot be inflated (${error instanceof Error ? error.message : String(error)})`,
      context,
    );
  }
  // zlib stops at the end of the deflate stream and ignores what follows: bytes a reader never sees.
  if (inflate !== undefined && inflate.bytesWritten !== entry.compressedSize) {
    const trailing = entry.compressedSize - inflate.bytesWritten;
    throw contentMismatch(shown, `has ${trailing} bytes after the end of its compressed data`, context);
  }
  if (inflated !== entry.uncompressedSize) {
    throw contentMismatch(shown, `holds ${inflated} bytes but declares ${entry.uncompressedSize}`, context);
  }
  if (crc !== entry.crc32) {
    throw contentMismatch(shown, `has CRC-32 ${hex32(crc)} but declares ${hex32(entry.crc32)}`, context);
  }
  return inflated;
}

function contentMismatch(shown: string, problem: string, context: Record<string, string | number>): ArtifactError {
  return rejectZip(
    ArtifactErrorCode.ContentMismatch,
    `has an entry ${shown} that ${problem}`,
    `Extractors that check sizes and CRC-32 refuse it, others write whatever it holds. ${READ_DIFFERENTLY}`,
    context,
  );
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
