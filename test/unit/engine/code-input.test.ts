import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Target } from '../../../src/core/config.js';
import { deployToTargets } from '../../../src/engine/deploy-stage.js';
import type { PreparedArtifact } from '../../../src/engine/prepare-artifact.js';
import { MemoryLambda } from '../../support/memory-lambda.js';

const MiB = 1024 * 1024;
const BUCKET = 'ferry-artifacts';
const KEY = 'artifacts/orders-api/7.zip';

const target = (accountId: string, region: string): Target => ({
  id: `${accountId}/${region}/fn:live`,
  stage: 'dev',
  accountId,
  region,
  functionName: 'fn',
  alias: 'live',
  roleArn: `arn:aws:iam::${accountId}:role/ferry-deploy`,
});

function artifactOf(zip: Buffer, sizeBytes: number) {
  let reads = 0;
  const artifact: PreparedArtifact = {
    app: 'orders-api',
    build: '7',
    location: { bucket: BUCKET, key: KEY, versionId: 'v7', region: 'eu-west-1' },
    codeSha256: createHash('sha256').update(zip).digest('base64'),
    sizeBytes,
    readBytes: async () => {
      reads++;
      return zip;
    },
    dispose: async () => {},
  };
  return { artifact, reads: () => reads };
}

const deps = (memory: MemoryLambda) => ({
  lambdaFor: async (t: Target) => memory.port(t),
  now: Date.now,
  sleep: async () => {},
  random: () => 0,
});

describe('how the code reaches each target', () => {
  it('deploys every target in the bucket Region by the pinned object version, reading no artifact bytes', async () => {
    const zip = Buffer.from('tiny zip');
    const memory = new MemoryLambda((bucket, key, versionId) =>
      bucket === BUCKET && key === KEY && versionId === 'v7' ? zip : undefined,
    );
    const { artifact, reads } = artifactOf(zip, zip.length);
    const targets = [target('222222222222', 'eu-west-1'), target('333333333333', 'eu-west-1')];
    const outcomes = await deployToTargets({ artifact, targets, concurrency: 2 }, deps(memory));
    expect(outcomes.map((o) => o.status)).toEqual(['deployed', 'deployed']);
    expect(memory.s3CodeReads).toEqual([`${BUCKET}/${KEY}@v7`, `${BUCKET}/${KEY}@v7`]);
    expect(reads()).toBe(0);
  });

  it('sends the zip inline to a target in another Region, reading the spooled copy once', async () => {
    const zip = Buffer.from('small zip');
    const memory = new MemoryLambda();
    const { artifact, reads } = artifactOf(zip, zip.length);
    const targets = [target('222222222222', 'us-east-1'), target('333333333333', 'us-east-1')];
    const outcomes = await deployToTargets({ artifact, targets, concurrency: 2 }, deps(memory));
    expect(outcomes.map((o) => o.status)).toEqual(['deployed', 'deployed']);
    expect(memory.s3CodeReads).toEqual([]);
    expect(reads()).toBeGreaterThan(0);
  });

  it('fails only the other-Region target of an artifact too large to send inline, naming the fix', async () => {
    const zip = Buffer.from('large zip');
    const memory = new MemoryLambda((_b, _k, versionId) => (versionId === 'v7' ? zip : undefined));
    const { artifact } = artifactOf(zip, 100 * MiB);
    const outcomes = await deployToTargets(
      { artifact, targets: [target('222222222222', 'eu-west-1'), target('333333333333', 'us-east-1')], concurrency: 2 },
      deps(memory),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['deployed', 'failed']);
    expect(outcomes[1]?.error?.message).toMatch(/ferry \(and its bucket\) in us-east-1/);
  });
});
