import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import { ConfigurationError } from '../../../src/core/errors.js';
import { resolveShiftSettings } from '../../../src/core/traffic-config.js';

const base = (app: Record<string, unknown>) => ({
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  stages: [{ name: 'dev' }, { name: 'prod' }],
  apps: {
    orders: {
      targets: {
        dev: [{ account: '222222222222', function: 'orders' }],
        prod: [{ account: '444444444444', function: 'orders' }],
      },
      ...app,
    },
  },
});

function problemsOf(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).message;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('traffic configuration', () => {
  it('reads per-stage traffic and a promotion rule override', () => {
    const config = parseConfig(
      base({
        traffic: {
          prod: {
            policy: 'Canary10Percent5Minutes',
            alarms: ['orders-5xx'],
            hooks: { beforeTraffic: { payload: { path: '/health' } } },
            waves: [1, '25%'],
            bakeMinutes: 15,
          },
        },
        promotions: [{ from: 'dev', to: 'prod', traffic: { policy: { linear: { percent: 20, everyMinutes: 2 } } } }],
      }),
    );
    const app = config.apps.orders;
    expect(app?.traffic.prod?.policy?.name).toBe('Canary10Percent5Minutes');
    const settings = resolveShiftSettings(app?.traffic.prod, app?.promotions[0]?.traffic);
    expect(settings.policy.steps.map((s) => s.percent)).toEqual([20, 40, 60, 80]);
    expect(settings.alarms).toEqual(['orders-5xx']);
    expect(settings.bakeMinutes).toBe(15);
    expect(settings.waves).toEqual([1, '25%']);
    expect(settings.beforeTraffic).toEqual({ payload: { path: '/health' } });
    // Alarms configured and analysis not asked for: alarms are the gate.
    expect(settings.analysis).toBeUndefined();
  });

  it('turns the built-in analysis on by default when no alarm is configured, with overridable thresholds', () => {
    const on = resolveShiftSettings({ analysis: { minInvocations: 5 } }, undefined);
    expect(on.analysis).toMatchObject({ minInvocations: 5, maxErrorRateIncrease: 0.02, onInconclusive: 'wait' });
    expect(resolveShiftSettings({ analysis: { enabled: false } }, undefined).analysis).toBeUndefined();
    expect(resolveShiftSettings({ alarms: ['a'], analysis: { enabled: true } }, undefined).analysis).toBeDefined();
  });

  it('is all at once without a traffic section, and the operator can force it and ignore alarms', () => {
    expect(resolveShiftSettings(undefined, undefined).policy.steps).toEqual([]);
    const forced = resolveShiftSettings(
      { policy: { name: 'x', steps: [{ percent: 10, minutes: 5 }] }, alarms: ['a'] },
      undefined,
      {
        traffic: 'allAtOnce',
        ignoreAlarms: true,
      },
    );
    expect(forced.policy.steps).toEqual([]);
    expect(forced.ignoreAlarms).toBe(true);
  });

  it.each([
    [
      { traffic: { prod: { policy: 'Canary10Percent5Hours' } } },
      /apps\.orders\.traffic\.prod\.policy: unknown policy 'Canary10Percent5Hours'/,
    ],
    [
      { traffic: { qa: { policy: 'allAtOnce' } } },
      /apps\.orders\.traffic\.qa: unknown stage; expected one of dev, prod/,
    ],
    [
      { traffic: { prod: { waves: [0] } } },
      /apps\.orders\.traffic\.prod\.waves\[0\]: 0: a wave holds a whole number of targets/,
    ],
    [
      { traffic: { prod: { policy: { steps: [{ percent: 100, minutes: 1 }] } } } },
      /apps\.orders\.traffic\.prod\.policy/,
    ],
    [{ traffic: { prod: { alarm: ['x'] } } }, /apps\.orders\.traffic\.prod: unknown key 'alarm'/],
    [
      { traffic: { prod: { analysis: { onInconclusive: 'pause' } } } },
      /apps\.orders\.traffic\.prod\.analysis\.onInconclusive: expected one of wait, proceed, rollback/,
    ],
    [
      { traffic: { prod: { analysis: { maxErrorRate: 0.01, maxErrorRateIncrease: 0.05 } } } },
      /analysis\.maxErrorRate: 0\.01 is below maxErrorRateIncrease/,
    ],
    [{ traffic: { prod: { bakeMinutes: -1 } } }, /apps\.orders\.traffic\.prod\.bakeMinutes: expected ≥ 0/],
    [
      { promotions: [{ from: 'dev', to: 'prod', traffic: { policy: 'Linear10PercentEvery7Hours' } }] },
      /apps\.orders\.promotions\[0\]\.traffic\.policy: unknown policy/,
    ],
    [
      { traffic: { prod: { hooks: { beforeTraffic: { function: 'arn:aws:lambda:x' } } } } },
      /hooks\.beforeTraffic\.function/,
    ],
  ])('names the bad field: %j', (app, problem) => {
    expect(problemsOf(base(app))).toMatch(problem);
  });
});
