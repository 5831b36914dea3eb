import { describe, expect, it } from 'vitest';
import { startSandbox } from '../src/index.js';

const START = Date.parse('2026-11-23T08:00:00.000Z');

describe('the sandbox clock', () => {
  it('started at an instant, stands still until advanced, and stamps what the sandbox records', async () => {
    const sandbox = await startSandbox({ transport: 'in-process', clock: { startAt: START } });
    try {
      const accountId = sandbox.createAccount().accountId;
      const record = () =>
        sandbox.cloudwatch.putMetricData({ accountId, namespace: 'AWS/Lambda', metricName: 'Invocations', value: 1 });
      record();
      await new Promise((resolve) => setImmediate(resolve));
      expect(sandbox.clock.now()).toBe(START);
      sandbox.clock.advance(90_000);
      record();
      const stamps = sandbox.cloudwatch
        .datapoints({ accountId, namespace: 'AWS/Lambda', metricName: 'Invocations' })
        .map((p) => p.at);
      expect(stamps).toEqual([START, START + 90_000]);
    } finally {
      await sandbox.stop();
    }
  });

  it('runs on real time by default', async () => {
    const sandbox = await startSandbox({ transport: 'in-process' });
    try {
      const before = Date.now();
      const now = sandbox.clock.now();
      expect(now).toBeGreaterThanOrEqual(before);
      expect(now).toBeLessThanOrEqual(Date.now());
    } finally {
      await sandbox.stop();
    }
  });
});
