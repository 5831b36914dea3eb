import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, suggestName } from '../../../src/core/suggest.js';

describe('suggestName', () => {
  it.each([
    ['ordres-api', ['orders-api', 'billing-worker'], 'orders-api'],
    ['artifactBuckt', ['artifactBucket', 'artifactPrefix'], 'artifactBucket'],
    ['keep_versions', ['keepVersions', 'concurrency'], 'keepVersions'],
    ['--dryrun', ['--dry-run', '--json'], '--dry-run'],
    ['stagin', ['dev', 'staging', 'prod'], 'staging'],
    ['payments', ['orders-api', 'billing-worker'], undefined],
    ['x', ['dev', 'prod'], undefined],
  ])('%s among %j → %s', (input, candidates, expected) => {
    expect(suggestName(input, candidates)).toBe(expected);
  });

  it('phrases the hint, or says nothing', () => {
    expect(didYouMean('ordres-api', ['orders-api'])).toBe(" Did you mean 'orders-api'?");
    expect(didYouMean('zzz', ['orders-api'])).toBe('');
  });
});

describe('editDistance', () => {
  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('ordres', 'orders')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('is symmetric and zero only for equal strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        expect(editDistance(a, b)).toBe(editDistance(b, a));
        expect(editDistance(a, b) === 0).toBe(a === b);
      }),
    );
  });
});
