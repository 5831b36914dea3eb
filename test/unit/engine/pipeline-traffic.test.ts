import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import type { PipelineJob } from '../../../src/core/pipeline-job.js';
import { deployBuild } from '../../../src/engine/deploy-build.js';
import { runPipelineJob } from '../../../src/engine/pipeline-deploy.js';
import { runTrafficTick } from '../../../src/engine/traffic.js';
import { createMemoryRuntime } from '../../support/memory-runtime.js';
import { MemoryS3 } from '../../support/memory-s3.js';
import { recordLog } from '../../support/record-log.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const MINUTE = 60_000;

async function setup(alarm: 'OK' | 'ALARM' = 'OK') {
  const config = parseConfig({
    artifactBucket: BUCKET,
    region: 'eu-west-1',
    stages: [{ name: 'prod', acceptsUploads: true }],
    apps: {
      orders: {
        targets: {
          prod: [
            { account: '444444444444', function: 'orders' },
            { account: '555555555555', function: 'orders' },
          ],
        },
        traffic: { prod: { policy: 'Canary10Percent5Minutes', alarms: ['orders-5xx'] } },
      },
    },
  });
  const world = createMemoryRuntime(config);
  const log = recordLog();
  for (const account of ['444444444444', '555555555555']) world.cloudwatch.setAlarm(account, 'orders-5xx', 'OK');
  // A stable build, deployed all at once (no alias yet).
  const zip1 = await makeZip([{ name: 'index.mjs', content: 'export const v = 1;' }]);
  const versionId = world.s3.addArtifact(BUCKET, 'artifacts/orders/1.zip', zip1);
  const app = config.apps.orders;
  if (!app) throw new Error('config');
  await deployBuild(world.runtime, log, {
    app,
    build: '1',
    location: { bucket: BUCKET, key: 'artifacts/orders/1.zip', versionId, region: 'eu-west-1' },
    stages: ['prod'],
    trigger: 'upload',
  });
  const source = new MemoryS3();
  source.addArtifact(
    'pipeline-bucket',
    'run/out.zip',
    await makeZip([{ name: 'index.mjs', content: 'export const v = 2;' }]),
  );
  const job = (token?: string): PipelineJob => ({
    jobId: '11111111-2222-3333-4444-555555555555',
    accountId: '111111111111',
    inputArtifacts: [{ name: 'out', bucket: 'pipeline-bucket', key: 'run/out.zip' }],
    artifactCredentials: { accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' },
    ...(token ? { continuationToken: token } : {}),
  });
  const run = (token?: string) =>
    runPipelineJob(
      {
        runtime: world.runtime,
        log,
        openSourceStore: () => source.store(),
        remainingTimeMs: () => 600_000,
        safetyMarginMs: 60_000,
      },
      job(token),
      { app: 'orders', stage: 'prod', build: '2' },
    );
  if (alarm === 'ALARM') world.cloudwatch.setAlarm('555555555555', 'orders-5xx', 'ALARM');
  return { world, log, run };
}

describe('CodePipeline action with a traffic policy', () => {
  it('stays in progress while the shift runs and succeeds only at 100%', async () => {
    const { world, log, run } = await setup();
    const first = await run();
    expect(first).toMatchObject({ kind: 'continue', percentComplete: 10 });
    expect(first.kind === 'continue' && first.summary).toMatch(
      /shifting with Canary10Percent5Minutes, 10% on wave 1 of 1/,
    );
    const token = first.kind === 'continue' ? first.continuationToken : '';
    world.advance(MINUTE);
    expect((await run(token)).kind).toBe('continue');
    world.advance(5 * MINUTE);
    await runTrafficTick(world.runtime, log);
    expect((await run(token)).kind).toBe('success');
  });

  it('fails with the gate’s reason when the shift rolls back', async () => {
    const { run } = await setup('ALARM');
    const report = await run();
    expect(report.kind).toBe('failure');
    expect(report.kind === 'failure' && report.message).toMatch(
      /the traffic shift ended rolled-back: alarm orders-5xx \(555555555555\/eu-west-1\) in ALARM/,
    );
  });
});
