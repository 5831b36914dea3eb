import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DeclaredChecksum,
  type VerifiedArtifact,
  type VerifyOptions,
  verifyArtifact,
} from '../../../src/artifact/verify-artifact.js';
import { ArtifactError, isTransient } from '../../../src/core/errors.js';
import { makeZip, patchZipEntry } from '../../support/zips.js';

const KB = 1024;
const MB = 1024 * KB;
const limits = { maxArtifactBytes: 1 * MB, maxUnzippedBytes: 4 * MB, maxEntries: 50 };

let tmpDir: string;
beforeEach(async () => {
  tmpDir = await mkdtemp(join(tmpdir(), 'ferry-verify-test-'));
});
afterEach(async () => {
  // Every test disposes what it verified and every rejection cleans up: nothing may be left behind.
  expect(await readdir(tmpDir)).toEqual([]);
  await rm(tmpDir, { recursive: true, force: true });
});

function optionsWith(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return { limits, keepBytesUpTo: 50 * MB, tmpDir, ...overrides };
}

function sha256Of(bytes: Buffer, encoding: 'base64' | 'hex' = 'base64'): string {
  return createHash('sha256').update(bytes).digest(encoding);
}

/** A body that records how far it was read and whether its consumer let go of it. */
function trackedBody(bytes: Buffer, chunkSize = 16 * KB) {
  const state = { bytesPulled: 0, finished: false, released: false };
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (let at = 0; at < bytes.length; at += chunkSize) {
        const chunk = bytes.subarray(at, at + chunkSize);
        state.bytesPulled += chunk.length;
        yield chunk;
      }
      state.finished = true;
    } finally {
      state.released = true;
    }
  }
  return { body: chunks(), state };
}

async function verifyBytes(bytes: Buffer, overrides: Partial<VerifyOptions> = {}): Promise<VerifiedArtifact> {
  return verifyArtifact(trackedBody(bytes).body, optionsWith(overrides));
}

async function rejectionOf(promise: Promise<unknown>): Promise<ArtifactError> {
  const error = await promise.then(
    (artifact) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(artifact)}`);
    },
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(ArtifactError);
  return error as ArtifactError;
}

describe('verifyArtifact: a valid zip', () => {
  it("returns Lambda's base64 CodeSha256, the size and the zip's summary", async () => {
    const zip = await makeZip([
      { name: 'index.mjs', content: 'export const handler = async () => 42;' },
      { name: 'lib/', content: '' },
      { name: 'lib/data.bin', size: 100 * KB },
    ]);
    const artifact = await verifyBytes(zip);
    try {
      expect(artifact.sha256).toBe(sha256Of(zip));
      expect(artifact.sizeBytes).toBe(zip.length);
      expect(artifact.entryCount).toBe(3);
      expect(artifact.unzippedBytes).toBe('export const handler = async () => 42;'.length + 100 * KB);
      expect(await readFile(artifact.filePath)).toEqual(zip);
    } finally {
      await artifact.dispose();
    }
  });

  it('reads a Node stream body (as the S3 SDK returns it)', async () => {
    const zip = await makeZip([{ name: 'index.js', content: 'exports.handler = () => 1' }]);
    const artifact = await verifyArtifact(Readable.from([zip.subarray(0, 10), zip.subarray(10)]), optionsWith());
    expect(artifact.sha256).toBe(sha256Of(zip));
    await artifact.dispose();
  });

  it('keeps the bytes in memory up to keepBytesUpTo, inclusive', async () => {
    const zip = await makeZip([{ name: 'index.js', content: 'x' }]);
    const artifact = await verifyBytes(zip, { keepBytesUpTo: zip.length });
    expect(artifact.bytes).toEqual(zip);
    await artifact.dispose();
  });

  it('keeps a larger artifact only on disk', async () => {
    const zip = await makeZip([{ name: 'data.bin', content: randomBytes(200 * KB), compress: false }]);
    const { body } = trackedBody(zip, 8 * KB);
    const artifact = await verifyArtifact(body, optionsWith({ keepBytesUpTo: 100 * KB }));
    expect(artifact.bytes).toBeUndefined();
    expect(await readFile(artifact.filePath)).toEqual(zip);
    expect(artifact.sha256).toBe(sha256Of(zip));
    await artifact.dispose();
  });

  it('assembles the bytes in one buffer when S3 announced the size', async () => {
    const zip = await makeZip([{ name: 'data.bin', content: randomBytes(64 * KB), compress: false }]);
    const { body } = trackedBody(zip, 5 * KB);
    const artifact = await verifyArtifact(body, optionsWith({ contentLength: zip.length }));
    expect(artifact.bytes).toEqual(zip);
    expect(artifact.sha256).toBe(sha256Of(zip));
    await artifact.dispose();
  });

  it('holds none of the bytes when S3 announced more than keepBytesUpTo', async () => {
    const zip = await makeZip([{ name: 'data.bin', content: randomBytes(64 * KB), compress: false }]);
    const { body } = trackedBody(zip, 5 * KB);
    const artifact = await verifyArtifact(body, optionsWith({ contentLength: zip.length, keepBytesUpTo: 32 * KB }));
    expect(artifact.bytes).toBeUndefined();
    expect(await readFile(artifact.filePath)).toEqual(zip);
    await artifact.dispose();
  });

  it('removes the temp file on dispose, and dispose can be called again', async () => {
    const zip = await makeZip([{ name: 'index.js', content: 'x' }]);
    const artifact = await verifyBytes(zip);
    expect(await readFile(artifact.filePath)).toEqual(zip);
    await artifact.dispose();
    await expect(readFile(artifact.filePath)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(artifact.dispose()).resolves.toBeUndefined();
  });
});

describe('verifyArtifact: declared checksums', () => {
  let zip: Buffer;
  beforeEach(async () => {
    zip = await makeZip([{ name: 'index.js', content: 'exports.handler = () => 1' }]);
  });

  it.each<[string, (z: Buffer) => DeclaredChecksum[]]>([
    ['a base64 ChecksumSHA256', (z) => [{ source: 'ChecksumSHA256', sha256: sha256Of(z) }]],
    ['a hex metadata checksum', (z) => [{ source: 'metadata', sha256: sha256Of(z, 'hex') }]],
    [
      'both forms at once',
      (z) => [
        { source: 'ChecksumSHA256', sha256: sha256Of(z) },
        { source: 'metadata', sha256: sha256Of(z, 'hex').toUpperCase() },
      ],
    ],
  ])('accepts %s that matches the bytes', async (_label, declare) => {
    const artifact = await verifyBytes(zip, { declared: declare(zip) });
    expect(artifact.sha256).toBe(sha256Of(zip));
    await artifact.dispose();
  });

  it('rejects a mismatch, naming the source and both checksums', async () => {
    const other = sha256Of(Buffer.from('another build'), 'hex');
    const error = await rejectionOf(verifyBytes(zip, { declared: [{ source: 'metadata', sha256: other }] }));
    expect(error.code).toBe('ARTIFACT_CHECKSUM_MISMATCH');
    expect(error.message).toContain('metadata');
    expect(error.message).toContain(sha256Of(zip));
    expect(error.message).toContain(Buffer.from(other, 'hex').toString('base64'));
    expect(error.context).toMatchObject({ source: 'metadata', computed: sha256Of(zip), sizeBytes: zip.length });
    expect(isTransient(error)).toBe(false);
  });

  it.each<[string, DeclaredChecksum]>([
    [
      'a composite ChecksumSHA256 (-N suffix)',
      { source: 'ChecksumSHA256', sha256: `${sha256Of(Buffer.from('parts'))}-3` },
    ],
    ['a composite metadata checksum', { source: 'metadata', sha256: `${sha256Of(Buffer.from('parts'), 'hex')}-12` }],
    [
      'a ChecksumSHA256 that S3 types COMPOSITE',
      { source: 'ChecksumSHA256', sha256: sha256Of(Buffer.from('parts')), checksumType: 'COMPOSITE' },
    ],
  ])('rejects %s as unverifiable, before reading the body, never skipping it', async (_label, declared) => {
    const { body, state } = trackedBody(zip);
    const error = await rejectionOf(verifyArtifact(body, optionsWith({ declared: [declared] })));
    expect(error.code).toBe('ARTIFACT_CHECKSUM_UNVERIFIABLE');
    expect(error.message).toContain(declared.source);
    expect(error.message).toMatch(/multipart/);
    expect(error.message).toMatch(/one part/);
    expect(isTransient(error)).toBe(false);
    expect(state.bytesPulled).toBe(0);
  });

  describe('with the part sizes of a multipart upload (GetObjectAttributes)', () => {
    const partsOf = (bytes: Buffer, sizes: number[]) => {
      let offset = 0;
      return sizes.map((size) => {
        const part = bytes.subarray(offset, offset + size);
        offset += size;
        return part;
      });
    };
    const compositeOf = (parts: Buffer[]) =>
      `${createHash('sha256')
        .update(Buffer.concat(parts.map((p) => createHash('sha256').update(p).digest())))
        .digest('base64')}-${parts.length}`;

    it('recomputes the composite ChecksumSHA256 S3 stored, across chunk boundaries, and accepts the artifact', async () => {
      const third = Math.floor(zip.length / 3);
      const sizes = [third, third, zip.length - 2 * third];
      const declared: DeclaredChecksum = {
        source: 'ChecksumSHA256',
        sha256: compositeOf(partsOf(zip, sizes)),
        checksumType: 'COMPOSITE',
      };
      // 7-byte chunks never line up with the part boundaries.
      const artifact = await verifyArtifact(
        trackedBody(zip, 7).body,
        optionsWith({ declared: [declared], partSizes: sizes }),
      );
      expect(artifact.sha256).toBe(sha256Of(zip));
      await artifact.dispose();
    });

    it('rejects a composite that the bytes do not produce as a mismatch', async () => {
      const sizes = [zip.length - 100, 100];
      const declared: DeclaredChecksum = {
        source: 'ChecksumSHA256',
        sha256: compositeOf(partsOf(Buffer.from(zip).fill(0, 0, 10), sizes)),
        checksumType: 'COMPOSITE',
      };
      const error = await rejectionOf(
        verifyArtifact(trackedBody(zip).body, optionsWith({ declared: [declared], partSizes: sizes })),
      );
      expect(error.code).toBe('ARTIFACT_CHECKSUM_MISMATCH');
      expect(error.message).toMatch(/composite/);
    });

    it('still rejects a composite in metadata: a declaration ferry cannot recompute', async () => {
      const sizes = [zip.length - 100, 100];
      const declared: DeclaredChecksum = { source: 'metadata', sha256: compositeOf(partsOf(zip, sizes)) };
      const error = await rejectionOf(
        verifyArtifact(trackedBody(zip).body, optionsWith({ declared: [declared], partSizes: sizes })),
      );
      expect(error.code).toBe('ARTIFACT_CHECKSUM_UNVERIFIABLE');
    });
  });

  it('verifies a ChecksumSHA256 that S3 types FULL_OBJECT', async () => {
    const good = { source: 'ChecksumSHA256' as const, sha256: sha256Of(zip), checksumType: 'FULL_OBJECT' };
    await (await verifyBytes(zip, { declared: [good] })).dispose();
    const bad = { ...good, sha256: sha256Of(Buffer.from('other')) };
    expect((await rejectionOf(verifyBytes(zip, { declared: [bad] }))).code).toBe('ARTIFACT_CHECKSUM_MISMATCH');
  });

  it('rejects a declared value that is not a SHA-256, before reading the body', async () => {
    const { body, state } = trackedBody(zip);
    const error = await rejectionOf(
      verifyArtifact(body, optionsWith({ declared: [{ source: 'metadata', sha256: 'md5:abc' }] })),
    );
    expect(error.code).toBe('ARTIFACT_CHECKSUM_INVALID');
    expect(error.context).toMatchObject({ source: 'metadata', declared: 'md5:abc' });
    expect(state.bytesPulled).toBe(0);
  });
});

describe('verifyArtifact: size limits', () => {
  it('stops reading as soon as the artifact passes maxArtifactBytes', async () => {
    const bytes = randomBytes(4 * MB);
    const { body, state } = trackedBody(bytes, 64 * KB);
    const error = await rejectionOf(verifyArtifact(body, optionsWith()));
    expect(error.code).toBe('ARTIFACT_TOO_LARGE');
    expect(error.message).toMatch(/smaller|layer/);
    expect(state.bytesPulled).toBeLessThanOrEqual(limits.maxArtifactBytes + 64 * KB);
    expect(state.finished).toBe(false);
    expect(state.released).toBe(true);
  });

  it('destroys a Node stream body it stops reading', async () => {
    const stream = Readable.from(
      (function* () {
        for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * KB);
      })(),
    );
    const error = await rejectionOf(verifyArtifact(stream, optionsWith()));
    expect(error.code).toBe('ARTIFACT_TOO_LARGE');
    expect(stream.destroyed).toBe(true);
  });

  it('rejects a contentLength over the limit without reading a byte', async () => {
    const stream = Readable.from([Buffer.alloc(10)]);
    const error = await rejectionOf(
      verifyArtifact(stream, optionsWith({ contentLength: limits.maxArtifactBytes + 1 })),
    );
    expect(error.code).toBe('ARTIFACT_TOO_LARGE');
    expect(error.context).toMatchObject({ sizeBytes: limits.maxArtifactBytes + 1 });
    expect(stream.destroyed).toBe(true);
    expect(stream.readableDidRead).toBe(false);
  });

  it('reports a body shorter than its contentLength as a transient failure, not a bad artifact', async () => {
    const zip = await makeZip([{ name: 'index.js', content: 'x' }]);
    const failure = await verifyBytes(zip, { contentLength: zip.length + 5 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(ArtifactError);
    expect(isTransient(failure)).toBe(true);
  });

  it('rejects a zip that unzips past maxUnzippedBytes (many compressible entries)', async () => {
    const zip = await makeZip(Array.from({ length: 5 }, (_, i) => ({ name: `part-${i}.bin`, size: 1 * MB })));
    expect(zip.length).toBeLessThan(limits.maxArtifactBytes);
    const error = await rejectionOf(verifyBytes(zip));
    expect(error.code).toBe('ARTIFACT_UNZIPPED_TOO_LARGE');
    expect(error.context).toMatchObject({ maxUnzippedBytes: limits.maxUnzippedBytes });
  });

  it('rejects a zip whose central directory declares a huge uncompressed size', async () => {
    const zip = patchZipEntry(await makeZip([{ name: 'bomb.bin', size: 1000 }]), 0, { uncompressedSize: 0xfffffff0 });
    const error = await rejectionOf(verifyBytes(zip, { limits: { ...limits, maxUnzippedBytes: 250 * MB } }));
    expect(error.code).toBe('ARTIFACT_UNZIPPED_TOO_LARGE');
  });

  it('rejects more entries than maxEntries', async () => {
    const zip = await makeZip(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.js`, content: 'x' })));
    const error = await rejectionOf(verifyBytes(zip, { limits: { ...limits, maxEntries: 5 } }));
    expect(error.code).toBe('ARTIFACT_TOO_MANY_ENTRIES');
    expect(error.context).toMatchObject({ entryCount: 6, maxEntries: 5 });
  });
});

describe('verifyArtifact: unreadable or empty zips', () => {
  it('rejects random bytes as corrupt', async () => {
    const error = await rejectionOf(verifyBytes(randomBytes(10 * KB)));
    expect(error.code).toBe('ARTIFACT_CORRUPT');
    expect(error.message).toContain('rebuild');
  });

  it('rejects a truncated zip as corrupt', async () => {
    const zip = await makeZip([{ name: 'data.bin', content: randomBytes(20 * KB) }]);
    const error = await rejectionOf(verifyBytes(zip.subarray(0, zip.length - 30)));
    expect(error.code).toBe('ARTIFACT_CORRUPT');
  });

  it('rejects a zip whose end record points the central directory at garbage', async () => {
    const zip = await makeZip([{ name: 'index.js', content: 'x' }]);
    const broken = Buffer.from(zip);
    broken.writeUInt32LE(0, broken.length - 22 + 16); // central directory offset → the local header
    const error = await rejectionOf(verifyBytes(broken));
    expect(error.code).toBe('ARTIFACT_DIRECTORY_MISMATCH');
    expect(error.message).toMatch(/between its central directory .* and its end record/);
  });

  it('rejects a zip with no entries', async () => {
    const error = await rejectionOf(verifyBytes(await makeZip([])));
    expect(error.code).toBe('ARTIFACT_EMPTY');
  });

  it('rejects an empty object', async () => {
    const error = await rejectionOf(verifyBytes(Buffer.alloc(0)));
    expect(error.code).toBe('ARTIFACT_EMPTY');
  });
});

describe('verifyArtifact: entry names and encryption', () => {
  it.each([
    ['a parent-directory entry', '../evil.js'],
    ['an absolute entry', '/etc/passwd'],
    ['a backslash parent-directory entry', 'a\\..\\..\\evil.js'],
    ['a drive-letter entry', 'C:\\evil.js'],
    ['a UNC entry', '\\\\server\\x.js'],
    ['an entry with a NUL', 'index.js\0x'],
  ])('rejects %s, naming it', async (_label, unsafe) => {
    // yazl refuses to write these names, so write a placeholder of the same length and patch it.
    const placeholder = 'p'.repeat(Buffer.byteLength(unsafe));
    const zip = patchZipEntry(
      await makeZip([
        { name: 'ok.js', content: 'x' },
        { name: placeholder, content: 'y' },
      ]),
      1,
      { name: unsafe },
    );
    const error = await rejectionOf(verifyBytes(zip));
    expect(error.code).toBe('ARTIFACT_UNSAFE_PATH');
    expect(error.message).toContain(JSON.stringify(unsafe));
    expect(error.message).toMatch(/rebuild the zip/);
    expect(error.context).toMatchObject({ entry: JSON.stringify(unsafe), sizeBytes: zip.length });
  });

  it('rejects an encrypted entry', async () => {
    const zip = patchZipEntry(await makeZip([{ name: 'secret.js', content: 'x' }]), 0, { setFlags: 0x1 });
    const error = await rejectionOf(verifyBytes(zip));
    expect(error.code).toBe('ARTIFACT_ENCRYPTED');
    expect(error.message).toContain('secret.js');
  });

  it('rejects strong (PKWARE) encryption as encrypted', async () => {
    const zip = patchZipEntry(await makeZip([{ name: 'secret.js', content: 'x' }]), 0, { setFlags: 0x41 });
    const error = await rejectionOf(verifyBytes(zip));
    expect(error.code).toBe('ARTIFACT_ENCRYPTED');
  });
});

describe('verifyArtifact: failures of the body itself', () => {
  it('passes a read error through untouched and leaves no temp file', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(10);
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    const failure = await verifyArtifact(failing(), optionsWith()).catch((error: unknown) => error);
    expect(failure).toMatchObject({ message: 'socket hang up', code: 'ECONNRESET' });
    expect(isTransient(failure)).toBe(true);
  });
});
