import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import type { PipelineJob } from '../../../src/core/pipeline-job.js';
import { deployBuild } from '../../../src/engine/deploy-build.js';
import { runPipelineJob } from '../../../src/engine/pipeline-deploy.js';
import { runTrafficTick } from '../../../src/engine/traffic.js';
import { openArtifactStoreWithJobCredentials } from '../../../src/handlers/codepipeline-action.js';
import { recordLog } from '../../support/record-log.js';
import { startUnitWorld, TOOLING_ACCOUNT_ID, type UnitWorld } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const PIPELINE_BUCKET = 'pipeline-bucket';
const MINUTE = 60_000;
const ACCOUNTS = ['444444444444', '555555555555'];

let world: UnitWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

async function setup(alarm: 'OK' | 'ALARM' = 'OK') {
  const w = await startUnitWorld({
    artifactBucket: BUCKET,
    region: 'eu-west-1',
    externalId: 'ferry-ext',
    sessionDurationSeconds: 3600,
    stages: [{ name: 'prod', acceptsUploads: true }],
    apps: {
      orders: {
        targets: {
          prod: ACCOUNTS.map((account) => ({ account, function: 'orders' })),
        },
        traffic: { prod: { policy: 'Canary10Percent5Minutes', alarms: ['orders-5xx'] } },
      },
    },
  });
  world = w;
  const { sandbox } = w.world;
  const log = recordLog();
  for (const accountId of ACCOUNTS) {
    sandbox.cloudwatch.putMetricAlarm({ accountId, alarmName: 'orders-5xx', dimensions: { FunctionName: 'orders' } });
    sandbox.cloudwatch.setAlarmState({ accountId, alarmName: 'orders-5xx', stateValue: 'OK', stateReason: 'test' });
  }
  // A stable build, deployed all at once (no alias yet).
  const zip1 = await makeZip([{ name: 'index.mjs', content: 'export const v = 1;' }]);
  const { key, versionId } = await w.putArtifact('orders', '1', zip1);
  const app = w.runtime.config.apps.orders;
  if (!app) throw new Error('config');
  await deployBuild(w.runtime, log, {
    app,
    build: '1',
    location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
    stages: ['prod'],
    trigger: 'upload',
  });
  // The pipeline's input artifact, read with the job's own credentials (as CodePipeline hands them).
  sandbox.createBucket({ accountId: TOOLING_ACCOUNT_ID, name: PIPELINE_BUCKET, versioning: true });
  await w.world.s3Client().send(
    new PutObjectCommand({
      Bucket: PIPELINE_BUCKET,
      Key: 'run/out.zip',
      Body: await makeZip([{ name: 'index.mjs', content: 'export const v = 2;' }]),
    }),
  );
  const input = { name: 'out', bucket: PIPELINE_BUCKET, key: 'run/out.zip' };
  const created = sandbox.codepipeline.createJob({ accountId: TOOLING_ACCOUNT_ID, inputArtifacts: [input] });
  const artifactCredentials = created['CodePipeline.job'].data
    .artifactCredentials as PipelineJob['artifactCredentials'];
  const job = (token?: string): PipelineJob => ({
    jobId: '11111111-2222-3333-4444-555555555555',
    accountId: TOOLING_ACCOUNT_ID,
    inputArtifacts: [input],
    artifactCredentials,
    ...(token ? { continuationToken: token } : {}),
  });
  const run = (token?: string) =>
    runPipelineJob(
      {
        runtime: w.runtime,
        log,
        openSourceStore: (credentials) =>
          openArtifactStoreWithJobCredentials(credentials, 'eu-west-1', w.world.env, w.world.sdk),
        remainingTimeMs: () => 600_000,
        safetyMarginMs: 60_000,
      },
      job(token),
      { app: 'orders', stage: 'prod', build: '2' },
    );
  if (alarm === 'ALARM') {
    sandbox.cloudwatch.setAlarmState({
      accountId: '555555555555',
      alarmName: 'orders-5xx',
      stateValue: 'ALARM',
      stateReason: 'test',
    });
  }
  return { world: w, log, run };
}

describe('CodePipeline action with a traffic policy', () => {
  it('stays in progress while the shift runs and succeeds only at 100%', async () => {
    const { world: w, log, run } = await setup();
    const first = await run();
    expect(first).toMatchObject({ kind: 'continue', percentComplete: 10 });
    expect(first.kind === 'continue' && first.summary).toMatch(
      /shifting with Canary10Percent5Minutes, 10% on wave 1 of 1/,
    );
    expect(w.fn({ accountId: '444444444444', region: 'eu-west-1', functionName: 'orders' }).aliases).toEqual([
      { name: 'live', functionVersion: '1', routing: { '2': 0.1 } },
    ]);
    const token = first.kind === 'continue' ? first.continuationToken : '';
    w.advance(MINUTE);
    expect((await run(token)).kind).toBe('continue');
    w.advance(5 * MINUTE);
    await runTrafficTick(w.runtime, log);
    expect((await run(token)).kind).toBe('success');
    for (const accountId of ACCOUNTS)
      expect(w.aliasVersion({ accountId, region: 'eu-west-1', functionName: 'orders', alias: 'live' })).toBe('2');
  });

  it('fails with the gate’s reason when the shift rolls back', async () => {
    const { world: w, run } = await setup('ALARM');
    const report = await run();
    expect(report.kind).toBe('failure');
    expect(report.kind === 'failure' && report.message).toMatch(
      /the traffic shift ended rolled-back: alarm orders-5xx \(555555555555\/eu-west-1\) in ALARM/,
    );
    for (const accountId of ACCOUNTS)
      expect(w.fn({ accountId, region: 'eu-west-1', functionName: 'orders' }).aliases).toEqual([
        { name: 'live', functionVersion: '1', routing: {} },
      ]);
  });
});
