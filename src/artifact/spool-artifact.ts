/**
 * Reads an artifact body exactly once: hashes it, counts it, writes it to a temp file with
 * backpressure, and keeps it in memory only while it stays small enough to send as ZipFile.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ArtifactError, InternalError } from '../core/errors.js';
import { ArtifactErrorCode } from './artifact-error-codes.js';
import { createPartHasher, createUploadHasher } from './part-hasher.js';

export type ArtifactBody = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

export interface SpoolOptions {
  readonly maxArtifactBytes: number;
  readonly keepBytesUpTo: number;
  /** The size S3 announced, when known: kept bytes then go straight into one buffer of that size. */
  readonly expectedBytes?: number;
  /** A multipart object's part sizes, in order: the composite SHA-256 over them is computed too. */
  readonly partSizes?: readonly number[];
  /** The part size ferry will upload these bytes with: the checksum S3 will store is computed too. */
  readonly uploadPartBytes?: number;
}

export interface SpooledArtifact {
  /** base64 SHA-256, Lambda's CodeSha256 form. */
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly bytes?: Buffer;
  /** `<base64 SHA-256 of the parts' SHA-256 digests>-<N>`, when partSizes were given and add up to the size. */
  readonly compositeSha256?: string;
  /** What S3 stores as ChecksumSHA256 when ferry uploads these bytes in parts of uploadPartBytes. */
  readonly objectChecksumSha256?: string;
}

/**
 * Streams `body` into `filePath` (created exclusively, owner-only). Throws ARTIFACT_TOO_LARGE as
 * soon as more than `maxArtifactBytes` arrived; the pipeline then destroys the body, so the rest
 * of the object is never downloaded. The caller removes the file on failure.
 */
export async function spoolArtifact(
  body: ArtifactBody,
  filePath: string,
  options: SpoolOptions,
): Promise<SpooledArtifact> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const keeper = createKeeper(options);
  const parts = options.partSizes ? createPartHasher(options.partSizes) : undefined;
  const upload = options.uploadPartBytes ? createUploadHasher(options.uploadPartBytes) : undefined;

  async function* measure(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      if (typeof chunk === 'string') {
        // A decoded stream (setEncoding) would hash text, not the object's bytes.
        throw new InternalError('ARTIFACT_BODY_DECODED', 'The artifact body yields strings; pass the raw byte stream.');
      }
      sizeBytes += chunk.byteLength;
      if (sizeBytes > options.maxArtifactBytes) {
        throw new ArtifactError(
          ArtifactErrorCode.TooLarge,
          `The artifact is larger than the ${options.maxArtifactBytes}-byte limit (stopped reading after ${sizeBytes} bytes): ` +
            'make the package smaller (drop dev dependencies, bundle and minify) or move dependencies into a layer.',
          { context: { sizeBytes, maxArtifactBytes: options.maxArtifactBytes } },
        );
      }
      hash.update(chunk);
      parts?.update(chunk);
      upload?.update(chunk);
      keeper.add(chunk, sizeBytes);
      yield chunk;
    }
  }

  await pipeline(body, measure, createWriteStream(filePath, { flags: 'wx', mode: 0o600 }));
  const sha256 = hash.digest('base64');
  const bytes = keeper.finish(sizeBytes);
  const compositeSha256 = parts?.finish(sizeBytes);
  const objectChecksumSha256 = upload?.digest().objectChecksumSha256;
  return {
    sha256,
    sizeBytes,
    ...(bytes === undefined ? {} : { bytes }),
    ...(compositeSha256 === undefined ? {} : { compositeSha256 }),
    ...(objectChecksumSha256 === undefined ? {} : { objectChecksumSha256 }),
  };
}

interface Keeper {
  add(chunk: Uint8Array, sizeSoFar: number): void;
  finish(sizeBytes: number): Buffer | undefined;
}

/**
 * Holds the bytes while they stay within `keepBytesUpTo`; past it they live only on disk and what
 * was held is dropped, so memory stays bounded. With the size known up front the bytes are copied
 * into one buffer as they arrive, so the artifact is never in memory twice (no final concat).
 */
function createKeeper(options: SpoolOptions): Keeper {
  const { keepBytesUpTo, expectedBytes } = options;
  if (expectedBytes !== undefined && expectedBytes <= keepBytesUpTo) {
    let buffer: Buffer | undefined = Buffer.allocUnsafe(expectedBytes);
    return {
      add(chunk, sizeSoFar) {
        if (buffer === undefined) return;
        if (sizeSoFar > expectedBytes) buffer = undefined;
        else buffer.set(chunk, sizeSoFar - chunk.byteLength);
      },
      finish: (sizeBytes) => (sizeBytes === expectedBytes ? buffer : undefined),
    };
  }
  let kept: Uint8Array[] | undefined = [];
  return {
    add(chunk, sizeSoFar) {
      if (kept === undefined) return;
      if (sizeSoFar <= keepBytesUpTo) kept.push(chunk);
      else kept = undefined;
    },
    finish: (sizeBytes) => (kept === undefined ? undefined : Buffer.concat(kept, sizeBytes)),
  };
}
