import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inspectZip } from '../../../src/artifact/inspect-zip.js';
import { ArtifactError } from '../../../src/core/errors.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/zips/${name}`, import.meta.url));
const limits = { maxUnzippedBytes: 1024 * 1024, maxEntries: 100 };

describe('zips written by real tools (test/fixtures/zips)', () => {
  it.each([
    ['infozip.zip', 5, 3040],
    ['infozip-stream.zip', 5, 3040],
    ['python.zip', 3, 3039],
    ['python-stream.zip', 2, 3039],
    ['python-zip64.zip', 1, 39],
  ])('accepts %s', async (name, entryCount, unzippedBytes) => {
    const path = fixture(name);
    expect(await inspectZip(path, (await stat(path)).size, limits)).toEqual({ entryCount, unzippedBytes });
  });

  it('refuses Info-ZIP with --symlinks, naming the link', async () => {
    const path = fixture('infozip-symlinks.zip');
    const error = await inspectZip(path, (await stat(path)).size, limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactError);
    expect(error).toMatchObject({ code: 'ARTIFACT_SYMLINK', message: expect.stringContaining('"link.mjs"') });
  });
});
