/**
 * The zip's own bookkeeping, read from the raw bytes: the end-of-central-directory record (and its
 * zip64 form), and the central directory walked record by record. yauzl trusts the record count
 * of the end record and stops there; a zip whose count is lower than its real directory hides the
 * remaining entries from yauzl but not from other extractors. So the real records are counted
 * and every field that states the directory's extent must agree with them.
 */
import type { FileHandle } from 'node:fs/promises';
import { ArtifactError } from '../core/errors.js';
import { ArtifactErrorCode } from './artifact-error-codes.js';
import { READ_DIFFERENTLY, rejectZip, showName } from './zip-rejection.js';

/** Reads exactly `length` bytes at `position`; the buffer may be shared, so do not keep or modify it. */
export type ReadAt = (position: number, length: number) => Promise<Buffer>;

export interface ZipDirectory {
  readonly centralDirectoryOffset: number;
  /** Where the central directory ends: the zip64 end record or the end record starts here. */
  readonly centralDirectoryEnd: number;
  /** Central directory records actually present (the count every field agrees with). */
  readonly recordCount: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_SIZE = 46;

/**
 * A reader over an open file that serves small reads (headers, one after another) from one
 * cached block, so walking 50,000 records does not cost 100,000 system calls. Memory: one block.
 */
export function createPositionalReader(handle: FileHandle, sizeBytes: number, blockBytes = 64 * 1024): ReadAt {
  let block = Buffer.alloc(0);
  let blockStart = 0;
  return async (position, length) => {
    if (position < 0 || length < 0 || position + length > sizeBytes) {
      throw new ArtifactError(
        ArtifactErrorCode.Corrupt,
        `The artifact is not a readable zip (a header points at bytes ${position}..${position + length}, past its ` +
          `${sizeBytes} bytes): rebuild it with a standard zip tool and upload it again.`,
        { context: { sizeBytes, position, length } },
      );
    }
    const offset = position - blockStart;
    if (offset >= 0 && offset + length <= block.length) return block.subarray(offset, offset + length);
    const size = Math.min(Math.max(length, blockBytes), sizeBytes - position);
    const fresh = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(fresh, filled, size - filled, position + filled);
      if (bytesRead === 0) throw new Error(`The spooled artifact ended after ${position + filled} bytes; retry.`);
      filled += bytesRead;
    }
    block = fresh;
    blockStart = position;
    return fresh.subarray(0, length);
  };
}

/**
 * Finds the end record the way yauzl does (the last signature, whose comment reaches the end of
 * the file), checks that no other reading of the tail is possible, then walks the real central
 * directory. Throws ARTIFACT_DIRECTORY_MISMATCH when the records disagree, ARTIFACT_TOO_MANY_ENTRIES
 * as soon as the walk passes `maxEntries`.
 */
export async function readZipDirectory(readAt: ReadAt, sizeBytes: number, maxEntries: number): Promise<ZipDirectory> {
  const end = await findEndRecord(readAt, sizeBytes);
  const extent = await readExtent(readAt, end, sizeBytes);
  const { centralDirectoryOffset: start, centralDirectorySize: size, tailStart } = extent;
  if (start + size !== tailStart) {
    throw mismatch(
      start + size < tailStart
        ? `has ${tailStart - start - size} bytes between its central directory (which ends at byte ${start + size}) and its end record`
        : `declares a central directory (bytes ${start}..${start + size}) that runs into its end record at byte ${tailStart}`,
      sizeBytes,
    );
  }
  const hidden: string[] = [];
  let recordCount = 0;
  let cursor = start;
  while (cursor < tailStart) {
    if (tailStart - cursor < CENTRAL_SIZE) {
      throw mismatch(`has ${tailStart - cursor} stray bytes at the end of its central directory`, sizeBytes);
    }
    const header = await readAt(cursor, CENTRAL_SIZE);
    if (header.readUInt32LE(0) !== CENTRAL_SIGNATURE) {
      throw mismatch(
        `has bytes at ${cursor}, inside its declared central directory, that are not a directory record`,
        sizeBytes,
      );
    }
    const nameLength = header.readUInt16LE(28);
    const variable = nameLength + header.readUInt16LE(30) + header.readUInt16LE(32);
    recordCount += 1;
    if (recordCount > maxEntries) {
      throw new ArtifactError(
        ArtifactErrorCode.TooManyEntries,
        `The artifact has more than ${maxEntries} entries (the limit): bundle the code (for example with esbuild) ` +
          'or move dependencies into a layer, or raise limits.maxEntries.',
        { context: { sizeBytes, entryCount: recordCount, maxEntries } },
      );
    }
    if (recordCount > extent.entryCount && hidden.length < 3) {
      hidden.push(showName((await readAt(cursor + CENTRAL_SIZE, nameLength)).toString('utf8')));
    }
    cursor += CENTRAL_SIZE + variable;
  }
  if (cursor !== tailStart) {
    throw mismatch(`has a last directory record that runs ${cursor - tailStart} bytes into its end record`, sizeBytes);
  }
  if (recordCount !== extent.entryCount) {
    const shown = hidden.length > 0 ? ` (a reader that trusts the count misses ${hidden.join(', ')})` : '';
    throw mismatch(
      `declares ${extent.entryCount} entries in its ${extent.zip64 ? 'zip64 ' : ''}end-of-central-directory record, ` +
        `but its central directory holds ${recordCount}${shown}`,
      sizeBytes,
      { declaredEntries: extent.entryCount, centralDirectoryRecords: recordCount },
    );
  }
  return { centralDirectoryOffset: start, centralDirectoryEnd: tailStart, recordCount };
}

interface EndRecord {
  readonly offset: number;
  readonly record: Buffer;
}

async function findEndRecord(readAt: ReadAt, sizeBytes: number): Promise<EndRecord> {
  const windowSize = Math.min(sizeBytes, EOCD_SIZE + MAX_COMMENT);
  const windowStart = sizeBytes - windowSize;
  // A copy: the reader's block is shared, and the record is read again below.
  const tail = Buffer.from(await readAt(windowStart, windowSize));
  const reachesEnd = (at: number) => at + EOCD_SIZE + tail.readUInt16LE(at + 20) === tail.length;
  let found: number | undefined;
  for (let at = tail.length - EOCD_SIZE; at >= 0; at -= 1) {
    if (tail.readUInt32LE(at) !== EOCD_SIGNATURE) continue;
    if (found === undefined) {
      if (!reachesEnd(at)) break; // yauzl refuses this zip already: nothing more to tell apart.
      found = at;
    } else if (reachesEnd(at)) {
      // An end record whose comment holds another coherent end record: readers that search from
      // the end and readers that search from the start would each find a different directory.
      throw mismatch("holds two end-of-central-directory records (one inside the other's comment)", sizeBytes);
    }
  }
  if (found === undefined) {
    throw new ArtifactError(
      ArtifactErrorCode.Corrupt,
      'The artifact is not a readable zip (no end-of-central-directory record ends the file): rebuild it with a ' +
        'standard zip tool and upload it again; if the upload was cut short, upload it again.',
      { context: { sizeBytes } },
    );
  }
  return { offset: windowStart + found, record: tail.subarray(found, found + EOCD_SIZE) };
}

interface Extent {
  readonly entryCount: number;
  readonly centralDirectorySize: number;
  readonly centralDirectoryOffset: number;
  /** Where the end records start: the zip64 end record when there is one, else the end record. */
  readonly tailStart: number;
  readonly zip64: boolean;
}

async function readExtent(readAt: ReadAt, end: EndRecord, sizeBytes: number): Promise<Extent> {
  const { record } = end;
  const disk = record.readUInt16LE(4);
  const directoryDisk = record.readUInt16LE(6);
  const entriesOnDisk = record.readUInt16LE(8);
  const entries = record.readUInt16LE(10);
  const size = record.readUInt32LE(12);
  const offset = record.readUInt32LE(16);
  const locatorAt = end.offset - ZIP64_LOCATOR_SIZE;
  const locator = locatorAt >= 0 ? Buffer.from(await readAt(locatorAt, ZIP64_LOCATOR_SIZE)) : undefined;

  if (locator === undefined || locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIGNATURE) {
    if (disk !== 0 || directoryDisk !== 0) throw multiDisk(sizeBytes);
    if (entriesOnDisk !== entries) {
      throw mismatch(`declares ${entries} entries in total but ${entriesOnDisk} on its only disk`, sizeBytes);
    }
    return {
      entryCount: entries,
      centralDirectorySize: size,
      centralDirectoryOffset: offset,
      tailStart: end.offset,
      zip64: false,
    };
  }

  // yauzl (and most readers) take the zip64 record whenever the locator is there; others only when
  // the end record holds the 0xFFFF… placeholders. Either way they must read the same numbers.
  const recordAt = readUInt64(locator, 8, sizeBytes);
  if (locator.readUInt32LE(4) !== 0 || locator.readUInt32LE(16) > 1) throw multiDisk(sizeBytes);
  const zip64 = Buffer.from(await readAt(recordAt, ZIP64_EOCD_SIZE));
  if (zip64.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) {
    throw mismatch(
      `has a zip64 locator that points at byte ${recordAt}, where there is no zip64 end record`,
      sizeBytes,
    );
  }
  if (recordAt + 12 + readUInt64(zip64, 4, sizeBytes) !== locatorAt) {
    throw mismatch('has bytes between its zip64 end record and the zip64 locator', sizeBytes);
  }
  const narrowDisks = [disk, directoryDisk];
  if (
    zip64.readUInt32LE(16) !== 0 ||
    zip64.readUInt32LE(20) !== 0 ||
    narrowDisks.some((d) => d !== 0 && d !== 0xffff)
  ) {
    throw multiDisk(sizeBytes);
  }
  const wide = {
    entriesOnDisk: readUInt64(zip64, 24, sizeBytes),
    entries: readUInt64(zip64, 32, sizeBytes),
    size: readUInt64(zip64, 40, sizeBytes),
    offset: readUInt64(zip64, 48, sizeBytes),
  };
  const agree = (narrow: number, placeholder: number, value: number) => narrow === placeholder || narrow === value;
  if (
    !agree(entriesOnDisk, 0xffff, wide.entriesOnDisk) ||
    !agree(entries, 0xffff, wide.entries) ||
    !agree(size, 0xffffffff, wide.size) ||
    !agree(offset, 0xffffffff, wide.offset)
  ) {
    throw mismatch(
      `has an end-of-central-directory record (${entries} entries, directory at byte ${offset}) and a zip64 end ` +
        `record (${wide.entries} entries, directory at byte ${wide.offset}) that disagree`,
      sizeBytes,
    );
  }
  if (wide.entriesOnDisk !== wide.entries) {
    throw mismatch(`declares ${wide.entries} entries in total but ${wide.entriesOnDisk} on its only disk`, sizeBytes);
  }
  return {
    entryCount: wide.entries,
    centralDirectorySize: wide.size,
    centralDirectoryOffset: wide.offset,
    tailStart: recordAt,
    zip64: true,
  };
}

function readUInt64(buffer: Buffer, at: number, sizeBytes: number): number {
  const value = buffer.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw mismatch(`holds a zip64 field of ${value}`, sizeBytes);
  return Number(value);
}

function mismatch(problem: string, sizeBytes: number, extra: Record<string, number> = {}): ArtifactError {
  return rejectZip(ArtifactErrorCode.DirectoryMismatch, problem, READ_DIFFERENTLY, { sizeBytes, ...extra });
}

function multiDisk(sizeBytes: number): ArtifactError {
  return new ArtifactError(
    ArtifactErrorCode.Corrupt,
    'The artifact is a multi-disk (split) zip, which Lambda cannot read: rebuild it as a single zip file.',
    { context: { sizeBytes } },
  );
}
