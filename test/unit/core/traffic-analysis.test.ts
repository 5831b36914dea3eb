import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ANALYSIS, judgeCanary, Verdict } from '../../../src/core/traffic-analysis.js';

const settings = { ...DEFAULT_ANALYSIS, minInvocations: 20, maxErrorRateIncrease: 0.02 };
const sample = (invocations: number, errors: number) => ({ invocations, errors });

describe('judgeCanary', () => {
  it.each([
    ['too few invocations of the new version', sample(100, 0), sample(19, 19), Verdict.Inconclusive],
    ['no invocations at all', sample(0, 0), sample(0, 0), Verdict.Inconclusive],
    ['the new version errs like the stable one', sample(100, 5), sample(40, 2), Verdict.Successful],
    ['the new version errs 2 points more: allowed', sample(100, 5), sample(100, 7), Verdict.Successful],
    ['the new version errs 3 points more', sample(100, 5), sample(100, 8), Verdict.Failed],
    ['a handler that throws every time', sample(100, 0), sample(20, 20), Verdict.Failed],
    [
      'stable too quiet to be a baseline: the new version is judged against 0%',
      sample(3, 3),
      sample(50, 5),
      Verdict.Failed,
    ],
  ])('%s', (_name, stable, canary, verdict) => {
    expect(judgeCanary({ stable, canary }, settings).verdict).toBe(verdict);
  });

  it('applies the absolute ceiling whatever the stable version does', () => {
    const result = judgeCanary(
      { stable: sample(100, 50), canary: sample(100, 45) },
      { ...settings, maxErrorRate: 0.1 },
    );
    expect(result.verdict).toBe(Verdict.Failed);
    expect(result.detail).toMatch(/above the 10.0% ceiling/);
  });

  it('never passes a sample below the minimum, and never fails a new version that errs less than the stable one', () => {
    fc.assert(
      fc.property(fc.nat(500), fc.nat(500), fc.nat(500), fc.nat(500), (si, se, ci, ce) => {
        const stable = sample(si, Math.min(se, si));
        const canary = sample(ci, Math.min(ce, ci));
        const { verdict } = judgeCanary({ stable, canary }, settings);
        if (ci < settings.minInvocations) expect(verdict).toBe(Verdict.Inconclusive);
        if (ci >= settings.minInvocations && canary.errors === 0) expect(verdict).toBe(Verdict.Successful);
      }),
    );
  });
});
