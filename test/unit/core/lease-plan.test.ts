import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildLease, computeLeaseWait, decideLease, type Lease } from '../../../src/core/lease-plan.js';

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
  ] as const)('%s', (_name, existing, expected) => {
    expect(decideLease(existing, NOW)).toMatchObject(expected);
  });

  it('builds a lease that expires after leaseSeconds', () => {
    const l = buildLease({ owner: 'o', app: 'a', stage: 's', build: 'b' }, NOW, 900);
    expect(Date.parse(l.expiresAt) - Date.parse(l.acquiredAt)).toBe(900_000);
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
