/**
 * 6. Traffic shifting, counted by the sandbox in sandbox time: how fast a failing gate brings
 * traffic back, and what a shift costs in Lambda requests. One stage of several functions in one
 * account ships a linear shift (20 % every minute) driven by ferry's traffic-tick handler, one
 * tick per sandbox minute, as the one-minute EventBridge rule does. Two gates fail mid-shift:
 * a CloudWatch alarm entering ALARM, and (no alarm configured) a metric datapoint showing the
 * new version failing, which ferry's built-in analysis judges. Measured: ticks and seconds of
 * sandbox time from the failure to every alias back on its stable version with no routing, and
 * the Lambda requests per target of that rollback; and Lambda requests per target per shift step.
 * In process: nothing here is wall-clock time.
 */
import { makeFunctionZip } from '@ferry/aws-sandbox';
import { type FerryWorld, startFerryWorld } from '../../scripts/demo/ferry-world.js';
import type { Target } from '../../src/core/config.js';
import { createTrafficTickHandler } from '../../src/handlers/traffic-tick.js';
import type { BenchContext } from '../lib/context.js';
import { createSilentLog } from '../lib/context.js';
import { type Row, RowStatus, type SectionResult } from '../lib/report.js';
import { round } from '../lib/stats.js';

const TITLE = '6. Traffic shifting';
const ACCOUNT = '222222222222';
const ALARM = 'orders-errors';
const MINUTE = 60_000;
/** The targets: back within the next tick, with at most 3 Lambda requests per target. */
const ROLLBACK_TICKS_TARGET = 1;
const ROLLBACK_REQUESTS_TARGET = 3;

type Gate = 'alarm' | 'analysis';

function buildConfig(gate: Gate, functions: number) {
  return {
    artifactBucket: 'ferry-bench-traffic-111111111111',
    region: 'eu-west-1',
    externalId: 'ferry-bench-external-id',
    stages: [{ name: 'dev', acceptsUploads: true }],
    apps: {
      orders: {
        targets: {
          dev: Array.from({ length: functions }, (_, i) => ({ account: ACCOUNT, function: `orders-${i + 1}` })),
        },
        traffic: {
          dev: {
            policy: { linear: { percent: 20, everyMinutes: 1 } },
            ...(gate === 'alarm'
              ? { alarms: [ALARM], analysis: { enabled: false } }
              : { analysis: { minInvocations: 5 } }),
          },
        },
      },
    },
  };
}

interface GateRun {
  readonly gate: Gate;
  /** Lambda requests per target in each tick that moved the weight one step. */
  readonly stepRequests: number[];
  readonly ticksToRollback: number;
  readonly sandboxSecondsToRollback: number;
  readonly rollbackRequestsPerTarget: number;
  readonly rolledBack: boolean;
}

export async function benchTraffic(ctx: BenchContext): Promise<SectionResult> {
  const functions = ctx.smoke ? 2 : 5;
  const runs: GateRun[] = [];
  for (const gate of ['alarm', 'analysis'] as const) {
    ctx.progress(`6: a ${gate} gate fails mid-shift (${functions} functions)`);
    runs.push(await measureGate(gate, functions));
  }
  const rows: Row[] = runs.map((run) => {
    const met =
      run.rolledBack &&
      run.ticksToRollback <= ROLLBACK_TICKS_TARGET &&
      run.rollbackRequestsPerTarget <= ROLLBACK_REQUESTS_TARGET;
    return {
      measure: `${run.gate === 'alarm' ? 'alarm enters ALARM' : 'metric datapoint shows the new version failing (built-in analysis, no alarm)'} → every alias back on its stable version`,
      result: run.rolledBack
        ? `${run.ticksToRollback} tick, ${run.sandboxSecondsToRollback} s of sandbox time; ${round(run.rollbackRequestsPerTarget, 1)} Lambda requests per target`
        : 'not rolled back',
      target: `within the next tick; ≤ ${ROLLBACK_REQUESTS_TARGET} Lambda requests per target`,
      status: met ? RowStatus.Met : RowStatus.Missed,
      note: `the gate fails just after a tick (the worst case: a whole tick interval of ${MINUTE / 1000} s); ${functions} functions in one account`,
    };
  });
  const steps = runs.flatMap((r) => r.stepRequests);
  const perStep = steps.length > 0 ? steps.reduce((a, b) => a + b, 0) / steps.length : Number.NaN;
  rows.push({
    measure: 'Lambda requests per target per shift step (linear 20 % every minute)',
    result: `${round(perStep, 1)}`,
    target: '–',
    status: RowStatus.Info,
    note: `mean over ${steps.length} steps, ${runs.length} shifts; the tick that moves a step reads its gates and moves every alias of the wave`,
  });
  return { id: 'traffic', title: TITLE, rows, figures: { functions, runs } };
}

async function measureGate(gate: Gate, functions: number): Promise<GateRun> {
  const world = await startFerryWorld({ config: buildConfig(gate, functions), lambda: { updateDelayMs: 200 } });
  try {
    const { sandbox } = world;
    const log = createSilentLog();
    const runtime = world.createRuntime({ now: () => sandbox.clock.now() });
    const tick = createTrafficTickHandler(() => runtime, log);
    if (gate === 'alarm') {
      sandbox.cloudwatch.putMetricAlarm({ accountId: ACCOUNT, alarmName: ALARM, stateValue: 'OK' });
    }
    world.connectUploadHandler(runtime, log);
    await world.upload('orders', '1', await makeFunctionZip(`traffic-${gate}-1`));
    await sandbox.drainEvents();
    const stable = aliasVersions(world);

    // Two steps of the shift, counted.
    const stepRequests: number[] = [];
    for (let step = 0; step < 2; step += 1) {
      sandbox.clock.advance(MINUTE);
      const before = sandbox.countRequests({ service: 'lambda' });
      await tick({});
      stepRequests.push((sandbox.countRequests({ service: 'lambda' }) - before) / functions);
    }

    // The gate fails just after that tick.
    const failedAt = sandbox.clock.now();
    if (gate === 'alarm') {
      sandbox.cloudwatch.setAlarmState({
        accountId: ACCOUNT,
        alarmName: ALARM,
        stateValue: 'ALARM',
        stateReason: 'bench',
      });
    } else {
      for (const target of world.targets)
        recordFailingCanary(world, target, stable.get(target.functionName) ?? '', failedAt);
    }
    let ticks = 0;
    let rollbackRequests = 0;
    let rolledBack = false;
    let tickAt = failedAt;
    while (ticks < 5 && !rolledBack) {
      sandbox.clock.advance(MINUTE);
      tickAt = sandbox.clock.now();
      ticks += 1;
      const before = sandbox.countRequests({ service: 'lambda' });
      await tick({});
      rollbackRequests = sandbox.countRequests({ service: 'lambda' }) - before;
      rolledBack = backOnStable(world, stable);
    }
    return {
      gate,
      stepRequests,
      ticksToRollback: ticks,
      // From the failure to the tick that rolled back (the tick's own wall time is not sandbox time).
      sandboxSecondsToRollback: Math.round((tickAt - failedAt) / 1000),
      rollbackRequestsPerTarget: rollbackRequests / functions,
      rolledBack,
    };
  } finally {
    await world.stop();
  }
}

/** The version each alias serves before the shift (the stable one). */
function aliasVersions(world: FerryWorld): Map<string, string> {
  return new Map(
    world.targets.map((t) => {
      const fn = world.sandbox.lambda.describeFunction(t.accountId, t.region, t.functionName);
      return [t.functionName, fn?.aliases.find((a) => a.name === t.alias)?.functionVersion ?? ''];
    }),
  );
}

function backOnStable(world: FerryWorld, stable: Map<string, string>): boolean {
  return world.targets.every((t) => {
    const alias = world.sandbox.lambda
      .describeFunction(t.accountId, t.region, t.functionName)
      ?.aliases.find((a) => a.name === t.alias);
    return (
      alias !== undefined &&
      alias.functionVersion === stable.get(t.functionName) &&
      Object.keys(alias.routing).length === 0
    );
  });
}

/**
 * Lambda's datapoints for one minute of traffic through the alias: the stable version serves 40
 * calls without error, the new version 10 calls that all fail.
 */
function recordFailingCanary(world: FerryWorld, target: Target, stableVersion: string, at: number): void {
  const fn = world.sandbox.lambda.describeFunction(target.accountId, target.region, target.functionName);
  const alias = fn?.aliases.find((a) => a.name === target.alias);
  const [newVersion] = Object.keys(alias?.routing ?? {});
  if (!newVersion) throw new Error(`${target.functionName} is not shifting`);
  for (const [version, calls, errors] of [
    [stableVersion, 40, 0],
    [newVersion, 10, 10],
  ] as const) {
    const dimensions = {
      FunctionName: target.functionName,
      Resource: `${target.functionName}:${target.alias}`,
      ExecutedVersion: version,
    };
    const base = { accountId: target.accountId, region: target.region, namespace: 'AWS/Lambda', dimensions, at };
    world.sandbox.cloudwatch.putMetricData({ ...base, metricName: 'Invocations', value: calls });
    world.sandbox.cloudwatch.putMetricData({ ...base, metricName: 'Errors', value: errors });
  }
}
