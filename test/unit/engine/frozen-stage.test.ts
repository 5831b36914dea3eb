/**
 * No object can freeze a stage: a lease claiming to expire far in the future is taken over, and
 * with a build pattern an absurd build id never becomes a stage's current build.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import type { CurrentState, LedgerEntry } from '../../../src/core/ledger-model.js';
import { BuildStatus, deployBuild } from '../../../src/engine/deploy-build.js';
import { recordLog } from '../../support/record-log.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const rawConfig = {
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  stages: [{ name: 'dev' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      buildPattern: '\\d{8}-\\d{1,4}',
      targets: { dev: [{ account: '222222222222', function: 'orders-api' }] },
    },
  },
};
const config = parseConfig(rawConfig);
const app = config.apps['orders-api'];
if (!app) throw new Error('config');

let world: UnitWorld;
const log = recordLog();

async function upload(build: string) {
  const zip = await makeZip([{ name: 'index.mjs', content: `export const build = '${build}';` }]);
  const { key, versionId } = await world.putArtifact('orders-api', build, zip);
  return deployBuild(world.runtime, log, {
    app: app as NonNullable<typeof app>,
    build,
    location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
    stages: ['dev'],
    trigger: 'upload',
    leaseWaitMs: 1_000,
  });
}

beforeEach(async () => {
  world = await startUnitWorld(rawConfig);
});
afterEach(() => world.stop());

describe('nothing can freeze a stage', () => {
  it('a lease that claims to expire in the year 9999 is corrupt: the next deployment takes it over', async () => {
    await world.putObject(
      'leases/orders-api/dev.json',
      JSON.stringify({
        owner: 'someone#1',
        app: 'orders-api',
        stage: 'dev',
        build: 'x',
        acquiredAt: '2026-11-23T08:00:00.000Z',
        expiresAt: '9999-12-31T23:59:59.999Z',
      }),
    );
    const result = await upload('20261123-1');
    expect(result.status).toBe(BuildStatus.Succeeded);
  });

  it('a build id outside the app pattern is rejected and recorded; it never becomes current', async () => {
    await upload('20261123-1');
    const absurd = await upload('99999999999999');
    expect(absurd.status).toBe(BuildStatus.Rejected);
    expect(absurd.error?.message).toMatch(/does not match apps\.orders-api\.buildPattern/);
    const entries = world.docs<LedgerEntry>('ledger/orders-api/dev/entries/');
    expect(entries.find((e) => e.build === '99999999999999')).toMatchObject({
      outcome: 'rejected',
      code: 'BUILD_PATTERN_MISMATCH',
    });
    expect((await upload('20261123-2')).status).toBe(BuildStatus.Succeeded);
    expect(world.readJson<CurrentState>('ledger/orders-api/dev/current.json')?.build).toBe('20261123-2');
  });
});
