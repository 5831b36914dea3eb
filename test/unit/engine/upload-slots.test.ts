import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { INLINE_MAX_BYTES } from '../../../src/core/code-source.js';
import { countUploadSlots, deployToTargets } from '../../../src/engine/deploy-stage.js';
import type { PreparedArtifact } from '../../../src/engine/prepare-artifact.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const MB = 1024 * 1024;

describe('countUploadSlots', () => {
  it.each([
    [35 * MB, 2],
    [45 * MB, 1],
    [10 * MB, 8],
    [1 * MB, 85],
  ])('%d bytes → %d', (sizeBytes, slots) => {
    expect(countUploadSlots(sizeBytes)).toBe(slots);
  });

  it('always leaves one slot, and never gives a larger artifact more slots than a smaller one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: INLINE_MAX_BYTES }),
        fc.integer({ min: 0, max: INLINE_MAX_BYTES }),
        (a, b) => {
          const [small, large] = a <= b ? [a, b] : [b, a];
          const slotsSmall = countUploadSlots(small);
          const slotsLarge = countUploadSlots(large);
          expect(slotsLarge).toBeGreaterThanOrEqual(1);
          expect(slotsLarge).toBeLessThanOrEqual(slotsSmall);
          expect(Number.isFinite(slotsSmall)).toBe(true);
        },
      ),
    );
  });
});

describe('deployToTargets', () => {
  let world: UnitWorld | undefined;
  afterEach(async () => {
    await world?.stop();
    world = undefined;
  });

  // Targets in another Region than the artifact bucket get the zip inline (Lambda reads S3 only in its Region).
  it.each([
    { sizeBytes: 35 * MB, slots: 2 },
    { sizeBytes: 20 * MB, slots: 4 },
  ])(
    'sends at most $slots inline uploads of $sizeBytes bytes at once, while every target deploys',
    async ({ sizeBytes, slots }) => {
      const accounts = Array.from({ length: 6 }, (_, i) => `22222222222${i}`);
      world = await startUnitWorld({
        artifactBucket: 'ferry-artifacts-111111111111',
        region: 'eu-west-1',
        externalId: 'ferry-ext',
        stages: [{ name: 'dev' }],
        apps: {
          'orders-api': {
            targets: { dev: accounts.map((account) => ({ account, function: 'fn', region: 'us-east-1' })) },
          },
        },
      });
      const w = world;
      // Every UpdateFunctionCode is held for a turn of the event loop, so uploads overlap when allowed to.
      let inFlight = 0;
      let maxInFlight = 0;
      w.world.sandbox.intercept(async (request) => {
        if (request.operation !== 'UpdateFunctionCode') return;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
      });
      const zip = await makeZip([{ name: 'index.mjs', content: 'export const handler = async () => 1;' }]);
      const artifact: PreparedArtifact = {
        app: 'orders-api',
        build: '1',
        location: { bucket: 'b', key: 'artifacts/orders-api/1.zip', versionId: 'v1', region: 'eu-west-1' },
        codeSha256: createHash('sha256').update(zip).digest('base64'),
        // Declared large: the slots are computed from the size, the bytes sent stay tiny.
        sizeBytes,
        readBytes: async () => zip,
        dispose: async () => {},
      };
      const outcomes = await deployToTargets({ artifact, targets: w.world.targets, concurrency: 6 }, w.runtime);
      expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill('deployed'));
      expect(countUploadSlots(sizeBytes)).toBe(slots);
      expect(maxInFlight).toBe(slots);
      for (const target of w.world.targets) expect(w.aliasVersion(target), target.id).toBe('1');
    },
  );
});
