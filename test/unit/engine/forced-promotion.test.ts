import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import type { LedgerEntry } from '../../../src/core/ledger-model.js';
import { deployBuild } from '../../../src/engine/deploy-build.js';
import { promote } from '../../../src/engine/promote.js';
import { recordLog } from '../../support/record-log.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const rawConfig = {
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [{ account: '222222222222', function: 'orders-api' }],
        staging: [{ account: '333333333333', function: 'orders-api' }],
        prod: [{ account: '444444444444', function: 'orders-api' }],
      },
      promotions: [
        { from: 'dev', to: 'staging' },
        { from: 'staging', to: 'prod' },
      ],
    },
  },
};
const config = parseConfig(rawConfig);
const app = config.apps['orders-api'];
const prod = app?.targets.prod?.[0];
if (!app || !prod) throw new Error('config');

let world: UnitWorld;
const log = recordLog();
const entries = (stage: string) => world.docs<LedgerEntry>(`ledger/orders-api/${stage}/entries/`);

beforeEach(async () => {
  world = await startUnitWorld(rawConfig);
  const zip = await makeZip([{ name: 'index.mjs', content: 'export const build = 1;' }]);
  const { key, versionId } = await world.putArtifact('orders-api', '1', zip);
  await deployBuild(world.runtime, log, {
    app: app as NonNullable<typeof app>,
    build: '1',
    location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
    stages: ['dev'],
    trigger: 'upload',
  });
});
afterEach(() => world.stop());

describe('promoting across a pair without a rule', () => {
  it('is refused (dev → prod past staging), recorded, and nothing moves', async () => {
    const result = await promote(world.runtime, log, { app: 'orders-api', from: 'dev', to: 'prod', trigger: 'cli' });
    expect(result.status).toBe('refused');
    expect(result.reason).toMatch(/no promotion rule from dev to prod \(configured: dev→staging, staging→prod\)/);
    expect(world.fn(prod).versions).toEqual([]);
    expect(entries('prod')).toEqual([expect.objectContaining({ outcome: 'rejected', code: 'PROMOTION_NO_RULE' })]);
  });

  it('goes ahead with --force, and the ledger records the force and who used it', async () => {
    const result = await promote(world.runtime, log, {
      app: 'orders-api',
      from: 'dev',
      to: 'prod',
      trigger: 'cli',
      force: true,
      caller: 'arn:aws:sts::111111111111:assumed-role/operator/alice',
    });
    expect(result.status).toBe('promoted');
    const [entry] = entries('prod');
    expect(entry).toMatchObject({
      outcome: 'succeeded',
      build: '1',
      forced: ['rule'],
      caller: 'arn:aws:sts::111111111111:assumed-role/operator/alice',
    });
  });
});
