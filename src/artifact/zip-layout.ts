/**
 * Where each entry's bytes lie, and whether its local header says what its central directory
 * record says. Readers that stream a zip from the start (and some that repair zips) trust the
 * local headers; readers that seek use the central directory. A zip means one thing only when
 * both say the same, and when the entries tile the file from byte 0 up to the central directory:
 * no entry overlapping another (the "overlapping files" zip bomb), and no byte that no entry
 * accounts for (where a second, unlisted local entry could hide).
 */
import yauzl from 'yauzl';
import { ArtifactErrorCode } from './artifact-error-codes.js';
import type { ReadAt } from './zip-directory.js';
import { READ_DIFFERENTLY, rejectZip } from './zip-rejection.js';

/** What the central directory says about an entry (yauzl's Entry, zip64 sizes resolved). */
export interface CentralFields {
  readonly generalPurposeBitFlag: number;
  readonly compressionMethod: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly fileNameRaw: Buffer;
}

/** What the local file header says (yauzl's LocalFileHeader: sizes not zip64-resolved). */
export interface LocalFields {
  readonly generalPurposeBitFlag: number;
  readonly compressionMethod: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly fileName: Buffer;
  readonly extraField: Buffer;
}

/** Flag bits whose disagreement changes how an entry is read: encryption, data descriptor, strong encryption, UTF-8 names, masked headers. */
const MEANINGFUL_FLAGS = 0x0001 | 0x0008 | 0x0040 | 0x0800 | 0x2000;
const HAS_DATA_DESCRIPTOR = 0x0008;
const ZIP64_PLACEHOLDER = 0xffffffff;

/** Why the local header disagrees with the central directory, or undefined when they agree. */
export function compareLocalHeader(central: CentralFields, local: LocalFields): string | undefined {
  if (!local.fileName.equals(central.fileNameRaw)) {
    return `its local header names it ${JSON.stringify(local.fileName.toString('utf8'))}`;
  }
  if ((local.generalPurposeBitFlag & MEANINGFUL_FLAGS) !== (central.generalPurposeBitFlag & MEANINGFUL_FLAGS)) {
    return `its local header has flags 0x${hex(local.generalPurposeBitFlag)}, its directory record 0x${hex(central.generalPurposeBitFlag)}`;
  }
  if (local.compressionMethod !== central.compressionMethod) {
    return `its local header declares compression method ${local.compressionMethod}, its directory record ${central.compressionMethod}`;
  }
  const sizes = localSizes(local);
  const declared = [
    ['CRC-32', local.crc32, central.crc32],
    ['compressed size', sizes.compressedSize, central.compressedSize],
    ['uncompressed size', sizes.uncompressedSize, central.uncompressedSize],
  ] as const;
  // With a data descriptor the local header may leave these zero (they follow the data instead).
  const deferred = (central.generalPurposeBitFlag & HAS_DATA_DESCRIPTOR) !== 0;
  for (const [field, inLocal, inCentral] of declared) {
    if (inLocal === inCentral || (deferred && inLocal === 0)) continue;
    return `its local header declares ${field} ${inLocal}, its directory record ${inCentral}`;
  }
  return undefined;
}

/** The local header's sizes, from its zip64 field when they hold the 0xFFFFFFFF placeholder. */
function localSizes(local: LocalFields): { compressedSize: number; uncompressedSize: number } {
  let { compressedSize, uncompressedSize } = local;
  if (compressedSize !== ZIP64_PLACEHOLDER && uncompressedSize !== ZIP64_PLACEHOLDER) {
    return { compressedSize, uncompressedSize };
  }
  const zip64 = yauzl.parseExtraFields(local.extraField).find((field) => field.id === 0x0001)?.data;
  // The local zip64 field holds both sizes, uncompressed first (APPNOTE 4.5.3).
  if (zip64 !== undefined && zip64.length >= 16) {
    if (uncompressedSize === ZIP64_PLACEHOLDER) uncompressedSize = Number(zip64.readBigUInt64LE(0));
    if (compressedSize === ZIP64_PLACEHOLDER) compressedSize = Number(zip64.readBigUInt64LE(8));
  }
  return { compressedSize, uncompressedSize };
}

/** One entry's bytes in the file: local header, data, and the data descriptor if it has one. */
export interface EntrySpan {
  /** Shown in messages (already quoted). */
  readonly shown: string;
  readonly headerOffset: number;
  readonly dataStart: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly crc32: number;
  readonly hasDataDescriptor: boolean;
}

/**
 * Checks that the entries tile the file from byte 0 to the central directory: sorted by offset,
 * each starts where the previous one (with its data descriptor) ends. A data descriptor must fill
 * the gap to the next entry exactly, in one of its four forms, and repeat the directory's values.
 */
export async function checkEntryLayout(
  spans: readonly EntrySpan[],
  centralDirectoryOffset: number,
  readAt: ReadAt,
  sizeBytes: number,
): Promise<void> {
  const sorted = [...spans].sort((a, b) => a.headerOffset - b.headerOffset);
  let cursor = 0;
  let previous: EntrySpan | undefined;
  for (const [index, span] of sorted.entries()) {
    const dataEnd = span.dataStart + span.compressedSize;
    if (span.headerOffset < cursor) {
      throw overlap(`entry ${span.shown} overlaps entry ${previous?.shown}`, sizeBytes);
    }
    if (span.headerOffset > cursor) {
      throw hidden(
        cursor,
        span.headerOffset,
        previous === undefined ? 'before its first entry' : `after entry ${previous.shown}`,
        sizeBytes,
      );
    }
    if (dataEnd > centralDirectoryOffset) {
      throw overlap(`entry ${span.shown} runs into the central directory (byte ${centralDirectoryOffset})`, sizeBytes);
    }
    const next = sorted[index + 1]?.headerOffset ?? centralDirectoryOffset;
    cursor = dataEnd;
    // A gap longer than any descriptor is reported as hidden bytes by the next round.
    if (span.hasDataDescriptor && next >= dataEnd && next - dataEnd <= 24) {
      if (next === dataEnd || !matchesDataDescriptor(await readAt(dataEnd, next - dataEnd), span)) {
        throw descriptorMismatch(span, sizeBytes);
      }
      cursor = next;
    }
    previous = span;
  }
  if (cursor < centralDirectoryOffset) {
    throw hidden(cursor, centralDirectoryOffset, `after entry ${previous?.shown}`, sizeBytes);
  }
}

const DESCRIPTOR_SIGNATURE = 0x08074b50;

/** Data descriptor forms, told apart by length: with or without signature, 4- or 8-byte sizes. */
function matchesDataDescriptor(bytes: Buffer, span: EntrySpan): boolean {
  const signed = bytes.length === 16 || bytes.length === 24;
  const wide = bytes.length === 20 || bytes.length === 24;
  if (!signed && !wide && bytes.length !== 12) return false;
  if (signed && bytes.readUInt32LE(0) !== DESCRIPTOR_SIGNATURE) return false;
  const at = signed ? 4 : 0;
  const compressed = wide ? Number(bytes.readBigUInt64LE(at + 4)) : bytes.readUInt32LE(at + 4);
  const uncompressed = wide ? Number(bytes.readBigUInt64LE(at + 12)) : bytes.readUInt32LE(at + 8);
  return (
    bytes.readUInt32LE(at) === span.crc32 &&
    compressed === span.compressedSize &&
    uncompressed === span.uncompressedSize
  );
}

function overlap(problem: string, sizeBytes: number) {
  return rejectZip(
    ArtifactErrorCode.OverlappingEntries,
    `has overlapping entries: ${problem}`,
    `${READ_DIFFERENTLY} (Overlapping entries are also how zip bombs multiply their size.)`,
    { sizeBytes },
  );
}

function hidden(from: number, to: number, where: string, sizeBytes: number) {
  return rejectZip(
    ArtifactErrorCode.HiddenData,
    `has ${to - from} bytes (${from}..${to}) ${where} that no entry accounts for`,
    `A reader that scans local headers could find an entry there that the central directory does not list. ${READ_DIFFERENTLY}`,
    { sizeBytes, from, to },
  );
}

function descriptorMismatch(span: EntrySpan, sizeBytes: number) {
  return rejectZip(
    ArtifactErrorCode.HeaderMismatch,
    `has an entry ${span.shown} whose data descriptor is missing or does not repeat the CRC-32 and sizes of its directory record`,
    READ_DIFFERENTLY,
    { sizeBytes, entry: span.shown },
  );
}

function hex(value: number): string {
  return value.toString(16).padStart(4, '0');
}
