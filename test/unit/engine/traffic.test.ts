import { InvokeCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import type { CurrentState, LedgerEntry } from '../../../src/core/ledger-model.js';
import type { ShiftState } from '../../../src/core/traffic-shift.js';
import { BuildStatus, deployBuild, StageStatus } from '../../../src/engine/deploy-build.js';
import { promote } from '../../../src/engine/promote.js';
import { rollback } from '../../../src/engine/rollback.js';
import { advanceShift, runTrafficTick } from '../../../src/engine/traffic.js';
import { recordLog } from '../../support/record-log.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';
import { makeZip } from '../../support/zips.js';

const BUCKET = 'ferry-artifacts-111111111111';
const MINUTE = 60_000;
const PROD_ACCOUNTS = ['444444444444', '555555555555', '666666666666'];
const raw = (
  traffic: Record<string, unknown>,
  promotionTraffic?: Record<string, unknown>,
  appExtra: Record<string, unknown> = {},
) => ({
  artifactBucket: BUCKET,
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  // Shifts run for virtual minutes; the SDK caches a session's credentials on the wall clock.
  sessionDurationSeconds: 3600,
  stages: [{ name: 'dev' }, { name: 'prod', acceptsUploads: true }],
  apps: {
    orders: {
      targets: {
        dev: [{ account: '222222222222', function: 'orders' }],
        prod: PROD_ACCOUNTS.map((account) => ({ account, function: 'orders' })),
      },
      traffic: { prod: traffic },
      promotions: [{ from: 'dev', to: 'prod', ...(promotionTraffic ? { traffic: promotionTraffic } : {}) }],
      ...appExtra,
    },
  },
});

let world: UnitWorld;
let log: ReturnType<typeof recordLog>;

/** A world on the in-process sandbox; `run: true` runs the functions' handlers (hooks, real invocations). */
async function setup(
  traffic: Record<string, unknown>,
  promotionTraffic?: Record<string, unknown>,
  options: { run?: boolean; keepVersions?: number } = {},
) {
  const extra = options.keepVersions ? { keepVersions: options.keepVersions } : {};
  const config = parseConfig(raw(traffic, promotionTraffic, extra));
  world = await startUnitWorld(raw(traffic, promotionTraffic, extra), {
    lambda: { executeHandlers: options.run ?? false, weightedRouting: 'even' },
  });
  log = recordLog();
  return config;
}

afterEach(async () => {
  await world?.stop();
});

/** A build's handler: answers with its build; 'failsSmoke' throws on a hook's `{ smoke: true }` only; 'fails' always throws. */
type Behaviour = 'works' | 'failsSmoke' | 'fails';
const codeOf = (build: string, behaviour: Behaviour) => {
  const fails = { works: 'false', failsSmoke: 'event?.smoke === true', fails: 'true' }[behaviour];
  return `export const handler = async (event) => { if (${fails}) throw new Error('${build} failed'); return '${build}'; };`;
};

async function deploy(
  build: string,
  stage = 'prod',
  extra: Record<string, unknown> = {},
  behaviour: Behaviour = 'works',
) {
  const app = world.runtime.config.apps.orders;
  if (!app) throw new Error('config');
  const zip = await makeZip([{ name: 'index.mjs', content: codeOf(build, behaviour) }]);
  const { key, versionId } = await world.putArtifact('orders', build, zip);
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
    const a = world.fn(t).aliases.find((x) => x.name === 'live');
    return a ? `${a.functionVersion}${Object.keys(a.routing).length ? ` ${JSON.stringify(a.routing)}` : ''}` : 'none';
  });
const shift = () => world.readJson<ShiftState>('ledger/orders/prod/traffic.json');
const current = (stage = 'prod') => world.readJson<CurrentState>(`ledger/orders/${stage}/current.json`);
const entries = (stage = 'prod') => world.docs<LedgerEntry>(`ledger/orders/${stage}/entries/`);
/** The states of ferry's notifications about a build, as EventBridge accepted them. */
const eventStates = (build?: string) =>
  world.world.sandbox.eventbridge
    .captured({ source: 'ferry' })
    .filter((e) => (build === undefined ? e.detail.build !== '1' : e.detail.build === build))
    .map((e) => String((e.detail as { state?: unknown }).state));
const requests = () => world.world.sandbox.requests();
const tick = async (minutes = 1) => {
  world.advance(minutes * MINUTE);
  return runTrafficTick(world.runtime, log);
};

/** The alarm in every prod account, created as the operator would, in the given state. */
function alarmEverywhere(name: string, state: 'OK' | 'ALARM') {
  for (const accountId of PROD_ACCOUNTS) {
    world.world.sandbox.cloudwatch.putMetricAlarm({
      accountId,
      alarmName: name,
      dimensions: { FunctionName: 'orders' },
    });
    setAlarm(accountId, name, state);
  }
}
function setAlarm(accountId: string, name: string, state: 'OK' | 'ALARM') {
  world.world.sandbox.cloudwatch.setAlarmState({ accountId, alarmName: name, stateValue: state, stateReason: 'test' });
}

/** A first build everywhere (all at once: no stable version yet), then the build under test. */
async function withStable() {
  const first = await deploy('1');
  expect(first.status).toBe(BuildStatus.Succeeded);
  expect(aliases()).toEqual(['1', '1', '1']);
}

describe('traffic shifts', () => {
  it('canary: 10% at once, 100% after 5 minutes; the stage goes live only at 100%', async () => {
    await setup({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } });
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
    expect(eventStates()).toEqual(['started', 'shifting', 'shifting', 'succeeded']);
    // Nothing in flight: the next tick reads the index and stops (no other call to any service).
    const before = requests().length;
    expect((await tick()).inFlight).toBe(0);
    expect(
      requests()
        .slice(before)
        .map((r) => `${r.service}:${r.operation}:${r.status}`),
    ).toEqual(['s3:GetObject:200']);
  });

  it('an alarm in ALARM mid-shift puts traffic back within one tick, naming the alarm', async () => {
    await setup({ policy: 'Linear10PercentEvery1Minute', alarms: ['orders-5xx'] });
    alarmEverywhere('orders-5xx', 'OK');
    await withStable();
    await deploy('2');
    await tick();
    expect(aliases()[0]).toBe('1 {"2":0.2}');
    setAlarm('555555555555', 'orders-5xx', 'ALARM');
    await tick();
    expect(aliases()).toEqual(['1', '1', '1']);
    const end = entries().find((e) => e.outcome === 'rolled-back');
    expect(end?.reason).toBe('alarm orders-5xx (555555555555/eu-west-1) in ALARM');
    expect(current()).toMatchObject({ build: '1', rolledBackFrom: '2' });
    // A redelivery of the rolled-back build is not shifted again.
    expect((await deploy('2')).status).toBe(BuildStatus.Skipped);
  });

  it('the built-in analysis rolls back a new version that errs, with no alarm configured', async () => {
    await setup({ policy: 'Canary10Percent5Minutes', analysis: { minInvocations: 10 } });
    await withStable();
    await deploy('2');
    // What Lambda publishes for calls through the alias, per ExecutedVersion: version 1 served 90
    // calls without error on every target, version 2 served 10 on the first target and all failed.
    // Stamped now: ferry and the sandbox share the unit world's one clock.
    const [first] = targetsOf();
    const publish = (accountId: string, version: string, metricName: string, value: number) =>
      world.world.sandbox.cloudwatch.putMetricData({
        accountId,
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: { FunctionName: 'orders', Resource: 'orders:live', ExecutedVersion: version },
        value,
        at: world.runtime.now(),
      });
    for (const accountId of PROD_ACCOUNTS) {
      publish(accountId, '1', 'Invocations', 90);
      publish(accountId, '1', 'Errors', 0);
    }
    publish(first?.accountId ?? '', '2', 'Invocations', 10);
    publish(first?.accountId ?? '', '2', 'Errors', 10);
    await tick();
    expect(aliases()).toEqual(['1', '1', '1']);
    expect(shift()).toMatchObject({ status: 'rolled-back', code: 'TRAFFIC_ANALYSIS_FAILED' });
    expect(eventStates().at(-1)).toBe('rolled-back');
    expect(world.world.sandbox.requests({ service: 'monitoring', operation: 'GetMetricData' }).length).toBeGreaterThan(
      0,
    );
  });

  it('the built-in analysis judges real invocations through the alias (Lambda metrics on the shared clock)', async () => {
    await setup({ policy: 'Canary50Percent5Minutes', analysis: { minInvocations: 6 } }, undefined, { run: true });
    await withStable();
    await deploy('2', 'prod', {}, 'fails');
    expect(aliases()).toEqual(['1 {"2":0.5}', '1 {"2":0.5}', '1 {"2":0.5}']);
    // Users call the first target's alias; the sandbox's Lambda runs the handlers and publishes
    // Invocations and Errors per ExecutedVersion, stamped on the clock ferry reads.
    const [first] = targetsOf();
    const lambda = world.lambdaAs(first?.accountId ?? '');
    const served: string[] = [];
    for (let i = 0; i < 12; i++) {
      const out = await lambda.send(new InvokeCommand({ FunctionName: 'orders', Qualifier: 'live' }));
      served.push(`${out.ExecutedVersion}${out.FunctionError ? '!' : ''}`);
    }
    expect(served.filter((v) => v === '2!')).toHaveLength(6);
    expect(served.filter((v) => v === '1')).toHaveLength(6);
    await tick();
    expect(aliases()).toEqual(['1', '1', '1']);
    expect(shift()).toMatchObject({ status: 'rolled-back', code: 'TRAFFIC_ANALYSIS_FAILED' });
    expect(shift()?.reason).toMatch(/new version 100\.0% errors over 6 invocations, stable 0\.0% over 6/);
  });

  it('a failed before-traffic hook moves no traffic', async () => {
    await setup(
      { policy: 'Canary10Percent5Minutes', hooks: { beforeTraffic: { payload: { smoke: true } } } },
      undefined,
      { run: true },
    );
    await withStable();
    // Build 2 fails only when called with the hook's payload: its failure shows the payload arrived.
    const result = await deploy('2', 'prod', {}, 'failsSmoke');
    expect(result.stages[0]?.status).toBe(StageStatus.Failed);
    expect(aliases()).toEqual(['1', '1', '1']);
    const { sandbox } = world.world;
    for (const accountId of PROD_ACCOUNTS) {
      expect(sandbox.requests({ service: 'lambda', accountId, operation: 'Invoke' })).toHaveLength(1);
      // The hook called version 2 itself, not the alias.
      const invocations = (resource: string) =>
        sandbox.cloudwatch.datapoints({
          accountId,
          namespace: 'AWS/Lambda',
          metricName: 'Invocations',
          dimensions: { FunctionName: 'orders', Resource: resource },
        });
      expect(invocations('orders:2')).toHaveLength(1);
      expect(invocations('orders:live')).toEqual([]);
      // Build 1 created the alias; nothing moved since.
      expect(sandbox.requests({ service: 'lambda', accountId, operation: 'UpdateAlias' })).toEqual([]);
    }
    expect(shift()?.reason).toMatch(/before-traffic hook failed: the new version failed on 3 of 3 target/);
  });

  it('prunes old versions once a shift completes at 100%, never while routing is in flight', async () => {
    await setup({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } }, undefined, { keepVersions: 1 });
    await withStable();
    await deploy('2');
    await tick(5);
    expect(aliases()).toEqual(['2', '2', '2']);
    await deploy('3');
    const versions = () =>
      targetsOf().map((t) =>
        world
          .fn(t)
          .versions.map((v) => v.version)
          .join(','),
      );
    // Mid-shift: the stable version (2), the new one (3), and even the oldest stay.
    expect(versions()).toEqual(['1,2,3', '1,2,3', '1,2,3']);
    await tick(5);
    expect(aliases()).toEqual(['3', '3', '3']);
    // At 100%: version 1 goes; 2 (the stable version, the rollback target) and 3 stay.
    expect(versions()).toEqual(['2,3', '2,3', '2,3']);
    expect(log.lines.filter((l) => l.message === 'pruned old versions')).toHaveLength(3);
  });

  it('refuses weighted routing between versions with different roles, moving no traffic', async () => {
    await setup({ policy: 'Canary10Percent5Minutes' });
    await withStable();
    // Someone gives the second target's function another execution role: version 2 has it, version 1 not.
    const [, second] = targetsOf();
    if (!second) throw new Error('config');
    await world.lambdaAs(second.accountId).send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'orders',
        Role: `arn:aws:iam::${second.accountId}:role/orders-other-execution-role`,
      }),
    );
    await deploy('2');
    expect(world.fn(second).versions.map((v) => v.version)).toContain('2');
    expect(aliases()).toEqual(['1', '1', '1']);
    expect(shift()).toMatchObject({ status: 'failed', code: 'TRAFFIC_ROUTING_REFUSED' });
  });

  it('a tick delivered twice, or after a crash between the state write and the alias moves, advances once', async () => {
    await setup({ policy: 'Linear10PercentEvery1Minute', analysis: { enabled: false } });
    await withStable();
    await deploy('2');
    world.advance(MINUTE);
    const [a, b] = await Promise.all([runTrafficTick(world.runtime, log), runTrafficTick(world.runtime, log)]);
    expect([a, b].every((s) => s.results.every((r) => r.error === undefined))).toBe(true);
    expect(shift()?.position.percent).toBe(20);
    // Crash: the next state is written with its moves pending, and nothing applied.
    const s = shift() as ShiftState;
    await world.putObject(
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
    await setup({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } });
    await withStable();
    await deploy('2');
    const result = await deploy('3');
    expect(result.stages[0]?.status).toBe(StageStatus.Shifting);
    expect(aliases()).toEqual(['1 {"3":0.1}', '1 {"3":0.1}', '1 {"3":0.1}']);
    expect(entries().some((e) => e.outcome === 'superseded' && e.build === '2')).toBe(true);
    expect(eventStates()).toContain('superseded');
    expect((await deploy('2')).status).toBe(BuildStatus.Skipped);
  });

  it('waves: one account, then the rest after a bake; a failed gate in wave 2 restores wave 1 too, in one decision', async () => {
    await setup({ policy: 'Canary10Percent5Minutes', alarms: ['orders-5xx'], waves: [1], bakeMinutes: 10 });
    alarmEverywhere('orders-5xx', 'OK');
    await withStable();
    await deploy('2');
    expect(aliases()).toEqual(['1 {"2":0.1}', '1', '1']);
    await tick(5);
    expect(aliases()).toEqual(['2', '1', '1']);
    await tick(9);
    expect(aliases()).toEqual(['2', '1', '1']);
    await tick(1);
    expect(aliases()).toEqual(['2', '1 {"2":0.1}', '1 {"2":0.1}']);
    setAlarm('666666666666', 'orders-5xx', 'ALARM');
    await tick();
    expect(aliases()).toEqual(['1', '1', '1']);
    const rolledBack = entries().filter((e) => e.outcome === 'rolled-back');
    expect(rolledBack).toHaveLength(1);
  });

  it('abort through the operator command, recorded with the caller', async () => {
    await setup({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } });
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
    await setup({ policy: 'Canary10Percent5Minutes', analysis: { enabled: false } });
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
    await setup({ policy: 'Canary10Percent5Minutes', alarms: ['orders-5xx'] });
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
    await setup(
      { policy: 'Canary10Percent30Minutes', analysis: { enabled: false } },
      { policy: 'Canary50Percent1Minute' },
    );
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
