import { describe, expect, it } from 'vitest';
import { type ReadAt, readZipDirectory } from '../../../src/artifact/zip-directory.js';
import { ArtifactError } from '../../../src/core/errors.js';
import { buildZip, type RawEntry } from '../../support/zips.js';

const entries: RawEntry[] = Array.from({ length: 10 }, (_, i) => ({
  name: `f${i}.mjs`,
  content: `export default ${i};`,
}));

function readerOf(zip: Buffer): ReadAt {
  return async (position, length) => {
    if (position < 0 || position + length > zip.length) throw new RangeError(`read ${position}+${length} past the end`);
    return zip.subarray(position, position + length);
  };
}

async function failureOf(zip: Buffer, maxEntries = 100): Promise<ArtifactError> {
  const error = await readZipDirectory(readerOf(zip), zip.length, maxEntries).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ArtifactError);
  return error as ArtifactError;
}

/** The offset of the end record in a zip without comment. */
const endOf = (zip: Buffer) => zip.length - 22;

describe('readZipDirectory', () => {
  it('returns the central directory extent and its real record count', async () => {
    const zip = buildZip(entries);
    const directory = await readZipDirectory(readerOf(zip), zip.length, 100);
    expect(directory).toEqual({
      centralDirectoryOffset: zip.readUInt32LE(endOf(zip) + 16),
      centralDirectoryEnd: endOf(zip),
      recordCount: 10,
    });
  });

  it('applies maxEntries to the records really present, not to the count the end record declares', async () => {
    const error = await failureOf(buildZip(entries, { declaredEntries: 1 }), 5);
    expect(error.code).toBe('ARTIFACT_TOO_MANY_ENTRIES');
    expect(error.context).toMatchObject({ maxEntries: 5, entryCount: 6 });
  });

  it('names at most three of the entries a low count hides', async () => {
    const error = await failureOf(buildZip(entries, { declaredEntries: 2 }));
    expect(error.code).toBe('ARTIFACT_DIRECTORY_MISMATCH');
    expect(error.message).toContain('"f2.mjs", "f3.mjs", "f4.mjs")');
    expect(error.message).not.toContain('f5.mjs');
  });

  it('rejects a central directory size that runs into the end record', async () => {
    const zip = buildZip(entries);
    zip.writeUInt32LE(zip.readUInt32LE(endOf(zip) + 12) + 4, endOf(zip) + 12);
    expect((await failureOf(zip)).message).toMatch(/runs into its end record/);
  });

  it('rejects a central directory size that stops short of the last record', async () => {
    const zip = buildZip(entries);
    const size = zip.readUInt32LE(endOf(zip) + 12);
    zip.writeUInt32LE(size - 10, endOf(zip) + 12);
    zip.writeUInt32LE(zip.readUInt32LE(endOf(zip) + 16) + 10, endOf(zip) + 16);
    expect((await failureOf(zip)).code).toBe('ARTIFACT_DIRECTORY_MISMATCH');
  });

  it('rejects counts that differ between "on this disk" and "in total"', async () => {
    const zip = buildZip(entries);
    zip.writeUInt16LE(9, endOf(zip) + 8);
    expect((await failureOf(zip)).message).toContain('declares 10 entries in total but 9 on its only disk');
  });

  it('rejects a multi-disk zip as one Lambda cannot read', async () => {
    const zip = buildZip(entries);
    zip.writeUInt16LE(1, endOf(zip) + 4);
    const error = await failureOf(zip);
    expect(error.code).toBe('ARTIFACT_CORRUPT');
    expect(error.message).toMatch(/multi-disk/);
  });

  it('rejects a zip64 locator that points at no zip64 end record', async () => {
    const zip = buildZip(entries, { zip64: {} });
    const locator = endOf(zip) - 20;
    zip.writeBigUInt64LE(0n, locator + 8);
    expect((await failureOf(zip)).message).toMatch(/no zip64 end record/);
  });
});
