import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARTIFACT_CHANGED, digestLocalZip, passVerified } from '../../../src/artifact/local-zip.js';
import { createUploadHasher } from '../../../src/artifact/part-hasher.js';

const DEFAULT_LIMITS = { maxArtifactBytes: 4 * 1024 * 1024, maxUnzippedBytes: 16 * 1024 * 1024, maxEntries: 50 };

import { makeZip } from '../../support/zips.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest();
/** S3 User Guide, "Checking object integrity": SHA-256 of the parts' binary SHA-256s, then -N. */
const composite = (parts: Buffer[]) =>
  `${createHash('sha256')
    .update(Buffer.concat(parts.map(sha)))
    .digest('base64')}-${parts.length}`;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('createUploadHasher', () => {
  it('gives the whole SHA-256 and S3 composite of parts of the given size, however the chunks fall', () => {
    const bytes = Buffer.from(Array.from({ length: 23 }, (_, i) => i));
    const hasher = createUploadHasher(10);
    for (const cut of [
      [0, 3],
      [3, 17],
      [17, 23],
    ] as const)
      hasher.update(bytes.subarray(cut[0], cut[1]));
    expect(hasher.digest()).toEqual({
      sha256: sha(bytes).toString('base64'),
      sizeBytes: 23,
      objectChecksumSha256: composite([bytes.subarray(0, 10), bytes.subarray(10, 20), bytes.subarray(20)]),
    });
  });

  it('gives the whole SHA-256 as the stored checksum when the bytes fit in one part', () => {
    const bytes = Buffer.alloc(10, 7);
    const hasher = createUploadHasher(10);
    hasher.update(bytes);
    expect(hasher.digest().objectChecksumSha256).toBe(sha(bytes).toString('base64'));
  });
});

describe('passVerified', () => {
  const bytes = Buffer.alloc(3 * MiB, 1);
  const hasher = createUploadHasher(MiB);
  hasher.update(bytes);
  const digest = hasher.digest();

  it('passes the digested bytes through unchanged', async () => {
    expect((await readAll(passVerified(Readable.from([bytes]), digest, MiB))).equals(bytes)).toBe(true);
  });

  it('fails at the end when the bytes are not the digested ones', async () => {
    const changed = Buffer.from(bytes);
    changed[changed.length - 1] = 2;
    await expect(readAll(passVerified(Readable.from([changed]), digest, MiB))).rejects.toMatchObject({
      code: ARTIFACT_CHANGED,
    });
  });

  it('fails when the source fails', async () => {
    const source = new Readable({
      read() {
        this.destroy(new Error('disk gone'));
      },
    });
    await expect(readAll(passVerified(source, digest, MiB))).rejects.toThrow('disk gone');
  });
});

describe('digestLocalZip', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-local-zip-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('digests a zip on disk and checks its structure', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => 1;' }]);
    const path = join(dir, 'f.zip');
    await writeFile(path, zip);
    expect(await digestLocalZip(path, DEFAULT_LIMITS)).toEqual({
      sha256: sha(zip).toString('base64'),
      sizeBytes: zip.length,
      objectChecksumSha256: sha(zip).toString('base64'),
    });
  });

  it('rejects a file above the size limit before reading it, and a file that is not a zip', async () => {
    const path = join(dir, 'f.zip');
    await writeFile(path, Buffer.alloc(2048, 1));
    await expect(digestLocalZip(path, { ...DEFAULT_LIMITS, maxArtifactBytes: 1024 })).rejects.toMatchObject({
      code: 'ARTIFACT_TOO_LARGE',
    });
    await expect(digestLocalZip(path, DEFAULT_LIMITS)).rejects.toMatchObject({ name: 'ArtifactError' });
  });
});
