/**
 * Checks a spooled zip the way Lambda will use it, reading only the central directory (no
 * decompression): readable, not empty, a sane number of entries, unzipped size within the limit,
 * every entry name a plain relative path, nothing encrypted.
 */
import { open } from 'node:fs/promises';
import yauzl from 'yauzl';
import type { ArtifactLimits } from '../core/config.js';
import { ArtifactError } from '../core/errors.js';
import { ArtifactErrorCode } from './artifact-error-codes.js';
import { checkEntryPath } from './zip-entry-rules.js';

export interface ZipSummary {
  readonly entryCount: number;
  readonly unzippedBytes: number;
}

type ZipLimits = Pick<ArtifactLimits, 'maxUnzippedBytes' | 'maxEntries'>;

/** Inspects the zip at `filePath`; throws an ArtifactError naming the first problem found. */
export async function inspectZip(filePath: string, sizeBytes: number, limits: ZipLimits): Promise<ZipSummary> {
  if (sizeBytes === 0) {
    throw new ArtifactError(
      ArtifactErrorCode.Empty,
      'The artifact is an empty object (0 bytes), not a zip: check that the build produced the package before uploading it.',
      { context: { sizeBytes } },
    );
  }
  // We own the descriptor (yauzl's autoClose is off for fromFd) so it is closed on every path,
  // including when we stop reading early.
  const handle = await open(filePath, 'r');
  try {
    return await readCentralDirectory(handle.fd, sizeBytes, limits);
  } finally {
    await handle.close();
  }
}

async function readCentralDirectory(fd: number, sizeBytes: number, limits: ZipLimits): Promise<ZipSummary> {
  const zipfile = await yauzl
    .fromFdPromise(fd, {
      lazyEntries: true,
      autoClose: false,
      // yauzl's own name validation would fail with a generic error (and strictFileNames=false
      // silently rewrites `\` to `/`). We take the raw names and apply our rules, so an unsafe
      // entry is reported by name with what to do about it.
      decodeStrings: false,
      validateEntrySizes: true,
    })
    .catch((cause: unknown) => {
      throw corrupt(cause, sizeBytes);
    });

  const entryCount = zipfile.entryCount;
  if (entryCount === 0) {
    throw new ArtifactError(
      ArtifactErrorCode.Empty,
      'The artifact is a zip with no entries: check that the build put the function code into the package.',
      { context: { sizeBytes, entryCount } },
    );
  }
  // The end-of-central-directory record gives the count up front: stop before reading any entry.
  if (entryCount > limits.maxEntries) {
    throw new ArtifactError(
      ArtifactErrorCode.TooManyEntries,
      `The artifact has ${entryCount} entries, more than the limit of ${limits.maxEntries}: bundle the code ` +
        '(for example with esbuild) or move dependencies into a layer, or raise limits.maxEntries.',
      { context: { sizeBytes, entryCount, maxEntries: limits.maxEntries } },
    );
  }

  let unzippedBytes = 0;
  try {
    for await (const entry of zipfile.eachEntry()) {
      checkEntry(entry, sizeBytes);
      // Declared sizes: Lambda's 250 MB quota is on the unzipped package, which is what these add up to.
      unzippedBytes += entry.uncompressedSize;
      if (unzippedBytes > limits.maxUnzippedBytes) {
        throw new ArtifactError(
          ArtifactErrorCode.UnzippedTooLarge,
          `The artifact unzips to more than ${limits.maxUnzippedBytes} bytes (at least ${unzippedBytes}): ` +
            'make the package smaller (drop dev dependencies, bundle and minify) or move dependencies into a layer.',
          { context: { sizeBytes, unzippedBytes, maxUnzippedBytes: limits.maxUnzippedBytes } },
        );
      }
    }
  } catch (error) {
    if (error instanceof ArtifactError) throw error;
    throw corrupt(error, sizeBytes);
  }
  return { entryCount, unzippedBytes };
}

function checkEntry(entry: yauzl.Entry, sizeBytes: number): void {
  for (const name of namesOf(entry)) {
    const reason = checkEntryPath(name);
    if (reason === undefined) continue;
    const shown = JSON.stringify(name);
    throw new ArtifactError(
      ArtifactErrorCode.UnsafePath,
      `The artifact's entry ${shown} ${reason}, so it would not extract inside the function directory: ` +
        'rebuild the zip from inside the build directory, with relative paths and without absolute or ".." entries.',
      { context: { sizeBytes, entry: shown, reason } },
    );
  }
  if (entry.isEncrypted()) {
    const shown = JSON.stringify(namesOf(entry)[0]);
    throw new ArtifactError(
      ArtifactErrorCode.Encrypted,
      `The artifact's entry ${shown} is encrypted, and Lambda cannot read encrypted zips: rebuild the zip without a ` +
        'password (protect the object with S3 encryption instead).',
      { context: { sizeBytes, entry: shown } },
    );
  }
}

/**
 * The entry's name as written, and as the Info-ZIP Unicode Path field (if any) renames it:
 * unzip tools differ on which they use, so both must be safe. Backslashes are kept as they are.
 */
function namesOf(entry: yauzl.Entry): string[] {
  const flags = entry.generalPurposeBitFlag;
  const written = yauzl.getFileNameLowLevel(flags, entry.fileNameRaw, [], true);
  const unicode = yauzl.getFileNameLowLevel(flags, entry.fileNameRaw, entry.extraFields, true);
  return written === unicode ? [written] : [written, unicode];
}

function corrupt(cause: unknown, sizeBytes: number): ArtifactError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  // yauzl refuses strong (PKWARE) encryption before it hands us the entry; it is still encryption.
  if (/encryption/i.test(detail)) {
    return new ArtifactError(
      ArtifactErrorCode.Encrypted,
      `The artifact uses zip encryption (${detail}), and Lambda cannot read encrypted zips: rebuild the zip without a password.`,
      { cause, context: { sizeBytes } },
    );
  }
  return new ArtifactError(
    ArtifactErrorCode.Corrupt,
    `The artifact is not a readable zip (${detail}): rebuild it with a standard zip tool and upload it again; ` +
      'if the upload was cut short, upload it again.',
    { cause, context: { sizeBytes, detail } },
  );
}
