import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deployUpload } from '../../../src/engine/deploy-upload.js';
import { recordLog } from '../../support/record-log.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const rawConfig = {
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  stages: [{ name: 'dev' }, { name: 'prod' }],
  apps: { 'orders-api': { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } } },
};
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');
let world: UnitWorld;
let log: ReturnType<typeof recordLog>;

beforeEach(async () => {
  world = await startUnitWorld(rawConfig);
  log = recordLog();
});
afterEach(() => world.stop());

describe('the upload trigger and copies made by the CodePipeline action', () => {
  const upload = async (build: string, metadata: Record<string, string>, zip?: Buffer) => {
    const body = zip ?? (await makeZip([{ name: 'index.mjs', content: build }]));
    const { versionId } = await world.world.upload('orders-api', build, body, metadata);
    return deployUpload(world.runtime, log, {
      bucket: BUCKET,
      key: `artifacts/orders-api/${build}.zip`,
      ...(versionId ? { versionId } : {}),
      region: 'eu-west-1',
    });
  };
  const record = (build: string, codeSha256: string) =>
    world.putObject(
      `ledger/orders-api/_staged/${build}.json`,
      JSON.stringify({
        schema: 1,
        kind: 'pipeline',
        app: 'orders-api',
        build,
        key: `artifacts/orders-api/${build}.zip`,
        codeSha256,
        caller: 'arn:aws:sts::111111111111:assumed-role/ferry/x',
        jobId: 'job-1',
        recordedAt: '2026-11-23T08:00:00.000Z',
      }),
    );
  const ledger = () => world.docs<Record<string, unknown>>('ledger/').filter((e) => 'outcome' in e);
  const updates = () => world.world.sandbox.countRequests({ service: 'lambda', operation: 'UpdateFunctionCode' });

  it('leaves a copy ferry recorded to the pipeline: nothing deployed, the skip in the ledger', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'pipeline build 7' }]);
    await record('7', sha256(zip));
    const result = await upload('7', { 'ferry-trigger': 'pipeline' }, zip);
    expect(result).toMatchObject({ app: 'orders-api', build: '7', status: 'succeeded', stages: [] });
    expect(updates()).toBe(0);
    expect(ledger()).toEqual([
      expect.objectContaining({ stage: '_upload', build: '7', outcome: 'skipped', code: 'FERRY_COPY' }),
    ]);
  });

  it('deploys an upload that only sets the metadata key: the marker alone proves nothing', async () => {
    const result = await upload('9', { 'ferry-trigger': 'pipeline' });
    expect(result.status).toBe('succeeded');
    expect(updates()).toBe(1);
    expect(ledger()).toEqual([expect.objectContaining({ stage: 'dev', build: '9', outcome: 'succeeded' })]);
    expect(log.lines.find((l) => l.message === 'upload claims to be a ferry copy')?.attributes.reason).toMatch(
      /ferry recorded no such copy/,
    );
  });

  it('deploys other bytes uploaded over a recorded copy (the checksum does not match the record)', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'pipeline build 10' }]);
    await record('10', sha256(zip));
    const result = await upload('10', { 'ferry-trigger': 'pipeline' });
    expect(result.status).toBe('succeeded');
    expect(updates()).toBe(1);
  });

  it('still deploys an ordinary upload', async () => {
    const result = await upload('8', { commit: 'abc123' });
    expect(result.status).toBe('succeeded');
    expect(updates()).toBe(1);
    expect(
      world.aliasVersion({ accountId: '222222222222', region: 'eu-west-1', functionName: 'orders-api', alias: 'live' }),
    ).toBe('1');
  });
});
