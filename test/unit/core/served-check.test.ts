import { describe, expect, it } from 'vitest';
import { describeServedDrift, findServedDrift } from '../../../src/core/served-check.js';

describe('findServedDrift', () => {
  it('finds nothing when every target serves the claimed checksum', () => {
    expect(
      findServedDrift(
        [
          { targetId: 'a', codeSha256: 'X' },
          { targetId: 'b', codeSha256: 'X', version: '4' },
        ],
        [
          { targetId: 'a', version: '2', codeSha256: 'X' },
          { targetId: 'b', version: '4', codeSha256: 'X' },
        ],
      ),
    ).toEqual([]);
  });

  it.each([
    ['another checksum', { targetId: 'a', version: '2', codeSha256: 'Y' }, { servedSha256: 'Y', servedVersion: '2' }],
    ['no alias', { targetId: 'a' }, { servedSha256: 'nothing' }],
    ['no such version', { targetId: 'a', version: '9' }, { servedSha256: 'nothing', servedVersion: '9' }],
  ])('names %s as drift', (_name, observed, expected) => {
    expect(findServedDrift([{ targetId: 'a', codeSha256: 'X' }], [observed])).toEqual([
      { targetId: 'a', expectedSha256: 'X', ...expected },
    ]);
  });

  it('a target never observed is drift', () => {
    expect(findServedDrift([{ targetId: 'a', codeSha256: 'X' }], [])).toEqual([
      { targetId: 'a', expectedSha256: 'X', servedSha256: 'nothing' },
    ]);
  });

  it('a claimed version other than the served one is drift even with the same code', () => {
    const drift = findServedDrift(
      [{ targetId: 'a', codeSha256: 'X', version: '999' }],
      [{ targetId: 'a', version: '2', codeSha256: 'X' }],
    );
    expect(drift).toEqual([
      { targetId: 'a', expectedSha256: 'X', servedSha256: 'X', servedVersion: '2', expectedVersion: '999' },
    ]);
    expect(describeServedDrift(drift, 'the token')).toBe(
      'a serves sha256 X (version 2), the token says sha256 X (version 999)',
    );
  });
});
