/**
 * Traffic shifts end to end over HTTP: uploads reach ferry's upload handler, the one-minute rule
 * runs the traffic-tick handler, the sandbox clock stands in for the minutes in between. Every
 * assertion reads what the aliases really serve (GetAlias, Invoke), the ledger in ferry's bucket,
 * and the notifications the sandbox's EventBridge accepted.
 */
import { makeFailingFunctionZip } from '@ferry/aws-sandbox';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFunctionZip } from '../../support/sandbox-harness.js';
import {
  PROD_ACCOUNTS,
  startTrafficWorld,
  statesOf,
  type TrafficWorld,
  trafficConfig,
} from '../../support/traffic-world.js';

let w: TrafficWorld | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

async function start(prod: Record<string, unknown>) {
  w = await startTrafficWorld(trafficConfig({ prod }));
  await w.deployStable();
  expect(await w.served()).toEqual(['1', '1', '1']);
  return w;
}

describe('traffic shifts over HTTP', () => {
  // Tests that invoke the functions run their handlers in child processes: slow on a busy machine.
  it('canary: 10% for 5 minutes, then 100%; the stage goes live at 100% and every state is notified', {
    timeout: 120_000,
  }, async () => {
    const t = await start({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } });
    await t.upload('2', await makeFunctionZip('2'));
    expect(await t.served()).toEqual(['1 {"2":0.1}', '1 {"2":0.1}', '1 {"2":0.1}']);
    expect((await t.current())?.build).not.toBe('2');
    // Requests through the alias reach both versions (the sandbox splits them evenly by weight).
    const calls = await t.invoke(PROD_ACCOUNTS[0], 20);
    expect(calls).toEqual({ '1': { calls: 18, errors: 0 }, '2': { calls: 2, errors: 0 } });
    await t.tick(4);
    expect(await t.served()).toEqual(['1 {"2":0.1}', '1 {"2":0.1}', '1 {"2":0.1}']);
    await t.tick(1);
    expect(await t.served()).toEqual(['2', '2', '2']);
    expect(await t.current()).toMatchObject({ build: '2' });
    expect(await t.shift()).toMatchObject({ status: 'succeeded', build: '2' });
    expect((await t.entries()).map((e) => `${e.build} ${e.outcome}`)).toEqual([
      '1 succeeded',
      '2 shifting',
      '2 succeeded',
    ]);
    const events = await t.events('2');
    expect(statesOf(events)).toEqual(['started', 'shifting', 'shifting', 'succeeded']);
    expect(events.map((e) => e.detail.percent)).toEqual([0, 10, 100, 100]);
    expect(events.every((e) => e.source === 'ferry' && e.eventBusName === 'default')).toBe(true);
  });

  it('linear: 25% more every 2 minutes until 100%', async () => {
    const t = await start({ policy: { linear: { percent: 25, everyMinutes: 2 } }, analysis: { enabled: false } });
    await t.upload('2', await makeFunctionZip('2'));
    const seen = [(await t.served())[0]];
    for (let i = 0; i < 4; i++) {
      await t.tick(1);
      seen.push((await t.served())[0]);
      await t.tick(1);
      seen.push((await t.served())[0]);
    }
    expect(seen).toEqual([
      '1 {"2":0.25}',
      '1 {"2":0.25}',
      '1 {"2":0.5}',
      '1 {"2":0.5}',
      '1 {"2":0.75}',
      '1 {"2":0.75}',
      '2',
      '2',
      '2',
    ]);
    expect(await t.served()).toEqual(['2', '2', '2']);
    expect((await t.entries()).at(-1)).toMatchObject({ outcome: 'succeeded', build: '2' });
  });

  it('an alarm entering ALARM mid-shift puts every alias back on the stable version within one tick', async () => {
    const t = await start({ policy: 'Linear10PercentEvery1Minute', alarms: ['orders-5xx'] });
    await t.alarmEverywhere('orders-5xx', 'OK');
    await t.upload('2', await makeFunctionZip('2'));
    await t.tick();
    expect(await t.served()).toEqual(['1 {"2":0.2}', '1 {"2":0.2}', '1 {"2":0.2}']);
    await t.setAlarm('555555555555', 'orders-5xx', 'ALARM');
    await t.tick();
    expect(await t.served()).toEqual(['1', '1', '1']);
    const end = (await t.entries()).at(-1);
    expect(end).toMatchObject({
      outcome: 'rolled-back',
      build: '2',
      reason: 'alarm orders-5xx (555555555555/eu-west-1) in ALARM',
    });
    expect(await t.current()).toMatchObject({ build: '1', rolledBackFrom: '2' });
    const last = (await t.events('2')).at(-1);
    expect(last?.detail).toMatchObject({ state: 'rolled-back', detail: expect.stringContaining('orders-5xx') });
    // The same build uploaded again is not shifted again.
    await t.upload('2', await makeFunctionZip('2'));
    expect(await t.served()).toEqual(['1', '1', '1']);
  });

  it('the built-in analysis rolls back a version whose handler throws, from real invocations through the alias', {
    timeout: 120_000,
  }, async () => {
    const t = await start({ policy: { canary: { percent: 50, minutes: 5 } }, analysis: { minInvocations: 10 } });
    await t.upload('2', await makeFailingFunctionZip('2'));
    expect(await t.served()).toEqual(['1 {"2":0.5}', '1 {"2":0.5}', '1 {"2":0.5}']);
    // Users call the alias: Lambda's own metrics (per ExecutedVersion) are all the analysis reads.
    const calls = await t.invoke(PROD_ACCOUNTS[0], 24);
    expect(calls).toEqual({ '1': { calls: 12, errors: 0 }, '2': { calls: 12, errors: 12 } });
    await t.tick(1);
    expect(await t.served()).toEqual(['1', '1', '1']);
    expect(await t.shift()).toMatchObject({ status: 'rolled-back', code: 'TRAFFIC_ANALYSIS_FAILED' });
    expect((await t.entries()).at(-1)?.reason).toMatch(
      /new version 100\.0% errors over 12 invocations, stable 0\.0% over 12/,
    );
    expect((await t.requests({ service: 'monitoring', operation: 'GetMetricData' })).length).toBeGreaterThan(0);
    expect(statesOf(await t.events('2')).at(-1)).toBe('rolled-back');
  });

  it('a failed before-traffic hook moves no traffic', async () => {
    const t = await start({
      policy: 'Canary10Percent5Minutes',
      hooks: { beforeTraffic: { payload: { smoke: true } } },
    });
    await t.upload('2', await makeFailingFunctionZip('2'));
    expect(await t.served()).toEqual(['1', '1', '1']);
    expect(await t.requests({ service: 'lambda', operation: 'UpdateAlias' })).toEqual([]);
    // The hook invoked the new version itself, once per target.
    const invokes = await t.requests({ service: 'lambda', operation: 'Invoke' });
    expect(invokes).toHaveLength(3);
    expect((await t.shift())?.reason).toMatch(/before-traffic hook failed/);
    expect(statesOf(await t.events('2'))).not.toContain('shifting');
    await t.tick(10);
    expect(await t.served()).toEqual(['1', '1', '1']);
  });

  it('a tick delivered twice advances once', async () => {
    const t = await start({ policy: 'Linear10PercentEvery1Minute', analysis: { enabled: false } });
    await t.upload('2', await makeFunctionZip('2'));
    await t.advance(60_000);
    const tick = () => t.tick(0);
    await Promise.all([tick(), tick()]);
    expect(await t.served()).toEqual(['1 {"2":0.2}', '1 {"2":0.2}', '1 {"2":0.2}']);
    expect((await t.shift())?.position.percent).toBe(20);
    // Delivered again later in the same minute: nothing is due.
    await tick();
    expect((await t.shift())?.position.percent).toBe(20);
    expect(statesOf(await t.events('2')).filter((s) => s === 'shifting')).toHaveLength(2);
  });

  it('a tick that dies between its state write and the alias moves is finished by the next, once', async () => {
    const t = await start({ policy: { linear: { percent: 10, everyMinutes: 10 } }, analysis: { enabled: false } });
    await t.upload('2', await makeFunctionZip('2'));
    // The first tick's Lambda is frozen on its UpdateAlias in the third account (as a crashed
    // container never returns): the state at 20 % is written, two aliases moved, one not.
    let release: (() => void) | undefined;
    const stop = t.world.sandbox.intercept(async (r) => {
      if (r.operation === 'UpdateAlias' && r.accountId === '666666666666' && !release) {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        throw new Error('the crashed run never sends this request');
      }
    });
    const crashed = t.tick(10).catch((error: unknown) => error);
    await expect.poll(() => release !== undefined).toBe(true);
    expect(await t.served()).toEqual(['1 {"2":0.2}', '1 {"2":0.2}', '1 {"2":0.1}']);
    expect((await t.shift())?.pending).not.toEqual([]);
    // The next tick comes after the dead run's lease has expired: it applies the pending moves and stops there.
    await t.advance(t.runtime.config.leaseSeconds * 1000);
    await t.tick(0);
    expect(await t.served()).toEqual(['1 {"2":0.2}', '1 {"2":0.2}', '1 {"2":0.2}']);
    expect(await t.shift()).toMatchObject({ status: 'in-flight', pending: [], position: { percent: 20 } });
    // The dead run's connection drops; it changes nothing more.
    release?.();
    stop();
    await crashed;
    expect((await t.shift())?.position.percent).toBe(20);
    expect(await t.served()).toEqual(['1 {"2":0.2}', '1 {"2":0.2}', '1 {"2":0.2}']);
    await t.tick(8);
    expect(await t.served()).toEqual(['1 {"2":0.3}', '1 {"2":0.3}', '1 {"2":0.3}']);
  });

  it('a newer build uploaded mid-shift supersedes it: traffic back, recorded, the newer build shifts', async () => {
    const t = await start({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } });
    await t.upload('2', await makeFunctionZip('2'));
    await t.tick(2);
    await t.upload('3', await makeFunctionZip('3'));
    expect(await t.served()).toEqual(['1 {"3":0.1}', '1 {"3":0.1}', '1 {"3":0.1}']);
    const entries = await t.entries();
    expect(entries.find((e) => e.build === '2' && e.outcome === 'superseded')).toBeDefined();
    expect(statesOf(await t.events('2'))).toContain('superseded');
    await t.tick(5);
    expect(await t.served()).toEqual(['3', '3', '3']);
    expect(await t.current()).toMatchObject({ build: '3' });
  });
});
