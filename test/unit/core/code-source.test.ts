import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseCodeSource, INLINE_MAX_BYTES } from '../../../src/core/code-source.js';

const MiB = 1024 * 1024;

describe('chooseCodeSource', () => {
  it.each([
    [
      'a tiny zip in the bucket Region',
      { sizeBytes: 10, bucketRegion: 'eu-west-1', versionId: 'v' },
      'eu-west-1',
      's3-reference',
    ],
    [
      'a 200 MiB zip in the bucket Region',
      { sizeBytes: 200 * MiB, bucketRegion: 'eu-west-1', versionId: 'v' },
      'eu-west-1',
      's3-reference',
    ],
    [
      'a small zip in another Region',
      { sizeBytes: 1 * MiB, bucketRegion: 'eu-west-1', versionId: 'v' },
      'us-east-1',
      'zip-file',
    ],
    [
      'a zip of exactly the inline limit in another Region',
      { sizeBytes: INLINE_MAX_BYTES, bucketRegion: 'eu-west-1', versionId: 'v' },
      'us-east-1',
      'zip-file',
    ],
    [
      'a small zip from an unversioned bucket',
      { sizeBytes: 1 * MiB, bucketRegion: 'eu-west-1' },
      'eu-west-1',
      'zip-file',
    ],
  ])('%s → %s', (_name, facts, region, via) => {
    expect(chooseCodeSource(facts, region)).toEqual({ via });
  });

  it('refuses what neither path can carry, naming why', () => {
    const big = INLINE_MAX_BYTES + 1;
    expect(chooseCodeSource({ sizeBytes: big, bucketRegion: 'eu-west-1', versionId: 'v' }, 'us-east-1')).toEqual({
      via: 'none',
      reason: 'wrong-region',
    });
    expect(chooseCodeSource({ sizeBytes: big, bucketRegion: 'eu-west-1' }, 'eu-west-1')).toEqual({
      via: 'none',
      reason: 'unversioned',
    });
  });

  it('an inline request stays under Lambda 50 MB request limit after base64', () => {
    expect(4 * Math.ceil(INLINE_MAX_BYTES / 3)).toBeLessThan(50_000_000 - 1_000_000);
  });

  it('never sends bytes inline when Lambda can read the pinned version itself', () => {
    fc.assert(
      fc.property(fc.nat(260 * MiB), fc.constantFrom('eu-west-1', 'us-east-1'), (sizeBytes, region) => {
        const choice = chooseCodeSource({ sizeBytes, bucketRegion: region, versionId: 'v1' }, region);
        expect(choice).toEqual({ via: 's3-reference' });
      }),
    );
  });
});
