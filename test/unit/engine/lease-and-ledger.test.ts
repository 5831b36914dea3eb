import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import { TimeoutError } from '../../../src/core/errors.js';
import type { CurrentState, LedgerEntry } from '../../../src/core/ledger-model.js';
import { acquireLease, releaseLease, withLease } from '../../../src/engine/lease.js';
import { readHistory, recordAttempt } from '../../../src/engine/ledger.js';
import { createMemoryRuntime } from '../../support/memory-runtime.js';

const BUCKET = 'ferry-artifacts-111111111111';
const config = parseConfig({
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  leaseSeconds: 60,
  stages: [{ name: 'dev' }, { name: 'prod' }],
  apps: { 'orders-api': { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } } },
});
const req = (build: string, maxWaitMs = 5_000) => ({
  app: 'orders-api',
  stage: 'dev',
  build,
  holder: 'test',
  maxWaitMs,
});

describe('lease', () => {
  it('serialises holders: the second waits until the first releases', async () => {
    const { runtime } = createMemoryRuntime(config);
    const order: string[] = [];
    let releaseFirst: () => void = () => {};
    const first = withLease(runtime, req('1'), async () => {
      order.push('1 in');
      await new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      order.push('1 out');
    });
    await new Promise((resolve) => setImmediate(resolve));
    const second = withLease(runtime, req('2'), async () => {
      order.push('2 in');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['1 in']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['1 in', '1 out', '2 in']);
  });

  it('takes over a lease whose holder crashed once it expires', async () => {
    const world = createMemoryRuntime(config);
    await acquireLease(world.runtime, req('1'));
    world.advance(61_000);
    const held = await acquireLease(world.runtime, req('2'));
    expect(held.lease.build).toBe('2');
    expect(held.waitedMs).toBeLessThan(10);
  });

  it('gives up with a transient TimeoutError naming the holder', async () => {
    const world = createMemoryRuntime(config);
    await acquireLease(world.runtime, req('1'));
    const wait = acquireLease(world.runtime, req('2', 50));
    await expect(wait).rejects.toBeInstanceOf(TimeoutError);
    await expect(wait).rejects.toMatchObject({ code: 'LEASE_TIMEOUT', transient: true });
    await expect(wait).rejects.toThrowError(/build 1/);
  });

  it('a release after someone took over the expired lease does not clobber theirs', async () => {
    const world = createMemoryRuntime(config);
    const stale = await acquireLease(world.runtime, req('1'));
    world.advance(61_000);
    await acquireLease(world.runtime, req('2'));
    expect(await releaseLease(world.runtime, stale)).toBe(false);
    expect(world.s3.read<{ build: string; released?: boolean }>(BUCKET, 'leases/orders-api/dev.json')).toMatchObject({
      build: '2',
    });
  });
});

describe('ledger', () => {
  const entry = (build: string, at: string): LedgerEntry => ({
    schema: 1,
    id: `id-${build}`,
    app: 'orders-api',
    stage: 'dev',
    build,
    codeSha256: `sha-${build}`,
    targets: [
      { targetId: 't', account: '2', region: 'r', function: 'f', alias: 'live', version: build, outcome: 'deployed' },
    ],
    trigger: 'upload',
    caller: 'arn',
    startedAt: at,
    endedAt: at,
    outcome: 'succeeded',
  });

  it('concurrent writers never lose an entry and the current state ends at the newest build', async () => {
    const world = createMemoryRuntime(config);
    // Every conditional write yields first, so the read-modify-write cycles interleave.
    world.s3.beforePut = () => new Promise((resolve) => setImmediate(resolve));
    const builds = Array.from({ length: 12 }, (_, i) => String(i + 1));
    await Promise.all(
      builds.map((b, i) => recordAttempt(world.runtime, entry(b, new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()))),
    );
    const history = await readHistory(world.runtime, { app: 'orders-api', stage: 'dev', limit: 100 });
    expect(history.map((e) => e.build)).toEqual([...builds].reverse());
    expect(world.s3.read<CurrentState>(BUCKET, 'ledger/orders-api/dev/current.json')?.build).toBe('12');
  });

  it('history honours the limit and reads across stages when none is given', async () => {
    const world = createMemoryRuntime(config);
    await recordAttempt(world.runtime, entry('1', '2026-01-01T00:00:00.000Z'));
    await recordAttempt(world.runtime, { ...entry('2', '2026-01-02T00:00:00.000Z'), stage: 'prod' });
    expect((await readHistory(world.runtime, { app: 'orders-api' })).map((e) => e.stage)).toEqual(['prod', 'dev']);
    expect(await readHistory(world.runtime, { app: 'orders-api', limit: 1 })).toHaveLength(1);
  });
});
