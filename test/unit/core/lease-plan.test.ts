import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildLease,
  computeDefaultLeaseWaitMs,
  computeLeaseWait,
  computeRenewEveryMs,
  decideLease,
  extendLease,
  type Lease,
} from '../../../src/core/lease-plan.js';

const NOW = Date.parse('2026-11-22T08:00:00.000Z');
const lease = (expiresInMs: number, extra: Partial<Lease> = {}): { value: Lease; etag: string } => ({
  etag: '"e1"',
  value: {
    ...buildLease({ owner: 'a#1', app: 'orders-api', stage: 'dev', build: '42' }, NOW - 1000, 0),
    expiresAt: new Date(NOW + expiresInMs).toISOString(),
    ...extra,
  },
});

describe('decideLease', () => {
  it.each([
    ['free: create it', undefined, { action: 'create' }],
    ['held and live: wait', lease(30_000), { action: 'wait' }],
    ['expired: take it over with If-Match', lease(-1), { action: 'take-over', etag: '"e1"', why: 'expired' }],
    ['expiring exactly now: take it over', lease(0), { action: 'take-over', why: 'expired' }],
    ['released: take it over', lease(30_000, { released: true }), { action: 'take-over', why: 'released' }],
    [
      'unreadable expiry: take it over',
      lease(30_000, { expiresAt: 'garbage' }),
      { action: 'take-over', why: 'expired' },
    ],
    [
      'not JSON: take it over on its ETag',
      { corrupt: true, etag: '"e9"' },
      { action: 'take-over', etag: '"e9"', why: 'corrupt' },
    ],
    ['expiring within leaseSeconds plus clock skew: wait', lease(120_000 + 60_000), { action: 'wait' }],
    [
      'expiring beyond now + leaseSeconds + clock skew: corrupt, take it over',
      lease(120_000 + 60_001),
      { action: 'take-over', etag: '"e1"', why: 'corrupt' },
    ],
    [
      'expiring in the year 9999 (no live holder writes that): take it over',
      lease(0, { expiresAt: '9999-12-31T23:59:59.999Z' }),
      { action: 'take-over', why: 'corrupt' },
    ],
    [
      'JSON but not an object: take it over',
      { value: null as unknown as Lease, etag: '"e2"' },
      { action: 'take-over', etag: '"e2"', why: 'corrupt' },
    ],
  ] as const)('%s', (_name, existing, expected) => {
    expect(decideLease(existing, NOW, 120)).toMatchObject(expected);
  });

  it('builds a lease that expires after leaseSeconds', () => {
    const l = buildLease({ owner: 'o', app: 'a', stage: 's', build: 'b' }, NOW, 900);
    expect(Date.parse(l.expiresAt) - Date.parse(l.acquiredAt)).toBe(900_000);
  });

  it('renewing keeps the owner and acquisition time and pushes the expiry to leaseSeconds from now', () => {
    const held = buildLease({ owner: 'o', app: 'a', stage: 's', build: 'b' }, NOW, 120);
    const renewed = extendLease(held, NOW + 40_000, 120);
    expect(renewed).toEqual({ ...held, expiresAt: new Date(NOW + 160_000).toISOString() });
  });

  it('renews three times per lease period and waits 1.5 lease periods by default', () => {
    expect(computeRenewEveryMs(120)).toBe(40_000);
    expect(computeDefaultLeaseWaitMs(120)).toBe(180_000);
    fc.assert(
      fc.property(fc.integer({ min: 30, max: 3600 }), (seconds) => {
        // Two renewals can fail before the lease lapses; a waiter outlasts a dead holder's whole lease.
        expect(3 * computeRenewEveryMs(seconds)).toBeLessThanOrEqual(seconds * 1000);
        expect(computeDefaultLeaseWaitMs(seconds)).toBeGreaterThan(seconds * 1000);
      }),
    );
  });

  it('waits a bounded, positive, jittered time that never overshoots the expiry by much (property)', () => {
    fc.assert(
      fc.property(
        fc.nat(40),
        fc.integer({ min: -5_000, max: 3_600_000 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (attempt, expiresIn, r) => {
          const wait = computeLeaseWait(attempt, expiresIn, () => r);
          expect(wait).toBeGreaterThanOrEqual(10);
          expect(wait).toBeLessThanOrEqual(2_000);
          expect(wait).toBeLessThanOrEqual(Math.max(10, Math.max(0, expiresIn) + 50));
        },
      ),
    );
  });
});
