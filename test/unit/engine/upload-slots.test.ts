import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LambdaPort } from '../../../src/aws/lambda.js';
import type { Target } from '../../../src/core/config.js';
import { countUploadSlots, deployToTargets, INLINE_UPLOAD_BUDGET_BYTES } from '../../../src/engine/deploy-stage.js';
import type { PreparedArtifact } from '../../../src/engine/prepare-artifact.js';
import { MemoryLambda } from '../../support/memory-lambda.js';

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

  it('keeps inline uploads in flight within the budget', () => {
    for (const size of [1, 5 * MB, 20 * MB, 35 * MB]) {
      const slots = countUploadSlots(size);
      expect(slots === 1 || slots * 3 * size <= INLINE_UPLOAD_BUDGET_BYTES).toBe(true);
    }
  });
});

describe('deployToTargets', () => {
  it('keeps large inline uploads (another Region) within the memory budget, while other targets keep deploying', async () => {
    const memory = new MemoryLambda();
    const zip = Buffer.from('zip bytes');
    const targets: Target[] = Array.from({ length: 6 }, (_, i) => ({
      id: `22222222222${i}/us-east-1/fn:live`,
      stage: 'dev',
      accountId: `22222222222${i}`,
      region: 'us-east-1',
      functionName: 'fn',
      alias: 'live',
      roleArn: `arn:aws:iam::22222222222${i}:role/ferry-deploy`,
    }));
    let inFlight = 0;
    let maxInFlight = 0;
    const slowUploads = (port: LambdaPort): LambdaPort => ({
      ...port,
      async updateFunctionCode(input) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return port.updateFunctionCode(input);
      },
    });
    const artifact: PreparedArtifact = {
      app: 'orders-api',
      build: '1',
      location: { bucket: 'b', key: 'artifacts/orders-api/1.zip', versionId: 'v1', region: 'eu-west-1' },
      codeSha256: createHash('sha256').update(zip).digest('base64'),
      // Declared large: the budget is computed from the size, the bytes here stay tiny.
      sizeBytes: 35 * MB,
      readBytes: async () => zip,
      dispose: async () => {},
    };
    const outcomes = await deployToTargets(
      { artifact, targets, concurrency: 6 },
      {
        lambdaFor: async (target) => slowUploads(memory.port(target)),
        now: Date.now,
        sleep: async () => {},
        random: () => 0,
      },
    );
    expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill('deployed'));
    expect(maxInFlight).toBe(countUploadSlots(35 * MB));
    expect(countUploadSlots(35 * MB)).toBeLessThan(6);
  });
});
