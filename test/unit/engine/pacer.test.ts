import { describe, expect, it } from 'vitest';
import { createPacer, createPacerRegistry } from '../../../src/engine/pacer.js';

/** A virtual clock: sleeping advances time, so the grant times are exact. */
function virtualTime() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

describe('createPacer', () => {
  it('lets a burst through at once, then spaces requests at the sustained rate', async () => {
    const time = virtualTime();
    const pacer = createPacer(10, 3, time);
    const grants: number[] = [];
    for (let i = 0; i < 6; i++) {
      await pacer.take();
      grants.push(time.now());
    }
    expect(grants).toEqual([0, 0, 0, 100, 200, 300]);
  });

  it('never exceeds burst + rate × t requests in any window starting at 0', async () => {
    const time = virtualTime();
    const pacer = createPacer(14, 4, time);
    for (let i = 0; i < 60; i++) await pacer.take();
    // 60 requests need (60 - 4) / 14 s at least.
    expect(time.now()).toBeGreaterThanOrEqual(((60 - 4) / 14) * 1000 - 1);
  });
});

describe('createPacerRegistry', () => {
  it('gives each account and Region its own budget', async () => {
    const time = virtualTime();
    const pacersFor = createPacerRegistry({ controlPerSecond: 14 }, time);
    expect(pacersFor('111111111111', 'eu-west-1')).toBe(pacersFor('111111111111', 'eu-west-1'));
    expect(pacersFor('111111111111', 'eu-west-1')).not.toBe(pacersFor('222222222222', 'eu-west-1'));
    expect(pacersFor('111111111111', 'eu-west-1')).not.toBe(pacersFor('111111111111', 'us-east-1'));
  });
});
