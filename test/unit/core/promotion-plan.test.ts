import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PromotionRule } from '../../../src/core/config.js';
import type { CurrentState } from '../../../src/core/ledger-model.js';
import { isInWindow, type PromotionInput, planPromotion } from '../../../src/core/promotion-plan.js';

const LIVE = '2026-11-23T08:00:00.000Z'; // a Monday
const rule = (extra: Partial<PromotionRule> = {}): PromotionRule => ({
  from: 'dev',
  to: 'staging',
  minSoakMinutes: 60,
  requireNoFailures: false,
  ...extra,
});
const staging = (build: string): CurrentState => ({
  schema: 1,
  app: 'orders-api',
  stage: 'staging',
  build,
  codeSha256: 'x',
  liveSince: LIVE,
  targets: {},
  lastEntryId: 'e',
  updatedAt: LIVE,
});
const input = (extra: Partial<PromotionInput> = {}): PromotionInput => ({
  from: 'dev',
  to: 'staging',
  rule: rule(),
  candidate: {
    build: '42',
    codeSha256: 'sha42',
    source: { bucket: 'b', key: 'artifacts/orders-api/42.zip', versionId: 'v1' },
    liveSince: LIVE,
    succeededOn: ['t1', 't2'],
  },
  sourceTargetIds: ['t1', 't2'],
  now: new Date('2026-11-23T10:00:00.000Z'),
  servedDrift: [],
  ...extra,
});

describe('planPromotion', () => {
  it('promotes a build that soaked long enough, succeeded everywhere and is newer than the next stage', () => {
    const decision = planPromotion(input({ target: staging('41') }));
    expect(decision.action).toBe('promote');
    expect(decision.reason).toBe('promote 42 from dev to staging');
  });

  it.each([
    [
      'no live build in the source stage',
      input({ candidate: undefined }),
      'nothing',
      /nothing to promote: dev has no live build/,
    ],
    [
      'the next stage already runs it',
      input({ target: staging('42') }),
      'nothing',
      /^nothing to promote: staging already runs 42$/,
    ],
    [
      'the next stage runs something newer',
      input({ target: staging('43') }),
      'nothing',
      /staging runs 43, newer than dev's 42/,
    ],
    ['not on every source target', input({ sourceTargetIds: ['t1', 't2', 't3'] }), 'nothing', /missing t3/],
    ['soak not reached', input({ now: new Date('2026-11-23T08:59:00.000Z') }), 'wait', /soaked 59 of 60 minutes/],
    [
      'a failure since it went live',
      input({ rule: rule({ requireNoFailures: true }), sourceLastFailureAt: '2026-11-23T09:00:00.000Z' }),
      'wait',
      /failed at/,
    ],
  ] as const)('%s', (_name, given, action, reason) => {
    const decision = planPromotion(given);
    expect(decision.action).toBe(action);
    expect(decision.reason).toMatch(reason);
  });

  it('ignores failures from before the build went live', () => {
    const decision = planPromotion(
      input({ rule: rule({ requireNoFailures: true }), sourceLastFailureAt: '2026-11-23T07:00:00.000Z' }),
    );
    expect(decision.action).toBe('promote');
  });

  it('soak exactly at the minimum passes', () => {
    expect(planPromotion(input({ now: new Date('2026-11-23T09:00:00.000Z') })).action).toBe('promote');
  });

  it('a forced promotion goes past rule checks but reports them as overridden', () => {
    const decision = planPromotion(input({ now: new Date('2026-11-23T08:10:00.000Z'), force: true }));
    expect(decision.action).toBe('promote');
    expect(decision.checks.find((c) => c.name === 'soak')).toMatchObject({ passed: false, overridden: true });
  });

  it('refuses a pair with no rule (dev → prod past staging) unless forced, naming the configured path', () => {
    const skipping = { to: 'prod', rule: undefined, configuredPairs: ['dev→staging', 'staging→prod'] };
    const refused = planPromotion(input(skipping));
    expect(refused.action).toBe('refuse');
    expect(refused.reason).toMatch(/no promotion rule from dev to prod \(configured: dev→staging, staging→prod\)/);
    expect(refused.reason).toMatch(/--force/);
    const forced = planPromotion(input({ ...skipping, force: true, now: new Date(LIVE) }));
    expect(forced).toMatchObject({ action: 'promote', forced: ['rule'] });
    expect(forced.reason).toMatch(/forced past: rule/);
    expect(forced.checks.find((c) => c.name === 'rule')).toMatchObject({ passed: false, overridden: true });
  });

  it('a forced promotion without a rule still applies the safety checks', () => {
    expect(planPromotion(input({ rule: undefined, force: true, target: staging('42') })).action).toBe('nothing');
  });

  it('asks to observe the source targets before promoting, and only once the ledger says promote', () => {
    expect(planPromotion(input({ servedDrift: undefined })).action).toBe('observe');
    expect(planPromotion(input({ servedDrift: undefined, now: new Date(LIVE) })).action).toBe('wait');
    expect(planPromotion(input({ servedDrift: undefined, target: staging('42') })).action).toBe('nothing');
  });

  it('refuses when the source stage serves other code than the ledger says, naming the drift', () => {
    const decision = planPromotion(
      input({ servedDrift: [{ targetId: 't1', expectedSha256: 'sha42', servedSha256: 'sha41', servedVersion: '3' }] }),
    );
    expect(decision.action).toBe('refuse');
    expect(decision.reason).toBe(
      'refusing to promote 42: the ledger and dev disagree: t1 serves sha256 sha41 (version 3), the ledger says sha256 sha42',
    );
    expect(
      planPromotion(
        input({ force: true, servedDrift: [{ targetId: 't1', expectedSha256: 'sha42', servedSha256: 'nothing' }] }),
      ).action,
    ).toBe('refuse');
  });

  it('waits outside the window', () => {
    const windowed = rule({ minSoakMinutes: 0, weekdays: ['mon', 'tue', 'wed', 'thu'], hoursUtc: { from: 8, to: 16 } });
    expect(planPromotion(input({ rule: windowed, now: new Date('2026-11-27T10:00:00.000Z') })).reason).toMatch(
      /outside the promotion window \(mon,tue,wed,thu, 08:00–16:00 UTC\)/,
    );
  });
});

describe('isInWindow (UTC)', () => {
  const hours = { hoursUtc: { from: 8, to: 16 } };
  it.each([
    ['07:59:59 is before the window', '2026-11-23T07:59:59.999Z', false],
    ['08:00 opens it', '2026-11-23T08:00:00.000Z', true],
    ['15:59:59 is still inside', '2026-11-23T15:59:59.999Z', true],
    ['16:00 closes it', '2026-11-23T16:00:00.000Z', false],
    ['local time does not matter, only UTC', '2026-11-23T08:30:00.000+01:00', false],
  ])('%s', (_name, at, expected) => {
    expect(isInWindow(new Date(at), hours)).toBe(expected);
  });

  it('a window to 24 includes 23:xx', () => {
    expect(isInWindow(new Date('2026-11-23T23:59:00.000Z'), { hoursUtc: { from: 22, to: 24 } })).toBe(true);
  });

  it.each([
    ['Sunday', '2026-11-22T12:00:00.000Z', false],
    ['Monday', '2026-11-23T12:00:00.000Z', true],
    ['Friday', '2026-11-27T12:00:00.000Z', true],
    ['Saturday', '2026-11-28T12:00:00.000Z', false],
    ['Monday 00:30 UTC (Sunday evening in America)', '2026-11-23T00:30:00.000Z', true],
  ])('weekdays mon–fri: %s', (_name, at, expected) => {
    expect(isInWindow(new Date(at), { weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] })).toBe(expected);
  });

  it('agrees with the UTC hour and day for any instant (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 1, max: 24 }),
        (now, from, to) => {
          fc.pre(from < to);
          const inside = isInWindow(now, { hoursUtc: { from, to }, weekdays: ['sat', 'sun'] });
          const h = now.getUTCHours();
          const weekend = now.getUTCDay() === 0 || now.getUTCDay() === 6;
          expect(inside).toBe(weekend && h >= from && h < to);
        },
      ),
    );
  });
});
