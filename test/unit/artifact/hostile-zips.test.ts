/**
 * Zips that two extractors could read differently: each must be rejected with its own code, a
 * message that names the problem, and nothing left behind. Built byte by byte (test/support/zips.ts).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { verifyArtifact } from '../../../src/artifact/verify-artifact.js';
import { ArtifactError, isTransient } from '../../../src/core/errors.js';
import { buildEntry, buildZip, endRecords, makeZip, type RawEntry } from '../../support/zips.js';

const MB = 1024 * 1024;
const limits = { maxArtifactBytes: 8 * MB, maxUnzippedBytes: 64 * MB, maxEntries: 100 };
const HANDLER = 'export const handler = async () => 42;\n';

let tmpDir: string;
beforeEach(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'ferry-hostile-test-'));
});
afterEach(async () => {
  expect(await readdir(tmpDir)).toEqual([]);
  await rm(tmpDir, { recursive: true, force: true });
});

async function verify(zip: Buffer) {
  return verifyArtifact(Readable.from([zip]), { limits, keepBytesUpTo: 0, tmpDir });
}

async function accepted(zip: Buffer) {
  const artifact = await verify(zip);
  await artifact.dispose();
  return artifact;
}

async function rejected(zip: Buffer): Promise<ArtifactError> {
  const error = await verify(zip).then(
    async (artifact) => {
      await artifact.dispose();
      throw new Error(`expected a rejection, got ${artifact.entryCount} entries`);
    },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(ArtifactError);
  expect(isTransient(error)).toBe(false);
  return error as ArtifactError;
}

describe('the byte-level builder writes zips ferry accepts', () => {
  it.each<[string, RawEntry['dataDescriptor']]>([
    ['without data descriptors', undefined],
    ['with signed data descriptors', 'signed'],
    ['with unsigned data descriptors', 'unsigned'],
    ['with zip64 data descriptors', 'zip64'],
  ])('%s', async (_label, dataDescriptor) => {
    const zip = buildZip([
      { name: 'index.mjs', content: HANDLER, dataDescriptor },
      { name: 'lib/', content: '', method: 0, unixMode: 0o040755 },
      { name: 'lib/data.txt', content: 'x'.repeat(5000), method: 0, dataDescriptor, unixMode: 0o100644 },
    ]);
    const artifact = await accepted(zip);
    expect(artifact.entryCount).toBe(3);
    expect(artifact.unzippedBytes).toBe(HANDLER.length + 5000);
  });

  it('with zip64 end records', async () => {
    expect((await accepted(buildZip([{ name: 'index.mjs', content: HANDLER }], { zip64: {} }))).entryCount).toBe(1);
  });

  it('a yazl zip written from streams (data descriptors) is accepted too', async () => {
    const zip = new yazl.ZipFile();
    zip.addReadStream(Readable.from([Buffer.from(HANDLER)]), 'index.mjs', { mtime: new Date(Date.UTC(2024, 0, 1)) });
    zip.addReadStream(Readable.from([Buffer.alloc(100_000, 7)]), 'big.bin', { compress: false });
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(Buffer.from(chunk as Uint8Array));
    expect((await accepted(Buffer.concat(chunks))).unzippedBytes).toBe(HANDLER.length + 100_000);
  });
});

describe('the end record must count every central directory record', () => {
  const entries: RawEntry[] = [
    { name: 'index.mjs', content: HANDLER },
    { name: '../evil.mjs', content: 'import("child_process")' },
  ];

  it('rejects an end record whose count hides ../evil.mjs, naming the hidden entry', async () => {
    const error = await rejected(buildZip(entries, { declaredEntries: 1 }));
    expect(error.code).toBe('ARTIFACT_DIRECTORY_MISMATCH');
    expect(error.message).toContain('declares 1 entries');
    expect(error.message).toContain('holds 2');
    expect(error.message).toContain('"../evil.mjs"');
    expect(error.message).toMatch(/Rebuild the zip/);
    expect(error.context).toMatchObject({ declaredEntries: 1, centralDirectoryRecords: 2 });
  });

  it('rejects a zip64 end record whose count hides an entry', async () => {
    const error = await rejected(buildZip(entries, { zip64: { declaredEntries: 1 } }));
    expect(error.code).toBe('ARTIFACT_DIRECTORY_MISMATCH');
    expect(error.message).toContain('zip64');
  });

  it('rejects an end record and a zip64 end record that disagree', async () => {
    const safe = [
      { name: 'index.mjs', content: HANDLER },
      { name: 'util.mjs', content: 'x' },
    ];
    const error = await rejected(buildZip(safe, { declaredEntries: 1, zip64: {} }));
    expect(error.code).toBe('ARTIFACT_DIRECTORY_MISMATCH');
    expect(error.message).toMatch(/disagree/);
  });

  it('rejects a comment that holds a second, coherent end record', async () => {
    const inner = buildZip([{ name: 'index.mjs', content: HANDLER }]);
    // The last 22 bytes of `inner` are its end record; give it a comment that holds another one.
    const fake = Buffer.from(inner.subarray(inner.length - 22));
    const zip = Buffer.from(inner);
    zip.writeUInt16LE(fake.length, zip.length - 2);
    const error = await rejected(Buffer.concat([zip, fake]));
    expect(error.code).toBe('ARTIFACT_DIRECTORY_MISMATCH');
    expect(error.message).toMatch(/two end-of-central-directory records/);
  });
});

describe('local headers must say what the central directory says', () => {
  it.each<[string, RawEntry, RegExp]>([
    ['another name', { name: 'index.mjs', localName: 'evil.mjs', content: HANDLER }, /names it "evil.mjs"/],
    [
      'another compression method',
      { name: 'index.mjs', content: HANDLER, local: { method: 0 } },
      /compression method 0/,
    ],
    ['another CRC-32', { name: 'index.mjs', content: HANDLER, local: { crc32: 1 } }, /CRC-32 1/],
    ['another size', { name: 'index.mjs', content: HANDLER, local: { uncompressedSize: 5 } }, /uncompressed size 5/],
    ['other flags', { name: 'index.mjs', content: HANDLER, local: { flags: 0 } }, /flags 0x0000/],
  ])('rejects a local header with %s', async (_label, entry, reason) => {
    const error = await rejected(buildZip([{ name: 'util.mjs', content: 'x' }, entry]));
    expect(error.code).toBe('ARTIFACT_HEADER_MISMATCH');
    expect(error.message).toContain('"index.mjs"');
    expect(error.message).toMatch(reason);
  });

  it('rejects a data descriptor that does not repeat the directory record', async () => {
    const zip = buildZip([{ name: 'index.mjs', content: HANDLER, dataDescriptor: 'signed' }]);
    const descriptorCrc = zip.indexOf(Buffer.from([0x50, 0x4b, 0x07, 0x08])) + 4;
    zip.writeUInt32LE((zip.readUInt32LE(descriptorCrc) ^ 1) >>> 0, descriptorCrc);
    const error = await rejected(zip);
    expect(error.code).toBe('ARTIFACT_HEADER_MISMATCH');
    expect(error.message).toMatch(/data descriptor/);
  });
});

describe('entries must inflate to what they declare', () => {
  it('rejects 40 MB of zeros declared as 100 bytes', async () => {
    const zip = buildZip([{ name: 'bomb.bin', content: Buffer.alloc(40 * MB), declared: { uncompressedSize: 100 } }]);
    expect(zip.length).toBeLessThan(limits.maxArtifactBytes);
    const error = await rejected(zip);
    expect(error.code).toBe('ARTIFACT_CONTENT_MISMATCH');
    expect(error.message).toContain('"bomb.bin" that inflates to more than the 100 bytes it declares');
  });

  it('rejects an entry that holds fewer bytes than it declares', async () => {
    const error = await rejected(
      buildZip([{ name: 'index.mjs', content: 'abc', declared: { uncompressedSize: 1000 } }]),
    );
    expect(error.code).toBe('ARTIFACT_CONTENT_MISMATCH');
    expect(error.message).toContain('holds 3 bytes but declares 1000');
  });

  it.each([
    ['deflated', 8],
    ['stored', 0],
  ])('rejects a %s entry whose CRC-32 is not the one it declares', async (_label, method) => {
    const error = await rejected(
      buildZip([{ name: 'index.mjs', content: HANDLER, method, declared: { crc32: 0x12345678 } }]),
    );
    expect(error.code).toBe('ARTIFACT_CONTENT_MISMATCH');
    expect(error.message).toMatch(/CRC-32 0x[0-9a-f]{8} but declares 0x12345678/);
  });

  it("rejects bytes hidden after the end of an entry's deflate stream", async () => {
    const error = await rejected(buildZip([{ name: 'index.mjs', content: HANDLER, trailing: Buffer.from('evil') }]));
    expect(error.code).toBe('ARTIFACT_CONTENT_MISMATCH');
    expect(error.message).toContain('4 bytes after the end of its compressed data');
  });

  it('rejects data that is not deflate at all', async () => {
    const zip = buildZip([{ name: 'index.mjs', content: HANDLER, method: 0 }]);
    zip.writeUInt16LE(8, 8); // local header: method 8
    zip.writeUInt16LE(8, zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10); // and its directory record
    const error = await rejected(zip);
    expect(error.code).toBe('ARTIFACT_CONTENT_MISMATCH');
    expect(error.message).toMatch(/cannot be inflated/);
  });

  it('rejects a compression method ferry cannot check', async () => {
    const error = await rejected(buildZip([{ name: 'index.mjs', content: HANDLER, method: 14 }]));
    expect(error.code).toBe('ARTIFACT_UNSUPPORTED_COMPRESSION');
    expect(error.message).toContain('method 14');
  });
});

describe('links, devices and ambiguous names', () => {
  it('rejects a symlink pointing outside the tree, saying why', async () => {
    const error = await rejected(
      buildZip([
        { name: 'index.mjs', content: HANDLER },
        { name: 'config.json', content: '../../../../etc/passwd', method: 0, unixMode: 0o120777 },
      ]),
    );
    expect(error.code).toBe('ARTIFACT_SYMLINK');
    expect(error.message).toContain('"config.json" is a symbolic link');
    expect(error.message).toMatch(/outside the function directory/);
  });

  it('rejects a symlink that stays inside the tree too', async () => {
    const error = await rejected(buildZip([{ name: 'alias.mjs', content: 'index.mjs', unixMode: 0o120644 }]));
    expect(error.code).toBe('ARTIFACT_SYMLINK');
  });

  it('rejects a FIFO', async () => {
    const error = await rejected(buildZip([{ name: 'pipe', content: '', unixMode: 0o010644 }]));
    expect(error.code).toBe('ARTIFACT_SPECIAL_FILE');
  });

  it('rejects an entry whose Unicode Path field names another file', async () => {
    const error = await rejected(buildZip([{ name: 'index.mjs', content: HANDLER, unicodePath: 'evil.mjs' }]));
    expect(error.code).toBe('ARTIFACT_AMBIGUOUS_NAME');
    expect(error.message).toContain('"index.mjs"');
    expect(error.message).toContain('"evil.mjs"');
  });

  it('accepts a Unicode Path field that names the entry as written', async () => {
    await accepted(buildZip([{ name: 'caf\u00e9.mjs', content: HANDLER, flags: 0, unicodePath: 'caf\u00e9.mjs' }]));
  });
});

describe('duplicate names', () => {
  it.each([
    ['the same name twice', 'index.mjs', 'index.mjs', /appears twice/],
    ['names equal but for case', 'Index.mjs', 'index.mjs', /names the same file as "Index.mjs"/],
    ['a name with ./', './index.mjs', 'index.mjs', /names the same file/],
    ['a name with a backslash', 'lib\\a.mjs', 'lib/a.mjs', /names the same file/],
    ['a name with an empty segment', 'lib//a.mjs', 'lib/a.mjs', /names the same file/],
    ['a file and a directory of one name', 'lib/', 'lib', /names the same file/],
    ["a file that is another entry's parent", 'lib', 'lib/a.mjs', /lies inside "lib", which is a file/],
    ['an entry inside an earlier file', 'lib/a.mjs', 'lib', /is a file, but "lib\/a.mjs" lies inside it/],
  ])('rejects %s', async (_label, first, second, reason) => {
    const error = await rejected(
      buildZip([
        { name: first, content: first.endsWith('/') ? '' : HANDLER },
        { name: second, content: HANDLER },
      ]),
    );
    expect(error.code).toBe('ARTIFACT_DUPLICATE_ENTRY');
    expect(error.message).toMatch(reason);
  });

  it('accepts files in directories it also lists', async () => {
    await accepted(
      buildZip([
        { name: 'lib/', content: '' },
        { name: 'lib/a.mjs', content: HANDLER },
        { name: 'lib/b.mjs', content: HANDLER },
      ]),
    );
  });
});

describe('entries must tile the file', () => {
  it('rejects an entry whose bytes lie inside another entry', async () => {
    // The "overlapping files" construction: inner.mjs's local header and data are the stored
    // content of outer.bin, and the directory lists both.
    const inner = buildEntry({ name: 'inner.mjs', content: HANDLER });
    const outer = buildEntry({ name: 'outer.bin', content: inner.local, method: 0 });
    const innerOffset = outer.local.length - inner.local.length;
    const central = Buffer.concat([outer.central(0), inner.central(innerOffset)]);
    const error = await rejected(Buffer.concat([outer.local, ...endRecords(outer.local.length, central, 2)]));
    expect(error.code).toBe('ARTIFACT_OVERLAPPING_ENTRIES');
    expect(error.message).toContain('"inner.mjs" overlaps entry "outer.bin"');
  });

  it("rejects a directory record that points at another entry's local header", async () => {
    const zip = buildZip(
      [
        { name: 'index.mjs', content: HANDLER },
        { name: 'other.mjs', content: HANDLER },
      ],
      { pointAt: { 1: 0 } },
    );
    const error = await rejected(zip);
    expect(error.code).toBe('ARTIFACT_HEADER_MISMATCH');
    expect(error.message).toContain('"other.mjs" whose local header disagrees');
  });

  it('rejects an entry whose data runs into the central directory', async () => {
    const packed = buildEntry({ name: 'index.mjs', content: HANDLER }).local.length - 30 - 'index.mjs'.length;
    const error = await rejected(
      buildZip([{ name: 'index.mjs', content: HANDLER, declared: { compressedSize: packed + 40 } }]),
    );
    expect(error.code).toBe('ARTIFACT_OVERLAPPING_ENTRIES');
    expect(error.message).toMatch(/runs into the central directory/);
  });

  it('rejects a local entry hidden between listed entries', async () => {
    const hidden = buildEntry({ name: 'evil.mjs', content: 'import("child_process")' }).local;
    const error = await rejected(
      buildZip(
        [
          { name: 'index.mjs', content: HANDLER },
          { name: 'util.mjs', content: 'x' },
        ],
        { after: { 0: hidden } },
      ),
    );
    expect(error.code).toBe('ARTIFACT_HIDDEN_DATA');
    expect(error.message).toContain(`${hidden.length} bytes`);
    expect(error.message).toContain('after entry "index.mjs"');
  });

  it('rejects bytes before the first entry', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: HANDLER }]);
    // Prepend bytes and shift every offset, as a self-extracting stub would.
    const shifted = Buffer.concat([Buffer.from('#!/bin/sh\n'), zip]);
    const end = shifted.length - 22;
    const cd = shifted.readUInt32LE(end + 16) + 10;
    shifted.writeUInt32LE(cd, end + 16);
    shifted.writeUInt32LE(shifted.readUInt32LE(cd + 42) + 10, cd + 42);
    const error = await rejected(shifted);
    expect(error.code).toBe('ARTIFACT_HIDDEN_DATA');
    expect(error.message).toMatch(/before its first entry/);
  });
});
