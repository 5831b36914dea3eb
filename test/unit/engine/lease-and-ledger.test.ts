import { afterEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from '../../../src/core/errors.js';
import type { CurrentState, LedgerEntry } from '../../../src/core/ledger-model.js';
import { acquireLease, releaseLease, withLease } from '../../../src/engine/lease.js';
import { readHistory, recordAttempt } from '../../../src/engine/ledger.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';

const BUCKET = 'ferry-artifacts-111111111111';
const rawConfig = {
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  leaseSeconds: 60,
  stages: [{ name: 'dev' }, { name: 'prod' }],
  apps: { 'orders-api': { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } } },
};
let world: UnitWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});
async function createWorld(raw: unknown = rawConfig): Promise<UnitWorld> {
  world = await startUnitWorld(raw);
  return world;
}
const req = (build: string, maxWaitMs = 5_000) => ({
  app: 'orders-api',
  stage: 'dev',
  build,
  holder: 'test',
  maxWaitMs,
});

const LEASE_KEY = 'leases/orders-api/dev.json';
type StoredLease = { build: string; owner: string; expiresAt: string; released?: boolean };
const storedLease = (w: UnitWorld) => w.readJson<StoredLease>(LEASE_KEY);
const isLeaseRequest = (request: { path: string }) => request.path === `/${BUCKET}/${LEASE_KEY}`;

/** Resolves once the lease document has been read `count` times in all, counting from now. */
function leaseReadsReached(w: UnitWorld, count: number): Promise<void> {
  let reads = 0;
  return new Promise((resolve) => {
    const stop = w.world.sandbox.intercept((request) => {
      if (request.operation === 'GetObject' && isLeaseRequest(request) && ++reads >= count) {
        stop();
        resolve();
      }
    });
  });
}

/** Runs `hook` before every write to ferry's bucket until the returned function is called. */
function beforeEachPut(w: UnitWorld, hook: () => void | Promise<void>): () => void {
  return w.world.sandbox.intercept((request) => (request.operation === 'PutObject' ? hook() : undefined));
}

describe('lease', () => {
  it('serialises holders: the second waits until the first releases', async () => {
    const w = await createWorld();
    const { runtime } = w;
    const order: string[] = [];
    let releaseFirst: () => void = () => {};
    const first = withLease(runtime, req('1'), async () => {
      order.push('1 in');
      await new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      order.push('1 out');
    });
    await vi.waitUntil(() => order.length === 1);
    // The waiter has looked at the held lease three times (backing off in between) without entering.
    const waiterLookedThrice = leaseReadsReached(w, 3);
    const second = withLease(runtime, req('2'), async () => {
      order.push('2 in');
    });
    await waiterLookedThrice;
    expect(order).toEqual(['1 in']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['1 in', '1 out', '2 in']);
  });

  it('takes over a lease whose holder crashed once it expires', async () => {
    const world = await createWorld();
    await acquireLease(world.runtime, req('1'));
    world.advance(61_000);
    const held = await acquireLease(world.runtime, req('2'));
    expect(held.lease.build).toBe('2');
    expect(held.waitedMs).toBeLessThan(10);
  });

  it('gives up with a transient TimeoutError naming the holder', async () => {
    const world = await createWorld();
    await acquireLease(world.runtime, req('1'));
    const wait = acquireLease(world.runtime, req('2', 50));
    await expect(wait).rejects.toBeInstanceOf(TimeoutError);
    await expect(wait).rejects.toMatchObject({ code: 'LEASE_TIMEOUT', transient: true });
    await expect(wait).rejects.toThrowError(/build 1/);
  });

  it('a release after someone took over the expired lease does not clobber theirs', async () => {
    const world = await createWorld();
    const stale = await acquireLease(world.runtime, req('1'));
    world.advance(61_000);
    await acquireLease(world.runtime, req('2'));
    expect(await releaseLease(world.runtime, stale)).toBe(false);
    expect(storedLease(world)).toMatchObject({ build: '2' });
  });
});

describe('lease renewal', () => {
  it('a live holder renews its lease every leaseSeconds/3, so a waiter does not take it over while it works', async () => {
    const world = await createWorld();
    let waiter: Promise<unknown> = Promise.resolve();
    await withLease(world.runtime, req('1'), async () => {
      expect([...world.renewals].map((r) => r.everyMs)).toEqual([20_000]);
      for (let i = 0; i < 4; i++) {
        world.advance(20_000);
        await world.renewLeases();
      }
      // 80 s in, past the first expiry: the renewed lease still holds the stage.
      waiter = acquireLease(world.runtime, req('2', 0));
      await expect(waiter).rejects.toMatchObject({ code: 'LEASE_TIMEOUT' });
    });
    expect(storedLease(world)).toMatchObject({ build: '1', released: true });
  });

  it('a crashed holder stops renewing, so its lease lapses within leaseSeconds', async () => {
    const world = await createWorld();
    const crashed = await acquireLease(world.runtime, req('1'));
    world.advance(60_000);
    const next = await acquireLease(world.runtime, req('2', 0));
    expect(next).toMatchObject({ tookOver: 'expired', lease: { build: '2' } });
    expect(Date.parse(crashed.lease.expiresAt) - Date.parse(crashed.lease.acquiredAt)).toBe(60_000);
  });

  it('renews on the latest ETag and releases on it, without reporting a loss', async () => {
    const world = await createWorld();
    const lost: string[] = [];
    const etags: string[] = [];
    await withLease(
      world.runtime,
      req('1'),
      async (held) => {
        etags.push(held.etag);
        for (let i = 0; i < 3; i++) {
          world.advance(20_000);
          await world.renewLeases();
          etags.push(world.etagOf(LEASE_KEY) ?? '');
        }
      },
      (_held, { when }) => lost.push(when),
    );
    expect(new Set(etags).size).toBe(4);
    expect(lost).toEqual([]);
    expect(storedLease(world)?.released).toBe(true);
  });

  it('a renewal that finds the lease taken over reports it once and the run carries on without clobbering it', async () => {
    const world = await createWorld();
    const lost: string[] = [];
    const result = await withLease(
      world.runtime,
      req('1'),
      async () => {
        world.advance(61_000); // this run stalled past its expiry…
        await acquireLease(world.runtime, req('2', 0)); // …and another took the stage over
        await world.renewLeases();
        await world.renewLeases();
        return 'done';
      },
      (held, { when }) => lost.push(`${when}:${held.lease.build}`),
    );
    expect(result).toBe('done');
    expect(lost).toEqual(['renewal:1']);
    expect(storedLease(world)).toMatchObject({ build: '2' });
    expect(storedLease(world)?.released).toBeUndefined();
  });

  it('a renewal write that throws is not a take-over: the next renewal succeeds', async () => {
    const world = await createWorld();
    const lost: string[] = [];
    await withLease(
      world.runtime,
      req('1'),
      async () => {
        const restore = beforeEachPut(world, () => {
          throw new Error('socket hang up');
        });
        await world.renewLeases();
        restore();
        world.advance(20_000);
        await world.renewLeases();
      },
      (_held, { when }) => lost.push(when),
    );
    expect(lost).toEqual([]);
    expect(storedLease(world)?.released).toBe(true);
  });

  it('a release waits for a renewal in flight and uses the ETag it returns', async () => {
    const world = await createWorld();
    const lost: string[] = [];
    let letRenewalWrite: () => void = () => {};
    await withLease(
      world.runtime,
      req('1'),
      async () => {
        let held = false;
        const restore = beforeEachPut(
          world,
          () =>
            new Promise<void>((resolve) => {
              held = true;
              letRenewalWrite = resolve;
            }),
        );
        void world.renewLeases();
        await vi.waitUntil(() => held);
        restore();
        setImmediate(() => letRenewalWrite());
      },
      (_held, { when }) => lost.push(when),
    );
    expect(lost).toEqual([]);
    expect(storedLease(world)?.released).toBe(true);
  });

  it('stops renewing when the run ends, whether it returns or throws', async () => {
    const world = await createWorld();
    await withLease(world.runtime, req('1'), async () => {
      expect(world.renewals.size).toBe(1);
    });
    expect(world.renewals.size).toBe(0);
    await expect(
      withLease(world.runtime, req('2'), async () => {
        throw new Error('deploy failed');
      }),
    ).rejects.toThrowError('deploy failed');
    expect(world.renewals.size).toBe(0);
  });

  it("by default renews on an unref'd interval timer that is cleared when the run ends", async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const world = await createWorld();
      const { repeatEvery: _manual, ...deps } = world.runtime;
      const timers = vi.spyOn(globalThis, 'setInterval');
      await withLease(deps, req('1'), async () => {
        expect(vi.getTimerCount()).toBe(1);
        world.advance(20_000);
        await vi.advanceTimersByTimeAsync(20_000);
        // Renewed at the time the timer fired: one lease term from now.
        expect(storedLease(world)?.expiresAt).toBe(new Date(world.runtime.now() + 60_000).toISOString());
      });
      expect(vi.getTimerCount()).toBe(0);
      expect(timers).toHaveBeenCalledWith(expect.any(Function), 20_000);
      const timer = timers.mock.results[0]?.value as NodeJS.Timeout | undefined;
      expect(timer?.hasRef()).toBe(false);
    } finally {
      vi.restoreAllMocks();
      vi.useRealTimers();
    }
  });

  it('waits longer than leaseSeconds by default, so a retry after a crash takes the lease instead of timing out', async () => {
    const world = await createWorld({ ...rawConfig, leaseSeconds: 300 });
    const deps = world.runtime;
    await acquireLease(deps, { ...req('1'), maxWaitMs: undefined });
    const retry = await acquireLease(deps, { app: 'orders-api', stage: 'dev', build: '1', holder: 'retry' });
    expect(retry.tookOver).toBe('expired');
    expect(retry.waitedMs).toBeGreaterThanOrEqual(300_000);
    expect(retry.waitedMs).toBeLessThan(450_000);
  });

  it('the default wait stays bounded: 1.5 × leaseSeconds, then LEASE_TIMEOUT', async () => {
    const world = await createWorld();
    const deps = world.runtime;
    await acquireLease(deps, req('1'));
    // The holder keeps renewing: every time the waiter looks, the expiry is leaseSeconds from now
    // (a far-future expiry would be taken over as corrupt).
    const held = storedLease(world);
    world.world.sandbox.intercept(async (request) => {
      if (request.operation !== 'GetObject' || !request.path.endsWith(LEASE_KEY)) return;
      const expiresAt = new Date(world.runtime.now() + 60_000).toISOString();
      await world.putObject(LEASE_KEY, JSON.stringify({ ...held, expiresAt }));
    });
    const started = world.runtime.now();
    const wait = acquireLease(deps, { app: 'orders-api', stage: 'dev', build: '2', holder: 'retry' });
    await expect(wait).rejects.toMatchObject({ code: 'LEASE_TIMEOUT' });
    const waited = world.runtime.now() - started;
    expect(waited).toBeGreaterThanOrEqual(90_000);
    expect(waited).toBeLessThan(93_000);
  });
});

describe('corrupt lease', () => {
  it('a lease that is not JSON is taken over with If-Match on its ETag', async () => {
    const world = await createWorld();
    await world.putObject(LEASE_KEY, '{"owner":"a#1","expiresAt":"2026-11-23T08:0');
    const held = await acquireLease(world.runtime, req('2', 0));
    expect(held).toMatchObject({ tookOver: 'corrupt', lease: { build: '2' } });
    expect(storedLease(world)).toMatchObject({ build: '2' });
  });

  it('JSON that is not a lease object is taken over too', async () => {
    const world = await createWorld();
    await world.putObject(LEASE_KEY, 'null');
    expect(await acquireLease(world.runtime, req('2', 0))).toMatchObject({ tookOver: 'corrupt' });
  });

  it('a corrupt lease replaced between the read and the take-over is not clobbered', async () => {
    const world = await createWorld();
    await world.putObject(LEASE_KEY, '{not json');
    const live = {
      owner: 'other#1',
      app: 'orders-api',
      stage: 'dev',
      build: '7',
      acquiredAt: '2026-11-23T08:00:00.000Z',
    };
    // Another run's take-over lands between ferry's read and its conditional write.
    const restore = beforeEachPut(world, async () => {
      restore();
      await world.putObject(LEASE_KEY, JSON.stringify({ ...live, expiresAt: '2026-11-23T08:00:50.000Z' }));
    });
    await expect(acquireLease(world.runtime, req('2', 0))).rejects.toMatchObject({ code: 'LEASE_TIMEOUT' });
    expect(storedLease(world)).toMatchObject({ build: '7' });
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
    const world = await createWorld();
    // Every conditional write yields first, so the read-modify-write cycles interleave.
    beforeEachPut(world, () => new Promise((resolve) => setImmediate(resolve)));
    const builds = Array.from({ length: 12 }, (_, i) => String(i + 1));
    await Promise.all(
      builds.map((b, i) => recordAttempt(world.runtime, entry(b, new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()))),
    );
    const history = await readHistory(world.runtime, { app: 'orders-api', stage: 'dev', limit: 100 });
    expect(history.map((e) => e.build)).toEqual([...builds].reverse());
    expect(world.readJson<CurrentState>('ledger/orders-api/dev/current.json')?.build).toBe('12');
  });

  it('history honours the limit and reads across stages when none is given', async () => {
    const world = await createWorld();
    await recordAttempt(world.runtime, entry('1', '2026-01-01T00:00:00.000Z'));
    await recordAttempt(world.runtime, { ...entry('2', '2026-01-02T00:00:00.000Z'), stage: 'prod' });
    expect((await readHistory(world.runtime, { app: 'orders-api' })).map((e) => e.stage)).toEqual(['prod', 'dev']);
    expect(await readHistory(world.runtime, { app: 'orders-api', limit: 1 })).toHaveLength(1);
  });
});
