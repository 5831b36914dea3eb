/**
 * Checks a spooled zip the way Lambda will use it, and refuses any zip that two extractors could
 * read differently. In order:
 * 1. the end record and the central directory agree (real records counted, zip64 included);
 * 2. every directory record: a plain relative name (one name, whichever field a reader takes),
 *    no duplicate in any spelling, a regular file or directory (no symlink, device, FIFO),
 *    not encrypted, stored or deflated, declared sizes within maxUnzippedBytes, and a local
 *    header that says what the record says;
 * 3. the entries tile the file from byte 0 to the central directory: no overlap, no hidden bytes;
 * 4. every entry inflates to exactly its declared size and CRC-32, within maxUnzippedBytes.
 * Only step 4 decompresses, one entry at a time through a stream: memory stays flat.
 */
import { open } from 'node:fs/promises';
import yauzl from 'yauzl';
import type { ArtifactLimits } from '../core/config.js';
import { ArtifactError } from '../core/errors.js';
import { ArtifactErrorCode } from './artifact-error-codes.js';
import { CompressionMethod, verifyEntryContent } from './entry-content.js';
import { createPositionalReader, type ReadAt, readZipDirectory } from './zip-directory.js';
import { checkEntryPath, createNameRegistry, EntryType, entryTypeOf, type NameRegistry } from './zip-entry-rules.js';
import { checkEntryLayout, compareLocalHeader, type EntrySpan } from './zip-layout.js';
import { READ_DIFFERENTLY, rejectZip, showName } from './zip-rejection.js';

export interface ZipSummary {
  readonly entryCount: number;
  /** Bytes the entries really inflate to (equal to what they declare, or the zip is rejected). */
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
  // Two descriptors: yauzl owns its own (closed by zipfile.close() once its streams are done, even
  // when we stop early); ours serves the raw structure reads.
  const zipfile = await openZip(filePath, sizeBytes);
  try {
    const handle = await open(filePath, 'r');
    try {
      return await inspectOpenZip(zipfile, createPositionalReader(handle, sizeBytes), sizeBytes, limits);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof ArtifactError) throw error;
    throw corrupt(error, sizeBytes);
  } finally {
    zipfile.close();
  }
}

async function openZip(filePath: string, sizeBytes: number): Promise<yauzl.ZipFile> {
  return yauzl
    .openPromise(filePath, {
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
}

interface CheckedEntry {
  readonly entry: yauzl.Entry;
  readonly shown: string;
}

async function inspectOpenZip(
  zipfile: yauzl.ZipFile,
  readAt: ReadAt,
  sizeBytes: number,
  limits: ZipLimits,
): Promise<ZipSummary> {
  const directory = await readZipDirectory(readAt, sizeBytes, limits.maxEntries);
  if (directory.recordCount === 0) {
    throw new ArtifactError(
      ArtifactErrorCode.Empty,
      'The artifact is a zip with no entries: check that the build put the function code into the package.',
      { context: { sizeBytes, entryCount: 0 } },
    );
  }

  const checked: CheckedEntry[] = [];
  const spans: EntrySpan[] = [];
  const registry = createNameRegistry();
  let declaredBytes = 0;
  for await (const entry of zipfile.eachEntry()) {
    const shown = checkRecord(entry, registry, sizeBytes);
    // Declared sizes first: Lambda's 250 MB quota is on the unzipped package, and a zip that
    // declares too much is refused before anything is inflated.
    declaredBytes += entry.uncompressedSize;
    if (declaredBytes > limits.maxUnzippedBytes) throw unzippedTooLarge(declaredBytes, limits, sizeBytes);
    const local = await zipfile.readLocalFileHeaderPromise(entry);
    const disagreement = compareLocalHeader(entry, local);
    if (disagreement !== undefined) {
      throw rejectZip(
        ArtifactErrorCode.HeaderMismatch,
        `has an entry ${shown} whose local header disagrees with the central directory: ${disagreement}`,
        READ_DIFFERENTLY,
        { sizeBytes, entry: shown },
      );
    }
    spans.push({
      shown,
      headerOffset: entry.relativeOffsetOfLocalHeader,
      dataStart: local.fileDataStart,
      compressedSize: entry.compressedSize,
      uncompressedSize: entry.uncompressedSize,
      crc32: entry.crc32,
      hasDataDescriptor: (entry.generalPurposeBitFlag & 0x8) !== 0,
    });
    checked.push({ entry, shown });
  }
  await checkEntryLayout(spans, directory.centralDirectoryOffset, readAt, sizeBytes);

  let unzippedBytes = 0;
  for (const { entry, shown } of checked) {
    unzippedBytes += await verifyEntryContent(zipfile, entry, shown, sizeBytes);
  }
  return { entryCount: directory.recordCount, unzippedBytes };
}

/** Checks one directory record on its own and against the names seen before; returns its name for messages. */
function checkRecord(entry: yauzl.Entry, registry: NameRegistry, sizeBytes: number): string {
  const { names, readings } = namesOf(entry);
  const shown = showName(names[0] as string);
  for (const name of names) {
    const reason = checkEntryPath(name);
    if (reason === undefined) continue;
    throw new ArtifactError(
      ArtifactErrorCode.UnsafePath,
      `The artifact's entry ${showName(name)} ${reason}, so it would not extract inside the function directory: ` +
        'rebuild the zip from inside the build directory, with relative paths and without absolute or ".." entries.',
      { context: { sizeBytes, entry: showName(name), reason } },
    );
  }
  if (names.length > 1) {
    throw rejectZip(
      ArtifactErrorCode.AmbiguousName,
      `has an entry named ${shown} whose Info-ZIP Unicode Path field names it ${showName(names[1] as string)}`,
      `Extractors differ on which of the two names they use. ${READ_DIFFERENTLY}`,
      { sizeBytes, entry: shown },
    );
  }
  if (entry.isEncrypted()) {
    throw new ArtifactError(
      ArtifactErrorCode.Encrypted,
      `The artifact's entry ${shown} is encrypted, and Lambda cannot read encrypted zips: rebuild the zip without a ` +
        'password (protect the object with S3 encryption instead).',
      { context: { sizeBytes, entry: shown } },
    );
  }
  checkType(entry, shown, sizeBytes);
  if (entry.compressionMethod !== CompressionMethod.Stored && entry.compressionMethod !== CompressionMethod.Deflated) {
    throw new ArtifactError(
      ArtifactErrorCode.UnsupportedCompression,
      `The artifact's entry ${shown} uses compression method ${entry.compressionMethod}; ferry (like Lambda) reads ` +
        'only stored (0) and deflated (8) entries: rebuild the zip with the default (deflate) compression.',
      { context: { sizeBytes, entry: shown, compressionMethod: entry.compressionMethod } },
    );
  }
  const clash = registry.add(shown, readings, names[0]?.endsWith('/') === true);
  if (clash !== undefined) {
    throw rejectZip(
      ArtifactErrorCode.DuplicateEntry,
      `has an entry ${shown} that ${clash}`,
      'Extractors keep one or the other copy (or fail), so what Lambda runs depends on which extractor it is.',
      { sizeBytes, entry: shown },
    );
  }
  return shown;
}

function checkType(entry: yauzl.Entry, shown: string, sizeBytes: number): void {
  const type = entryTypeOf(entry.externalFileAttributes);
  if (type === EntryType.Symlink) {
    throw new ArtifactError(
      ArtifactErrorCode.Symlink,
      `The artifact's entry ${shown} is a symbolic link. ferry refuses every link: one extractor writes a link that ` +
        'can point outside the function directory, another a file holding the target path. Rebuild the zip with ' +
        'links resolved to the files they point at (zip without --symlinks; archiver and yazl do this by default).',
      { context: { sizeBytes, entry: shown } },
    );
  }
  if (type === EntryType.Special) {
    const mode = ((entry.externalFileAttributes >>> 16) & 0o170000).toString(8);
    throw new ArtifactError(
      ArtifactErrorCode.SpecialFile,
      `The artifact's entry ${shown} is not a regular file or directory (Unix type 0${mode}: a device, FIFO or ` +
        'socket): rebuild the zip from regular files only.',
      { context: { sizeBytes, entry: shown, mode } },
    );
  }
}

interface EntryNames {
  /** The name as written (UTF-8 when flagged, else CP437), then any Unicode Path field that names something else. */
  readonly names: readonly string[];
  /** Every reading of the name, for duplicates: readers that assume UTF-8 ignore the flag. */
  readonly readings: readonly string[];
}

/**
 * Every name a reader may give the entry: as written, as UTF-8 whatever the flag says, and as
 * each Info-ZIP Unicode Path field says (yauzl honours one only when its CRC matches; other
 * readers do not check). A Unicode Path field must agree with a reading of the written bytes
 * (old tools write names in a local code page and the UTF-8 name beside them). Backslashes are kept.
 */
function namesOf(entry: yauzl.Entry): EntryNames {
  const raw = entry.fileNameRaw;
  const written = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, [], true);
  const utf8 = yauzl.getFileNameLowLevel(0x800, raw, [], true);
  const cp437 = yauzl.getFileNameLowLevel(0, raw, [], true);
  const names = new Set([written]);
  for (const field of entry.extraFields) {
    const named = unicodePathOf(field);
    if (named !== undefined && named !== utf8 && named !== cp437) names.add(named);
  }
  return { names: [...names], readings: [...new Set([written, utf8, cp437])] };
}

/** The name an Info-ZIP Unicode Path extra field (0x7075, version 1) carries, whatever its CRC. */
function unicodePathOf(field: { id: number; data: Buffer }): string | undefined {
  if (field.id !== 0x7075 || field.data.length < 5 || field.data.readUInt8(0) !== 1) return undefined;
  return field.data.subarray(5).toString('utf8');
}

function unzippedTooLarge(unzippedBytes: number, limits: ZipLimits, sizeBytes: number): ArtifactError {
  return new ArtifactError(
    ArtifactErrorCode.UnzippedTooLarge,
    `The artifact unzips to more than ${limits.maxUnzippedBytes} bytes (at least ${unzippedBytes}): ` +
      'make the package smaller (drop dev dependencies, bundle and minify) or move dependencies into a layer.',
    { context: { sizeBytes, unzippedBytes, maxUnzippedBytes: limits.maxUnzippedBytes } },
  );
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
