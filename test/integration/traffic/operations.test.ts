/**
 * How shifts meet the rest of ferry, over HTTP: `ferry rollback` and the overrides from the CLI,
 * scheduled promotion (soak from 100 %), the CodePipeline action's continuation, and waves whose
 * failure restores every earlier wave in one recorded decision.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineJobPort } from '../../../src/aws/codepipeline.js';
import { createCodePipelineActionHandler } from '../../../src/handlers/codepipeline-action.js';
import { createScheduledPromotionHandler } from '../../../src/handlers/scheduled-promotion.js';
import { createRuntime } from '../../../src/runtime/create-runtime.js';
import { runFerry } from '../../support/cli-world.js';
import { makeFunctionZip, TOOLING_ACCOUNT_ID } from '../../support/sandbox-harness.js';
import {
  MINUTE,
  REGION,
  startTrafficWorld,
  statesOf,
  type TrafficWorld,
  trafficConfig,
} from '../../support/traffic-world.js';

const FERRY_CALLER = `arn:aws:sts::${TOOLING_ACCOUNT_ID}:assumed-role/ferry-execution/ferry-lambda`;

let w: TrafficWorld | undefined;
let dir: string | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function start(config: unknown) {
  w = await startTrafficWorld(config);
  return w;
}

/** Runs the ferry CLI in process as the operator (ferry's role here), on the sandbox clock. */
async function ferry(t: TrafficWorld, ...argv: string[]) {
  dir ??= await mkdtemp(join(tmpdir(), 'ferry-traffic-it-'));
  return runFerry(argv, { ...process.env, ...t.world.env }, dir, {
    now: () => new Date(t.world.sandbox.clock.now()),
    createRuntime: (config, options) => createRuntime(config, { ...options, now: () => t.world.sandbox.clock.now() }),
  });
}

async function zipFile(build: string): Promise<string> {
  dir ??= await mkdtemp(join(tmpdir(), 'ferry-traffic-it-'));
  const path = join(dir, `${build}.zip`);
  await writeFile(path, await makeFunctionZip(build));
  return path;
}

describe('traffic shifts with the rest of ferry, over HTTP', () => {
  it('ferry rollback mid-shift puts traffic back on the stable version and ends the shift, recorded', async () => {
    const t = await start(trafficConfig({ prod: { policy: 'Canary10Percent5Minutes', analysis: { enabled: false } } }));
    await t.deployStable();
    await t.upload('2', await makeFunctionZip('2'));
    await t.tick(2);
    expect(await t.served()).toEqual(['1 {"2":0.1}', '1 {"2":0.1}', '1 {"2":0.1}']);
    const out = await ferry(t, 'rollback', '--app', 'orders', '--stage', 'prod');
    expect(out.code).toBe(0);
    expect(await t.served()).toEqual(['1', '1', '1']);
    expect(await t.shift()).toMatchObject({
      status: 'rolled-back',
      reason: `aborted by ferry rollback (${FERRY_CALLER})`,
    });
    expect(statesOf(await t.events('2')).at(-1)).toBe('rolled-back');
    expect(await t.current()).toMatchObject({ build: '1' });
    // The next ticks find nothing to advance.
    await t.tick(10);
    expect(await t.served()).toEqual(['1', '1', '1']);
  });

  it('ferry status shows an in-flight shift: the weights, the next step time and the gates', async () => {
    const t = await start(trafficConfig({ prod: { policy: 'Canary10Percent5Minutes', alarms: ['orders-5xx'] } }));
    await t.alarmEverywhere('orders-5xx', 'OK');
    await t.deployStable();
    await t.upload('2', await makeFunctionZip('2'));
    await t.tick(1);
    const shift = await t.shift();
    const next = new Date(Date.parse(shift?.position.since ?? '') + 5 * MINUTE).toISOString();
    const compact = await ferry(t, 'status');
    expect(compact.stdout).toContain('1 v1');
    expect(compact.stdout).toContain('→2 10%');
    expect(compact.stdout).toContain(
      `orders prod: shifting build 2 (Canary10Percent5Minutes, wave 1 of 1): 10% on 3 target(s); next step at ${next}; alarm orders-5xx (444444444444/eu-west-1) OK;`,
    );
    // ferry's own routing is not drift.
    expect(compact.stdout).not.toContain('DRIFT');
    expect(compact.stdout).not.toContain('routes 10%');
    const wide = await ferry(t, 'status', '--app', 'orders');
    expect(wide.stdout.split('\n').filter((line) => line.includes('shifting to 2: 10%'))).toHaveLength(3);
    const json = JSON.parse((await ferry(t, 'status', '--json')).stdout) as {
      rows: { stage: string; shift?: Record<string, unknown> }[];
    };
    expect(json.rows.find((r) => r.stage === 'prod')?.shift).toMatchObject({
      build: '2',
      policy: 'Canary10Percent5Minutes',
      phase: 'shifting',
      nextStepAt: next,
      weights: {
        '444444444444/eu-west-1/orders:live': 10,
        '555555555555/eu-west-1/orders:live': 10,
        '666666666666/eu-west-1/orders:live': 10,
      },
      gates: { alarms: expect.arrayContaining([{ name: 'orders-5xx (555555555555/eu-west-1)', state: 'OK' }]) },
    });
    // Once the shift is over, status shows the stage live on the new build and no shift.
    await t.tick(4);
    const after = await ferry(t, 'status');
    expect(after.stdout).not.toContain('shifting');
    expect(after.stdout).toContain('2 v2');
  });

  it('--ignore-alarms ships through a firing alarm and --traffic allAtOnce moves at once, each recorded with the caller', async () => {
    const t = await start(
      trafficConfig({ prod: { policy: 'Canary10Percent5Minutes', alarms: ['orders-5xx'] }, uploadsTo: 'staging' }),
    );
    await t.alarmEverywhere('orders-5xx', 'OK');
    expect(
      (await ferry(t, 'deploy', await zipFile('1'), '--app', 'orders', '--stage', 'prod', '--build', '1')).code,
    ).toBe(0);
    expect(await t.served()).toEqual(['1', '1', '1']);
    await t.setAlarm('555555555555', 'orders-5xx', 'ALARM');
    // A build shifted while the alarm fires is rolled back at once: the alarm blocks it.
    await ferry(t, 'deploy', await zipFile('2'), '--app', 'orders', '--stage', 'prod', '--build', '2');
    expect(await t.served()).toEqual(['1', '1', '1']);
    expect(await t.shift()).toMatchObject({ build: '2', status: 'rolled-back' });
    // The fix ships through it with --ignore-alarms: shifted, alarms not read.
    const fix = await ferry(
      t,
      'deploy',
      await zipFile('3'),
      '--app',
      'orders',
      '--stage',
      'prod',
      '--build',
      '3',
      '--ignore-alarms',
    );
    expect(fix.code).toBe(0);
    expect(await t.served()).toEqual(['1 {"3":0.1}', '1 {"3":0.1}', '1 {"3":0.1}']);
    await t.tick(1);
    expect(await t.served()).toEqual(['1 {"3":0.1}', '1 {"3":0.1}', '1 {"3":0.1}']);
    // And the next one all at once, superseding the shift.
    expect(
      (
        await ferry(
          t,
          'deploy',
          await zipFile('4'),
          '--app',
          'orders',
          '--stage',
          'prod',
          '--build',
          '4',
          '--traffic',
          'allAtOnce',
        )
      ).code,
    ).toBe(0);
    expect(await t.served()).toEqual(['4', '4', '4']);
    const entries = await t.entries();
    const overridesOf = (build: string) =>
      entries.filter((e) => e.build === build).flatMap((e) => (e.overrides ?? []).map((o) => `${o.caller} ${o.what}`));
    expect(new Set(overridesOf('3'))).toEqual(new Set([`${FERRY_CALLER} ignore alarms`]));
    expect(overridesOf('4')).toEqual([`${FERRY_CALLER} traffic allAtOnce`]);
    expect(entries.find((e) => e.build === '3' && e.outcome === 'superseded')).toBeDefined();
    expect(await t.current()).toMatchObject({ build: '4' });
  });

  it('promotion waits for 100% in the source stage and counts soak from there', async () => {
    const t = await start(
      trafficConfig({
        staging: { policy: 'Canary10Percent5Minutes', analysis: { enabled: false } },
        promotion: { minSoakMinutes: 3 },
        uploadsTo: 'staging',
      }),
    );
    const promote = createScheduledPromotionHandler(() => t.runtime, t.log);
    await t.upload('1', await makeFunctionZip('1'));
    await t.advance(3 * MINUTE);
    expect((await promote({})).results[0]).toMatchObject({ status: 'promoted', build: '1' });
    expect(await t.served('prod')).toEqual(['1', '1', '1']);

    await t.upload('2', await makeFunctionZip('2'));
    expect(await t.served('staging')).toEqual(['1 {"2":0.1}']);
    await t.tick(4);
    expect((await promote({})).results[0]?.status).toBe('nothing-to-promote');
    await t.tick(1);
    expect(await t.served('staging')).toEqual(['2']);
    // Live in staging since this tick: soak starts now, not when the shift started five minutes ago.
    expect((await promote({})).results[0]).toMatchObject({ status: 'waiting', build: '2' });
    await t.advance(2 * MINUTE);
    expect((await promote({})).results[0]?.status).toBe('waiting');
    expect(await t.served('prod')).toEqual(['1', '1', '1']);
    await t.advance(MINUTE);
    expect((await promote({})).results[0]).toMatchObject({ status: 'promoted', build: '2' });
    expect(await t.served('prod')).toEqual(['2', '2', '2']);
  });

  it('waves: a failed gate in the second wave restores the first one too, in one recorded decision', async () => {
    const t = await start(
      trafficConfig({
        prod: { policy: 'Canary10Percent5Minutes', alarms: ['orders-5xx'], waves: [1], bakeMinutes: 2 },
      }),
    );
    await t.alarmEverywhere('orders-5xx', 'OK');
    await t.deployStable();
    await t.upload('2', await makeFunctionZip('2'));
    expect(await t.served()).toEqual(['1 {"2":0.1}', '1', '1']);
    await t.tick(5);
    expect(await t.served()).toEqual(['2', '1', '1']);
    await t.tick(1);
    expect(await t.served()).toEqual(['2', '1', '1']);
    await t.tick(1);
    expect(await t.served()).toEqual(['2', '1 {"2":0.1}', '1 {"2":0.1}']);
    await t.setAlarm('666666666666', 'orders-5xx', 'ALARM');
    await t.tick(1);
    expect(await t.served()).toEqual(['1', '1', '1']);
    const decisions = (await t.entries()).filter((e) => e.build === '2' && e.outcome !== 'shifting');
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ outcome: 'rolled-back', reason: expect.stringContaining('666666666666') });
    expect(decisions[0]?.targets.map((r) => `${r.account} ${r.previousVersion}→${r.version}`)).toEqual([
      '444444444444 1→1',
      '555555555555 1→1',
      '666666666666 1→1',
    ]);
    expect(statesOf(await t.events('2')).filter((s) => s === 'rolled-back')).toHaveLength(1);
  });
});

describe('the CodePipeline action with a traffic policy, over HTTP', () => {
  const PIPELINE_BUCKET = 'codepipeline-eu-west-1-111111111111';
  const plenty = { getRemainingTimeInMillis: () => 600_000 };

  async function startPipeline() {
    const t = await start(
      trafficConfig({ prod: { policy: 'Canary10Percent5Minutes', alarms: ['orders-5xx'] }, uploadsTo: 'staging' }),
    );
    await t.alarmEverywhere('orders-5xx', 'OK');
    await ferry(t, 'deploy', await zipFile('1'), '--app', 'orders', '--stage', 'prod', '--build', '1');
    expect(await t.served()).toEqual(['1', '1', '1']);
    t.world.sandbox.createBucket({ accountId: TOOLING_ACCOUNT_ID, name: PIPELINE_BUCKET, versioning: true });
    await t.world
      .s3Client()
      .send(new PutObjectCommand({ Bucket: PIPELINE_BUCKET, Key: 'run/out.zip', Body: await makeFunctionZip('2') }));
    const codepipeline = new CodePipelineClient({ region: REGION });
    const handler = createCodePipelineActionHandler({
      getRuntime: () => t.runtime,
      getReporter: () => createPipelineJobPort(codepipeline),
      log: t.log,
      safetyMarginMs: 1_000,
    });
    const event = t.world.sandbox.codepipeline.createJob({
      accountId: TOOLING_ACCOUNT_ID,
      functionName: 'ferry',
      userParameters: '{"app":"orders","stage":"prod","build":"2"}',
      inputArtifacts: [{ name: 'BuildOutput', bucket: PIPELINE_BUCKET, key: 'run/out.zip' }],
    });
    return { t, handler, event, codepipeline };
  }

  it('stays in progress with a continuation token while the shift runs and succeeds only at 100%', async () => {
    const { t, handler, event, codepipeline } = await startPipeline();
    expect((await handler(event, plenty)).result).toBe('continue');
    const first = t.world.sandbox.codepipeline.getJobResult(event['CodePipeline.job'].id);
    expect(first?.success?.continuationToken).toEqual(expect.any(String));
    expect(await t.served()).toEqual(['1 {"2":0.1}', '1 {"2":0.1}', '1 {"2":0.1}']);
    // CodePipeline comes back before the step is over: still in progress.
    await t.tick(1);
    const second = first?.continuation;
    if (!second) throw new Error('no continued job');
    expect((await handler(second, plenty)).result).toBe('continue');
    const third = t.world.sandbox.codepipeline.getJobResult(second['CodePipeline.job'].id)?.continuation;
    if (!third) throw new Error('no continued job');
    await t.tick(4);
    expect(await t.served()).toEqual(['2', '2', '2']);
    expect((await handler(third, plenty)).result).toBe('success');
    expect(t.world.sandbox.codepipeline.getJobResult(third['CodePipeline.job'].id)?.status).toBe('Succeeded');
    codepipeline.destroy();
  });

  it("fails the job with the gate's reason when the shift rolls back", async () => {
    const { t, handler, event, codepipeline } = await startPipeline();
    expect((await handler(event, plenty)).result).toBe('continue');
    const next = t.world.sandbox.codepipeline.getJobResult(event['CodePipeline.job'].id)?.continuation;
    if (!next) throw new Error('no continued job');
    await t.setAlarm('444444444444', 'orders-5xx', 'ALARM');
    await t.tick(1);
    expect(await t.served()).toEqual(['1', '1', '1']);
    expect((await handler(next, plenty)).result).toBe('failure');
    const result = t.world.sandbox.codepipeline.getJobResult(next['CodePipeline.job'].id);
    expect(result?.status).toBe('Failed');
    expect(result?.failure?.failureDetails).toMatchObject({
      message: expect.stringContaining('alarm orders-5xx (444444444444/eu-west-1) in ALARM'),
    });
    codepipeline.destroy();
  });
});
