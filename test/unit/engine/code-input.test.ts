import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Target } from '../../../src/core/config.js';
import { deployToTargets } from '../../../src/engine/deploy-stage.js';
import type { PreparedArtifact } from '../../../src/engine/prepare-artifact.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const MiB = 1024 * 1024;
const BUCKET = 'ferry-artifacts-111111111111';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');

let world: UnitWorld;
beforeEach(async () => {
  world = await startUnitWorld({
    artifactBucket: BUCKET,
    region: 'eu-west-1',
    externalId: 'ferry-ext',
    stages: [{ name: 'dev' }],
    apps: {
      'orders-api': {
        targets: {
          dev: [
            { account: '222222222222', function: 'fn' },
            { account: '333333333333', function: 'fn' },
            { account: '444444444444', function: 'fn', region: 'us-east-1' },
            { account: '555555555555', function: 'fn', region: 'us-east-1' },
          ],
        },
      },
    },
  });
});
afterEach(() => world.stop());

const targetsIn = (region: string): Target[] => world.world.targets.filter((t) => t.region === region);

/** Uploads `zip` as build 7 and prepares it as the engine would, counting reads of the spooled copy. */
async function artifactOf(zip: Buffer, sizeBytes = zip.length) {
  const { key, versionId } = await world.putArtifact('orders-api', '7', zip);
  let reads = 0;
  const artifact: PreparedArtifact = {
    app: 'orders-api',
    build: '7',
    location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
    codeSha256: sha256(zip),
    sizeBytes,
    readBytes: async () => {
      reads++;
      return zip;
    },
    dispose: async () => {},
  };
  return { artifact, reads: () => reads };
}

describe('how the code reaches each target', () => {
  it('deploys every target in the bucket Region by the pinned object version, reading no artifact bytes', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'export const v = 7;' }]);
    const { artifact, reads } = await artifactOf(zip);
    // Someone uploads other bytes under the same key afterwards: the pinned version is what deploys.
    await world.putArtifact('orders-api', '7', await makeZip([{ name: 'index.mjs', content: 'other' }]));
    const targets = targetsIn('eu-west-1');
    const outcomes = await deployToTargets({ artifact, targets, concurrency: 2 }, world.runtime);
    expect(outcomes.map((o) => o.status)).toEqual(['deployed', 'deployed']);
    for (const t of targets) expect(world.fn(t).latest.codeSha256, t.id).toBe(sha256(zip));
    expect(reads()).toBe(0);
  });

  it('sends the zip inline to a target in another Region, reading the spooled copy', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'small' }]);
    const { artifact, reads } = await artifactOf(zip);
    const targets = targetsIn('us-east-1');
    const outcomes = await deployToTargets({ artifact, targets, concurrency: 2 }, world.runtime);
    expect(outcomes.map((o) => o.status)).toEqual(['deployed', 'deployed']);
    for (const t of targets) expect(world.fn(t).latest.codeSha256, t.id).toBe(sha256(zip));
    expect(reads()).toBeGreaterThan(0);
  });

  it('fails only the other-Region target of an artifact too large to send inline, naming the fix', async () => {
    const zip = await makeZip([{ name: 'index.mjs', content: 'large' }]);
    // Declared large: the choice is made from the size, the bytes stay tiny.
    const { artifact } = await artifactOf(zip, 100 * MiB);
    const [near] = targetsIn('eu-west-1');
    const [far] = targetsIn('us-east-1');
    if (!near || !far) throw new Error('config');
    const outcomes = await deployToTargets({ artifact, targets: [near, far], concurrency: 2 }, world.runtime);
    expect(outcomes.map((o) => o.status)).toEqual(['deployed', 'failed']);
    expect(outcomes[1]?.error?.message).toMatch(/ferry \(and its bucket\) in us-east-1/);
    expect(world.fn(far).versions).toEqual([]);
  });
});
