import { describe, expect, it } from 'vitest';
import { decideUploadSkip } from '../../../src/core/staged-copy.js';
import { planUploadParts, storedChecksumMatches } from '../../../src/core/upload-parts.js';

const MiB = 1024 * 1024;

describe('planUploadParts', () => {
  it.each([
    { size: 1, parts: [1] },
    { size: 8 * MiB, parts: [8 * MiB] },
    { size: 8 * MiB + 1, parts: [8 * MiB, 1] },
    { size: 20 * MiB, parts: [8 * MiB, 8 * MiB, 4 * MiB] },
  ])('splits $size bytes into parts of 8 MiB, one part when it fits', ({ size, parts }) => {
    expect(planUploadParts(size)).toEqual(parts);
  });

  it('takes another part size', () => {
    expect(planUploadParts(12 * MiB, 5 * MiB)).toEqual([5 * MiB, 5 * MiB, 2 * MiB]);
  });
});

describe('storedChecksumMatches', () => {
  const digest = { sha256: 'whole=', sizeBytes: 9 * MiB, objectChecksumSha256: 'parts=-2' };
  it.each([
    { stored: 'whole=', matches: true },
    { stored: 'parts=-2', matches: true },
    { stored: 'other=-2', matches: false },
    { stored: undefined, matches: false },
  ])('matches S3 ChecksumSHA256 $stored: $matches', ({ stored, matches }) => {
    expect(storedChecksumMatches(stored, digest)).toBe(matches);
  });
});

describe('decideUploadSkip with a multipart copy', () => {
  const record = {
    schema: 1,
    kind: 'pipeline',
    app: 'orders-api',
    build: '7',
    key: 'artifacts/orders-api/7.zip',
    codeSha256: 'whole=',
    objectChecksumSha256: 'parts=-2',
    caller: 'arn:aws:iam::111111111111:role/ferry',
    recordedAt: '2026-12-01T00:00:00.000Z',
  } as const;

  it('skips when S3 stored the composite ferry recorded', () => {
    const decision = decideUploadSkip({ key: record.key, marker: 'pipeline', objectSha256: 'parts=-2', record });
    expect(decision.action).toBe('skip');
  });

  it('deploys when the composite is another', () => {
    const decision = decideUploadSkip({ key: record.key, marker: 'pipeline', objectSha256: 'other=-2', record });
    expect(decision).toMatchObject({ action: 'deploy', warning: expect.stringContaining('parts=-2') });
  });
});
