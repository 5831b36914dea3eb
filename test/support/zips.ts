/**
 * Zip builders for tests: real zips from yazl, byte-level patches of their central directory for
 * the archives yazl (rightly) refuses to write (unsafe names, encryption flags, lying sizes), and a
 * byte-by-byte builder for hostile zips (lying counts, headers, sizes, overlaps).
 */
import { deflateRawSync, crc32 as zlibCrc32 } from 'node:zlib';
import yazl from 'yazl';

export interface ZipEntrySpec {
  /** Entry name; a trailing `/` makes an empty directory entry. */
  readonly name: string;
  /** The entry's bytes; or give `size` for that many compressible bytes. */
  readonly content?: string | Buffer;
  readonly size?: number;
  /** Default true (deflate); false stores the bytes as they are. */
  readonly compress?: boolean;
}

/** A zip holding `entries`, built by yazl with a fixed timestamp so the bytes are reproducible. */
export async function makeZip(entries: readonly ZipEntrySpec[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const mtime = new Date(Date.UTC(2024, 0, 1));
  for (const entry of entries) {
    if (entry.name.endsWith('/')) {
      zip.addEmptyDirectory(entry.name, { mtime });
      continue;
    }
    const content = entry.content === undefined ? Buffer.alloc(entry.size ?? 0, 'a') : Buffer.from(entry.content);
    zip.addBuffer(content, entry.name, { mtime, compress: entry.compress ?? true });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export interface EntryPatch {
  /** A new name of the same byte length (patched in the local header and the central directory). */
  readonly name?: string;
  /** The uncompressed size the central directory declares. */
  readonly uncompressedSize?: number;
  /** Bits to set in the general purpose flag (0x1: encrypted, 0x40: strong encryption). */
  readonly setFlags?: number;
}

const EOCD_SIZE = 22;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

/** A copy of `zip` (as yazl writes it: no comment, no zip64) with entry `index` patched. */
export function patchZipEntry(zip: Buffer, index: number, patch: EntryPatch): Buffer {
  const out = Buffer.from(zip);
  const eocd = out.length - EOCD_SIZE;
  if (out.readUInt32LE(eocd) !== 0x06054b50) throw new Error('patchZipEntry: expected an end record without comment');
  let cursor = out.readUInt32LE(eocd + 16);
  for (let i = 0; i < index; i++) cursor += centralHeaderLength(out, cursor);
  if (out.readUInt32LE(cursor) !== CENTRAL_HEADER) throw new Error(`patchZipEntry: no entry ${index}`);

  if (patch.setFlags !== undefined) {
    out.writeUInt16LE(out.readUInt16LE(cursor + 8) | patch.setFlags, cursor + 8);
  }
  if (patch.uncompressedSize !== undefined) out.writeUInt32LE(patch.uncompressedSize, cursor + 24);
  if (patch.name !== undefined) {
    const name = Buffer.from(patch.name, 'utf8');
    const nameLength = out.readUInt16LE(cursor + 28);
    if (name.length !== nameLength) throw new Error(`patchZipEntry: the new name must be ${nameLength} bytes`);
    name.copy(out, cursor + 46);
    const local = out.readUInt32LE(cursor + 42);
    if (out.readUInt32LE(local) !== LOCAL_HEADER) throw new Error('patchZipEntry: bad local header offset');
    name.copy(out, local + 30);
  }
  return out;
}

function centralHeaderLength(zip: Buffer, at: number): number {
  return 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
}

/**
 * Hostile zips, written byte by byte: what no zip library will write, because two extractors
 * would read it differently. `buildZip` lays the entries out one after another, then the central
 * directory and the end record, and every field can be made to lie.
 */
export interface RawEntry {
  readonly name: string;
  readonly content?: string | Buffer;
  /** 8 (deflate, the default) or 0 (stored); another number is written as is, with the content stored. */
  readonly method?: number;
  /** The local header's name, when it must differ from the central directory's. */
  readonly localName?: string;
  /** Declared in both headers instead of the real values. */
  readonly declared?: { readonly crc32?: number; readonly uncompressedSize?: number; readonly compressedSize?: number };
  /** Overrides for the local header only. */
  readonly local?: {
    readonly crc32?: number;
    readonly uncompressedSize?: number;
    readonly flags?: number;
    readonly method?: number;
  };
  readonly flags?: number;
  /** Writes a data descriptor after the data (flag bit 3, zeros in the local header) in this form. */
  readonly dataDescriptor?: 'signed' | 'unsigned' | 'zip64';
  /** Unix mode (type and permissions), recorded as made on Unix. */
  readonly unixMode?: number;
  /** An Info-ZIP Unicode Path extra field naming the entry (in the central directory). */
  readonly unicodePath?: string;
  /** Bytes appended to the compressed data (and counted in its compressed size). */
  readonly trailing?: Buffer;
}

export interface RawZipOptions {
  /** The entry count the end record declares (default: the real one). */
  readonly declaredEntries?: number;
  /** Bytes written right after entry `index` (before the next local header). */
  readonly after?: Readonly<Record<number, Buffer>>;
  /** Central directory records pointing at entry `value`'s local header instead of their own. */
  readonly pointAt?: Readonly<Record<number, number>>;
  /** Also write zip64 end records; the end record then holds 0xFFFF… placeholders. */
  readonly zip64?: { readonly declaredEntries?: number };
  readonly comment?: Buffer;
}

const MTIME = 0x21; // 1980-01-01, a fixed DOS date
const encode = (text: string) => Buffer.from(text, 'utf8');

/** An entry's bytes as the builder writes them: local header + data (+ descriptor), and its facts. */
export interface BuiltEntry {
  readonly local: Buffer;
  readonly central: (offset: number) => Buffer;
}

export function buildEntry(entry: RawEntry): BuiltEntry {
  const content = Buffer.from(entry.content ?? '');
  const method = entry.method ?? 8;
  const packed = Buffer.concat([method === 8 ? deflateRawSync(content) : content, entry.trailing ?? Buffer.alloc(0)]);
  const crc32 = entry.declared?.crc32 ?? zlibCrc32(content);
  const uncompressedSize = entry.declared?.uncompressedSize ?? content.length;
  const compressedSize = entry.declared?.compressedSize ?? packed.length;
  const flags = (entry.flags ?? 0x0800) | (entry.dataDescriptor ? 0x8 : 0);
  const name = encode(entry.name);
  const localName = encode(entry.localName ?? entry.name);

  const local = Buffer.alloc(30);
  local.writeUInt32LE(LOCAL_HEADER, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(entry.local?.flags ?? flags, 6);
  local.writeUInt16LE(entry.local?.method ?? method, 8);
  local.writeUInt16LE(MTIME, 12);
  const deferred = entry.dataDescriptor !== undefined;
  local.writeUInt32LE(entry.local?.crc32 ?? (deferred ? 0 : crc32), 14);
  local.writeUInt32LE(deferred ? 0 : compressedSize, 18);
  local.writeUInt32LE(entry.local?.uncompressedSize ?? (deferred ? 0 : uncompressedSize), 22);
  local.writeUInt16LE(localName.length, 26);
  const parts = [local, localName, packed];
  if (entry.dataDescriptor === 'signed' || entry.dataDescriptor === 'unsigned') {
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc32, 4);
    descriptor.writeUInt32LE(compressedSize, 8);
    descriptor.writeUInt32LE(uncompressedSize, 12);
    parts.push(entry.dataDescriptor === 'signed' ? descriptor : descriptor.subarray(4));
  } else if (entry.dataDescriptor === 'zip64') {
    const descriptor = Buffer.alloc(24);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc32, 4);
    descriptor.writeBigUInt64LE(BigInt(compressedSize), 8);
    descriptor.writeBigUInt64LE(BigInt(uncompressedSize), 16);
    parts.push(descriptor);
  }

  const extra = entry.unicodePath === undefined ? Buffer.alloc(0) : unicodePathField(name, entry.unicodePath);
  return {
    local: Buffer.concat(parts),
    central(offset) {
      const header = Buffer.alloc(46);
      header.writeUInt32LE(CENTRAL_HEADER, 0);
      header.writeUInt16LE(entry.unixMode === undefined ? 20 : (3 << 8) | 20, 4);
      header.writeUInt16LE(20, 6);
      header.writeUInt16LE(flags, 8);
      header.writeUInt16LE(method, 10);
      header.writeUInt16LE(MTIME, 14);
      header.writeUInt32LE(crc32, 16);
      header.writeUInt32LE(compressedSize, 20);
      header.writeUInt32LE(uncompressedSize, 24);
      header.writeUInt16LE(name.length, 28);
      header.writeUInt16LE(extra.length, 30);
      header.writeUInt32LE(entry.unixMode === undefined ? 0 : (entry.unixMode << 16) >>> 0, 38);
      header.writeUInt32LE(offset, 42);
      return Buffer.concat([header, name, extra]);
    },
  };
}

/** A zip of `entries` laid out one after another, with the lies `options` asks for. */
export function buildZip(entries: readonly RawEntry[], options: RawZipOptions = {}): Buffer {
  const built = entries.map(buildEntry);
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const [index, entry] of built.entries()) {
    offsets.push(at);
    parts.push(entry.local);
    at += entry.local.length;
    const after = options.after?.[index];
    if (after) {
      parts.push(after);
      at += after.length;
    }
  }
  const central = Buffer.concat(built.map((entry, i) => entry.central(offsets[options.pointAt?.[i] ?? i] ?? 0)));
  return Buffer.concat([...parts, ...endRecords(at, central, entries.length, options)]);
}

/** The central directory and the end records for a directory starting at `offset`. */
export function endRecords(
  offset: number,
  central: Buffer,
  realEntries: number,
  options: Pick<RawZipOptions, 'declaredEntries' | 'zip64' | 'comment'> = {},
): Buffer[] {
  const declared = options.declaredEntries ?? realEntries;
  const comment = options.comment ?? Buffer.alloc(0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(comment.length, 20);
  if (options.zip64 === undefined) {
    end.writeUInt16LE(declared, 8);
    end.writeUInt16LE(declared, 10);
    end.writeUInt32LE(central.length, 12);
    end.writeUInt32LE(offset, 16);
    return [central, end, comment];
  }
  const wideCount = BigInt(options.zip64.declaredEntries ?? realEntries);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(wideCount, 24);
  record.writeBigUInt64LE(wideCount, 32);
  record.writeBigUInt64LE(BigInt(central.length), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + central.length), 8);
  locator.writeUInt32LE(1, 16);
  end.writeUInt16LE(options.declaredEntries ?? 0xffff, 8);
  end.writeUInt16LE(options.declaredEntries ?? 0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return [central, record, locator, end, comment];
}

function unicodePathField(rawName: Buffer, unicodeName: string): Buffer {
  const name = encode(unicodeName);
  const field = Buffer.alloc(9 + name.length);
  field.writeUInt16LE(0x7075, 0);
  field.writeUInt16LE(5 + name.length, 2);
  field.writeUInt8(1, 4);
  field.writeUInt32LE(zlibCrc32(rawName), 5);
  name.copy(field, 9);
  return field;
}
