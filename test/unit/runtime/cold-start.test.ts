import { describe, expect, it } from 'vitest';
import { createColdStartRuntime } from '../../../src/runtime/cold-start.js';
import type { Runtime } from '../../../src/runtime/create-runtime.js';

describe('the cold-start runtime', () => {
  it('is built on first use only, then the container reuses it', () => {
    let builds = 0;
    const made = { tag: 'runtime' } as unknown as Runtime;
    const get = createColdStartRuntime(() => {
      builds++;
      return made;
    });
    expect(builds).toBe(0);
    expect(get()).toBe(made);
    expect(get()).toBe(made);
    expect(builds).toBe(1);
  });

  it('lets a configuration error surface on the invocation that needs the runtime, and tries again next time', () => {
    let attempts = 0;
    const get = createColdStartRuntime(() => {
      attempts++;
      throw new Error('FERRY_CONFIG: apps.orders.targets is required');
    });
    expect(() => get()).toThrow(/apps\.orders\.targets/);
    expect(() => get()).toThrow(/apps\.orders\.targets/);
    expect(attempts).toBe(2);
  });
});
