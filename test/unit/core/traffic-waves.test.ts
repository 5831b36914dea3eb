import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkWaveSize, planWaves, type WaveSize } from '../../../src/core/traffic-waves.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `t${i + 1}`);

describe('planWaves', () => {
  it('ships one account, then a quarter, then the rest', () => {
    expect(planWaves(ids(9), [1, '25%']).map((w) => w.length)).toEqual([1, 3, 5]);
  });

  it('is one wave without sizes, and drops sizes past the last target', () => {
    expect(planWaves(ids(3), [])).toEqual([ids(3)]);
    expect(planWaves(ids(2), [1, 1, 1, '50%'])).toEqual([['t1'], ['t2']]);
  });

  it.each([
    [0, /at least 1/],
    [1.5, /whole number/],
    ['0%', /from 1% to 100%/],
    ['quarter', /percentage/],
  ] as const)('refuses the size %j', (size, problem) => {
    expect(checkWaveSize(size as WaveSize)).toMatch(problem);
  });

  it('puts every target in exactly one non-empty wave, in order', () => {
    const size = fc.oneof(
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 1, max: 100 }).map((n) => `${n}%` as WaveSize),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(size, { maxLength: 6 }), (n, sizes) => {
        const waves = planWaves(ids(n), sizes);
        expect(waves.flat()).toEqual(ids(n));
        expect(waves.every((w) => w.length > 0)).toBe(true);
      }),
    );
  });
});
