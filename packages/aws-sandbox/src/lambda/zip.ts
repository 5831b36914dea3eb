/**
 * Zip inspection for the sandbox's Lambda service: the checks Lambda applies to a deployment
 * package (it must unzip; limits on zipped and unzipped size) and extraction for Invoke.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { AwsError } from '../contracts.js';

/** Lambda quotas page: 50 MB zipped when uploaded through the Lambda API, 250 MB unzipped. */
export const MAX_ZIPPED_UPLOAD_BYTES = 50 * 1024 * 1024;
export const MAX_UNZIPPED_BYTES = 250 * 1024 * 1024;
/** The request-size limit AWS names in its RequestEntityTooLargeException message (base64 of 50 MB plus JSON). */
export const MAX_REQUEST_BYTES = 69_905_067;

export interface ZipSummary {
  readonly fileNames: readonly string[];
  readonly unzippedBytes: number;
}

/** base64(SHA-256(bytes)): the form Lambda uses for CodeSha256 everywhere. */
export function computeCodeSha256(zip: Buffer): string {
  return createHash('sha256').update(zip).digest('base64');
}

/** Rejects a ZipFile upload that is larger than Lambda accepts through the API. */
export function assertUploadSize(zip: Buffer, operation: string): void {
  if (zip.length > MAX_ZIPPED_UPLOAD_BYTES) {
    throw new AwsError(
      'RequestEntityTooLargeException',
      413,
      `Request must be smaller than ${MAX_REQUEST_BYTES} bytes for the ${operation} operation`,
    );
  }
}

/**
 * Reads the central directory (no decompression) and applies Lambda's package checks:
 * unreadable bytes and oversized unzipped content are InvalidParameterValueException.
 */
export async function inspectZip(zip: Buffer): Promise<ZipSummary> {
  const entries = await readEntries(zip).catch(() => {
    throw new AwsError(
      'InvalidParameterValueException',
      400,
      'Could not unzip uploaded file. Please check your file, then try to upload again.',
    );
  });
  const unzippedBytes = entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
  if (unzippedBytes > MAX_UNZIPPED_BYTES) {
    throw new AwsError(
      'InvalidParameterValueException',
      400,
      `Unzipped size must be smaller than ${MAX_UNZIPPED_BYTES} bytes`,
    );
  }
  return { fileNames: entries.map((entry) => entry.fileName), unzippedBytes };
}

/** Extracts every file of the zip under `dir`, refusing entries that would escape it. */
export async function extractZip(zip: Buffer, dir: string): Promise<void> {
  const zipFile = await yauzl.fromBufferPromise(zip, { lazyEntries: true });
  const root = resolve(dir);
  for await (const entry of iterateEntries(zipFile)) {
    const target = resolve(join(root, entry.fileName));
    if (target !== root && !target.startsWith(root + sep)) {
      throw new Error(`zip entry escapes the extraction directory: ${entry.fileName}`);
    }
    if (entry.fileName.endsWith('/')) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    await pipeline(await zipFile.openReadStreamPromise(entry), createWriteStream(target));
  }
  zipFile.close();
}

async function readEntries(zip: Buffer): Promise<yauzl.Entry[]> {
  const zipFile = await yauzl.fromBufferPromise(zip, { lazyEntries: true });
  const entries: yauzl.Entry[] = [];
  for await (const entry of iterateEntries(zipFile)) entries.push(entry);
  zipFile.close();
  return entries;
}

/** yauzl's lazy entry events as an async iterator, so callers read one entry at a time. */
async function* iterateEntries(zipFile: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  while (true) {
    const next = await new Promise<yauzl.Entry | undefined>((resolveEntry, reject) => {
      const onEntry = (entry: yauzl.Entry): void => {
        cleanup();
        resolveEntry(entry);
      };
      const onEnd = (): void => {
        cleanup();
        resolveEntry(undefined);
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const cleanup = (): void => {
        zipFile.off('entry', onEntry);
        zipFile.off('end', onEnd);
        zipFile.off('error', onError);
      };
      zipFile.on('entry', onEntry);
      zipFile.on('end', onEnd);
      zipFile.on('error', onError);
      zipFile.readEntry();
    });
    if (next === undefined) return;
    yield next;
  }
}
