import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import type { CurrentState, LedgerEntry } from '../../../src/core/ledger-model.js';
import type { ShiftState } from '../../../src/core/traffic-shift.js';
import { BuildStatus, deployBuild, StageStatus } from '../../../src/engine/deploy-build.js';
import { promote } from '../../../src/engine/promote.js';
import { rollback } from '../../../src/engine/rollback.js';
import { advanceShift, runTrafficTick } from '../../../src/engine/traffic.js';
import { createMemoryRuntime, type MemoryRuntime } from '../../support/memory-runtime.js';
import { recordLog } from '../../support/record-log.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const MINUTE = 60_000;
const raw = (traffic: Record<string, unknown>, promotionTraffic?: Record<string, unknown>) => ({
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  stages: [{ name: 'dev' }, { name: 'prod', acceptsUploads: true }],
  apps: {
    orders: {
      targets: {
        dev: [{ account: '222222222222', function: 'orders' }],
        prod: [
          { account: '444444444444', function: 'orders' },
          { account: '555555555555', function: 'orders' },
          { account: '666666666666', function: 'orders' },
        ],
      },
      traffic: { prod: traffic },
      promotions: [{ from: 'dev', to: 'prod', ...(promotionTraffic ? { traffic: promotionTraffic } : {}) }],
    },
  },
});

let world: MemoryRuntime;
let log: ReturnType<typeof recordLog>;

function setup(traffic: Record<string, unknown>, promotionTraffic?: Record<string, unknown>) {
  const config = parseConfig(raw(traffic, promotionTraffic));
  world = createMemoryRuntime(config);
  log = recordLog();
  return config;
}

async function deploy(build: string, stage = 'prod', extra: Record<string, unknown> = {}) {
  const app = world.runtime.config.apps.orders;
  if (!app) throw new Error('config');
  const zip = await makeZip([{ name: 'index.mjs', content: `export const build = '${build}';` }]);
  const key = `artifacts/orders/${build}.zip`;
  const versionId = world.s3.addArtifact(BUCKET, key, zip);
  return deployBuild(world.runtime, log, {
    app,
    build,
    location: { bucket: BUCKET, key, versionId, region: 'eu-west-1' },
    stages: [stage],
    trigger: 'upload',
    ...extra,
  });
}

const targetsOf = (stage = 'prod') => world.runtime.config.apps.orders?.targets[stage] ?? [];
const aliases = (stage = 'prod') =>
  targetsOf(stage).map((t) => {
    const a = world.lambda.fn(t).aliases.get('live');
    return a ? `${a.functionVersion}${Object.keys(a.routing).length ? ` ${JSON.stringify(a.routing)}` : ''}` : 'none';
  });
const shift = () => world.s3.read<ShiftState>(BUCKET, 'ledger/orders/prod/traffic.json');
const current = (stage = 'prod') => world.s3.read<CurrentState>(BUCKET, `ledger/orders/${stage}/current.json`);
const entries = (stage = 'prod') => world.s3.docs<LedgerEntry>(BUCKET, `ledger/orders/${stage}/entries/`);
const tick = async (minutes = 1) => {
  world.advance(minutes * MINUTE);
  return runTrafficTick(world.runtime, log);
};

/** A first build everywhere (all at once: no stable version yet), then the build under test. */
async function withStable() {
  const first = await deploy('1');
  expect(first.status).toBe(BuildStatus.Succeeded);
  expect(aliases()).toEqual(['1', '1', '1']);
}

describe('traffic shifts', () => {
  beforeEach(() => undefined);

  it('canary: 10% at once, 100% after 5 minutes; the stage goes live only at 100%', async () => {
    setup({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } });
    await withStable();
    const liveBefore = current()?.liveSince;
    const result = await deploy('2');
    expect(result.stages[0]?.status).toBe(StageStatus.Shifting);
    expect(aliases()).toEqual(['1 {"2":0.1}', '1 {"2":0.1}', '1 {"2":0.1}']);
    expect(current()?.build).toBe('1');
    await tick(4);
    expect(aliases()).toEqual(['1 {"2":0.1}', '1 {"2":0.1}', '1 {"2":0.1}']);
    await tick(1);
    expect(aliases()).toEqual(['2', '2', '2']);
    expect(shift()?.status).toBe('succeeded');
    expect(current()?.build).toBe('2');
    expect(current()?.liveSince).not.toBe(liveBefore);
    expect(entries().map((e) => e.outcome)).toEqual(expect.arrayContaining(['shifting', 'succeeded']));
    expect(world.events.states()).toEqual(['started', 'shifting', 'shifting', 'succeeded']);
    // Nothing in flight: the next tick reads the index and stops.
    const reads = world.s3.reads.length;
    expect((await tick()).inFlight).toBe(0);
    expect(world.s3.reads.slice(reads)).toEqual(['ledger/_traffic/in-flight.json']);
  });

  it('an alarm in ALARM mid-shift puts traffic back within one tick, naming the alarm', async () => {
    setup({ policy: 'Linear10PercentEvery1Minute', alarms: ['orders-5xx'] });
    for (const a of ['444444444444', '555555555555', '666666666666']) world.cloudwatch.setAlarm(a, 'orders-5xx', 'OK');
    await withStable();
    await deploy('2');
    await tick();
    expect(aliases()[0]).toBe('1 {"2":0.2}');
    world.cloudwatch.setAlarm('555555555555', 'orders-5xx', 'ALARM');
    await tick();
    expect(aliases()).toEqual(['1', '1', '1']);
    const end = entries().find((e) => e.outcome === 'rolled-back');
    expect(end?.reason).toBe('alarm orders-5xx (555555555555/eu-west-1) in ALARM');
    expect(current()).toMatchObject({ build: '1', rolledBackFrom: '2' });
    // A redelivery of the rolled-back build is not shifted again.
    expect((await deploy('2')).status).toBe(BuildStatus.Skipped);
  });

  it('the built-in analysis rolls back a new version that errs, with no alarm configured', async () => {
    setup({ policy: 'Canary10Percent5Minutes', analysis: { minInvocations: 10 } });
    await withStable();
    await deploy('2');
    const [t] = targetsOf();
    for (const target of targetsOf())
      world.cloudwatch.setSample(target.accountId, 'orders', '1', { invocations: 90, errors: 0 });
    world.cloudwatch.setSample(t?.accountId ?? '', 'orders', '2', { invocations: 10, errors: 10 });
    await tick();
    expect(aliases()).toEqual(['1', '1', '1']);
    expect(shift()).toMatchObject({ status: 'rolled-back', code: 'TRAFFIC_ANALYSIS_FAILED' });
    expect(world.events.states().at(-1)).toBe('rolled-back');
  });

  it('a failed before-traffic hook moves no traffic', async () => {
    setup({ policy: 'Canary10Percent5Minutes', hooks: { beforeTraffic: { payload: { smoke: true } } } });
    await withStable();
    for (const t of targetsOf()) world.lambda.fn(t).failingVersions.add('2');
    const result = await deploy('2');
    expect(result.stages[0]?.status).toBe(StageStatus.Failed);
    expect(aliases()).toEqual(['1', '1', '1']);
    const fn = world.lambda.fn(targetsOf()[0] ?? ({} as never));
    expect(fn.invocations).toEqual([{ qualifier: '2', payload: { smoke: true } }]);
    expect(fn.calls.filter((c) => c === 'UpdateAlias')).toEqual([]); // build 1 created the alias; nothing moved since
    expect(shift()?.reason).toMatch(/before-traffic hook failed: the new version failed on 3 of 3 target/);
  });

  it('refuses weighted routing between versions with different roles, moving no traffic', async () => {
    setup({ policy: 'Canary10Percent5Minutes' });
    await withStable();
    const [, second] = targetsOf();
    if (second) world.lambda.fn(second).refuseRouting = true;
    await deploy('2');
    expect(aliases()).toEqual(['1', '1', '1']);
    expect(shift()).toMatchObject({ status: 'failed', code: 'TRAFFIC_ROUTING_REFUSED' });
  });

  it('a tick delivered twice, or after a crash between the state write and the alias moves, advances once', async () => {
    setup({ policy: 'Linear10PercentEvery1Minute', analysis: { enabled: false } });
    await withStable();
    await deploy('2');
    world.advance(MINUTE);
    const [a, b] = await Promise.all([runTrafficTick(world.runtime, log), runTrafficTick(world.runtime, log)]);
    expect([a, b].every((s) => s.results.every((r) => r.error === undefined))).toBe(true);
    expect(shift()?.position.percent).toBe(20);
    // Crash: the next state is written with its moves pending, and nothing applied.
    const s = shift() as ShiftState;
    world.s3.putDoc(
      BUCKET,
      'ledger/orders/prod/traffic.json',
      JSON.stringify({
        ...s,
        seq: s.seq + 1,
        position: { ...s.position, percent: 30, step: 2 },
        pending: [{ kind: 'route', targetIds: s.waves[0], percent: 30 }],
      }),
    );
    await tick(0);
    expect(aliases()[2]).toBe('1 {"2":0.3}');
    expect(shift()?.pending).toEqual([]);
    expect(shift()?.position.percent).toBe(30);
  });

  it('a newer build supersedes the shift: traffic back, recorded, and the newer build shifts', async () => {
    setup({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } });
    await withStable();
    await deploy('2');
    const result = await deploy('3');
    expect(result.stages[0]?.status).toBe(StageStatus.Shifting);
    expect(aliases()).toEqual(['1 {"3":0.1}', '1 {"3":0.1}', '1 {"3":0.1}']);
    expect(entries().some((e) => e.outcome === 'superseded' && e.build === '2')).toBe(true);
    expect(world.events.states()).toContain('superseded');
    expect((await deploy('2')).status).toBe(BuildStatus.Skipped);
  });

  it('waves: one account, then the rest after a bake; a failed gate in wave 2 restores wave 1 too, in one decision', async () => {
    setup({ policy: 'Canary10Percent5Minutes', alarms: ['orders-5xx'], waves: [1], bakeMinutes: 10 });
    for (const a of ['444444444444', '555555555555', '666666666666']) world.cloudwatch.setAlarm(a, 'orders-5xx', 'OK');
    await withStable();
    await deploy('2');
    expect(aliases()).toEqual(['1 {"2":0.1}', '1', '1']);
    await tick(5);
    expect(aliases()).toEqual(['2', '1', '1']);
    await tick(9);
    expect(aliases()).toEqual(['2', '1', '1']);
    await tick(1);
    expect(aliases()).toEqual(['2', '1 {"2":0.1}', '1 {"2":0.1}']);
    world.cloudwatch.setAlarm('666666666666', 'orders-5xx', 'ALARM');
    await tick();
    expect(aliases()).toEqual(['1', '1', '1']);
    const rolledBack = entries().filter((e) => e.outcome === 'rolled-back');
    expect(rolledBack).toHaveLength(1);
  });

  it('abort through the operator command, recorded with the caller', async () => {
    setup({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } });
    await withStable();
    await deploy('2');
    await advanceShift(world.runtime, log, 'orders', 'prod', {
      command: { kind: 'abort', caller: 'arn:aws:iam::1:user/alice' },
    });
    expect(aliases()).toEqual(['1', '1', '1']);
    const end = entries().find((e) => e.outcome === 'rolled-back');
    expect(end?.overrides).toEqual([expect.objectContaining({ caller: 'arn:aws:iam::1:user/alice', what: 'abort' })]);
  });

  it('ferry rollback aborts an in-flight shift: traffic back on the stable version, recorded', async () => {
    setup({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } });
    await withStable();
    await deploy('2');
    const result = await rollback(world.runtime, log, {
      app: 'orders',
      stage: 'prod',
      trigger: 'cli',
      caller: 'arn:carol',
    });
    expect(result).toMatchObject({ status: 'rolled-back', fromBuild: '2', toBuild: '1' });
    expect(aliases()).toEqual(['1', '1', '1']);
    expect(shift()).toMatchObject({ status: 'rolled-back', reason: 'aborted by ferry rollback (arn:carol)' });
    await tick(10);
    expect(aliases()).toEqual(['1', '1', '1']);
  });

  it('--traffic allAtOnce and --ignore-alarms are recorded with the caller; allAtOnce moves the alias at once', async () => {
    setup({ policy: 'Canary10Percent5Minutes', alarms: ['orders-5xx'] });
    await withStable();
    await deploy('2', 'prod', {
      caller: 'arn:aws:iam::1:user/bob',
      overrides: { traffic: 'allAtOnce', ignoreAlarms: true },
    });
    expect(aliases()).toEqual(['2', '2', '2']);
    const entry = entries().find((e) => e.build === '2');
    expect(entry?.overrides?.map((o) => `${o.caller} ${o.what}`)).toEqual([
      'arn:aws:iam::1:user/bob traffic allAtOnce',
      'arn:aws:iam::1:user/bob ignore alarms',
    ]);
  });

  it('promotion uses the rule override and waits for 100% before promoting further', async () => {
    setup({ policy: 'Canary10Percent30Minutes', analysis: { enabled: false } }, { policy: 'Canary50Percent1Minute' });
    await withStable();
    await deploy('2', 'dev');
    const promoted = await promote(world.runtime, log, { app: 'orders', from: 'dev', to: 'prod', trigger: 'schedule' });
    expect(promoted.reason).toMatch(/shifting with Canary50Percent1Minute/);
    expect(aliases()).toEqual(['1 {"2":0.5}', '1 {"2":0.5}', '1 {"2":0.5}']);
    expect(current()?.build).toBe('1');
    await tick(1);
    expect(current()?.build).toBe('2');
  });
});
