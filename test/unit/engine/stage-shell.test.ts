/** The shell a release and a rollback share: the stage's lease around the work, and the attempt it records. */
import { afterEach, describe, expect, it } from 'vitest';
import { runInStage } from '../../../src/engine/stage-shell.js';
import { recordLog } from '../../support/record-log.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';

const LEASE_KEY = 'leases/orders-api/dev.json';
const rawConfig = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  leaseSeconds: 60,
  stages: [{ name: 'dev' }],
  apps: { 'orders-api': { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } } },
};
type StoredLease = { build: string; owner: string; holder?: string; released?: boolean };

let world: UnitWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

describe('runInStage', () => {
  it('holds the stage lease while the work runs, names the attempt at its start, and releases the lease after', async () => {
    world = await startUnitWorld(rawConfig);
    const w = world;
    const log = recordLog();
    const startedAt = new Date(w.runtime.now()).toISOString();
    const seen = await runInStage(
      w.runtime,
      log,
      { app: 'orders-api', stage: 'dev', build: 'rollback', holder: 'arn:aws:iam::111111111111:user/ops' },
      async ({ attempt, held }) => {
        const during = w.readJson<StoredLease>(LEASE_KEY);
        return { attempt, owner: held.lease.owner, during };
      },
    );
    expect(seen.attempt.startedAt).toBe(startedAt);
    expect(seen.attempt.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.during).toMatchObject({ build: 'rollback', owner: seen.owner });
    expect(seen.during?.released).toBeUndefined();
    expect(w.readJson<StoredLease>(LEASE_KEY)?.released).toBe(true);
  });

  it('releases the lease when the work throws, and a second run then gets it at once', async () => {
    world = await startUnitWorld(rawConfig);
    const w = world;
    const scope = { app: 'orders-api', stage: 'dev', build: '7', holder: 'test', leaseWaitMs: 1 };
    await expect(
      runInStage(w.runtime, recordLog(), scope, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(w.readJson<StoredLease>(LEASE_KEY)?.released).toBe(true);
    await expect(runInStage(w.runtime, recordLog(), scope, async () => 'ran')).resolves.toBe('ran');
  });
});
