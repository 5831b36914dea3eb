/**
 * Reads an artifact body exactly once: hashes it, counts it, writes it to a temp file with
 * backpressure, and keeps it in memory only while it stays small enough to send as ZipFile.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ArtifactError, InternalError } from '../core/errors.js';
import { ArtifactErrorCode } from './artifact-error-codes.js';

export type ArtifactBody = AsyncIterable<Uint8Array> | NodeJS.ReadableStream;

export interface SpoolOptions {
  readonly maxArtifactBytes: number;
  readonly keepBytesUpTo: number;
}

export interface SpooledArtifact {
  /** base64 SHA-256, Lambda's CodeSha256 form. */
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly bytes?: Buffer;
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
  let kept: Uint8Array[] | undefined = [];

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
      if (kept !== undefined) {
        // Past the threshold the bytes live only on disk; drop what we held so memory stays bounded.
        if (sizeBytes <= options.keepBytesUpTo) kept.push(chunk);
        else kept = undefined;
      }
      yield chunk;
    }
  }

  await pipeline(body, measure, createWriteStream(filePath, { flags: 'wx', mode: 0o600 }));
  const sha256 = hash.digest('base64');
  return kept === undefined ? { sha256, sizeBytes } : { sha256, sizeBytes, bytes: Buffer.concat(kept, sizeBytes) };
}
