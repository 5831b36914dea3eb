/**
 * Zip builders for tests: real zips from yazl, plus byte-level patches of their central directory
 * for the archives yazl (rightly) refuses to write — unsafe names, encryption flags, lying sizes.
 */
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
