import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isAllAtOnce,
  resolveTrafficPolicy,
  TRAFFIC_LIMITS,
  type TrafficPolicySpec,
  totalShiftMinutes,
  weightOf,
} from '../../../src/core/traffic-policy.js';

function stepsOf(spec: TrafficPolicySpec) {
  const result = resolveTrafficPolicy(spec);
  if (!result.ok) throw new Error(result.problem);
  return result.policy.steps;
}

describe('resolveTrafficPolicy', () => {
  it.each([
    ['Canary10Percent5Minutes', [{ percent: 10, minutes: 5 }]],
    ['Canary10Percent10Minutes', [{ percent: 10, minutes: 10 }]],
    ['Canary10Percent15Minutes', [{ percent: 10, minutes: 15 }]],
    ['CodeDeployDefault.LambdaCanary10Percent30Minutes', [{ percent: 10, minutes: 30 }]],
    ['Canary25Percent1Minute', [{ percent: 25, minutes: 1 }]],
  ])('reads the canary name %s', (name, steps) => {
    expect(stepsOf(name)).toEqual(steps);
  });

  it.each([
    ['Linear10PercentEvery1Minute', 1],
    ['Linear10PercentEvery2Minutes', 2],
    ['Linear10PercentEvery3Minutes', 3],
    ['CodeDeployDefault.LambdaLinear10PercentEvery10Minutes', 10],
  ])('reads the linear name %s as 10%%…90%% every interval, then 100%%', (name, minutes) => {
    const steps = stepsOf(name);
    expect(steps.map((s) => s.percent)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(steps.every((s) => s.minutes === minutes)).toBe(true);
  });

  it.each(['allAtOnce', 'AllAtOnce', 'CodeDeployDefault.LambdaAllAtOnce'])('reads %s as all at once', (name) => {
    const result = resolveTrafficPolicy(name);
    expect(result.ok && isAllAtOnce(result.policy)).toBe(true);
  });

  it('reads the object forms and custom steps', () => {
    expect(stepsOf({ canary: { percent: 5, minutes: 20 } })).toEqual([{ percent: 5, minutes: 20 }]);
    expect(stepsOf({ linear: { percent: 30, everyMinutes: 4 } }).map((s) => s.percent)).toEqual([30, 60, 90]);
    expect(
      stepsOf({
        steps: [
          { percent: 1, minutes: 5 },
          { percent: 50, minutes: 10 },
        ],
      }),
    ).toHaveLength(2);
  });

  it.each([
    ['Canary10Percent5Hours', /unknown policy 'Canary10Percent5Hours'/],
    ['Canary0Percent5Minutes', /percent 0 must be a whole number from 1 to 99/],
    ['Canary10Percent0Minutes', /minutes 0 must be a whole number of at least 1/],
    [
      {
        steps: [
          { percent: 50, minutes: 1 },
          { percent: 40, minutes: 1 },
        ],
      },
      /step 2: percent 40 must be above the previous step's 50/,
    ],
    [{ canary: { percent: 10, minutes: 2881 } }, /at most 2880/],
    ['Linear1PercentEvery30Minutes', /at most 2880/],
  ] as const)('refuses %j, saying why', (spec, problem) => {
    const result = resolveTrafficPolicy(spec as TrafficPolicySpec);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.problem).toMatch(problem);
  });

  it('any accepted policy has rising percentages below 100, whole minutes, and stays within 48 hours', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 99 }),
        fc.integer({ min: 1, max: 60 }),
        fc.boolean(),
        (percent, minutes, canary) => {
          const result = resolveTrafficPolicy(
            canary ? `Canary${percent}Percent${minutes}Minutes` : `Linear${percent}PercentEvery${minutes}Minutes`,
          );
          if (!result.ok) return;
          const { steps } = result.policy;
          expect(steps.length).toBeGreaterThan(0);
          steps.forEach((s, i) => {
            expect(s.percent).toBeGreaterThanOrEqual(1);
            expect(s.percent).toBeLessThanOrEqual(TRAFFIC_LIMITS.maxPercent);
            if (i > 0) expect(s.percent).toBeGreaterThan(steps[i - 1]?.percent ?? 0);
          });
          expect(totalShiftMinutes(result.policy)).toBeLessThanOrEqual(TRAFFIC_LIMITS.maxTotalMinutes);
        },
      ),
    );
  });

  it('turns percentages into Lambda routing weights without float noise', () => {
    expect(weightOf(10)).toBe(0.1);
    expect(weightOf(7)).toBe(0.07);
    expect(weightOf(33)).toBe(0.33);
  });
});
