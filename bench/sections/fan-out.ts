/**
 * 3. Fan-out: one build into many targets across accounts, with the sandbox enforcing Lambda's
 * documented per-account quotas (15 control-plane requests/s shared by every call ferry makes:
 * its reads are GetFunctionConfiguration, which the deploy role grants; only GetFunction, which
 * ferry does not call, has its own 100/s). The wall time is compared with the lower bound those
 * quotas impose on the requests the deploy needed.
 */
import { performance } from 'node:perf_hooks';
import type { RequestLogEntry } from '@ferry/aws-sandbox';
import { ALIAS, App, artifactKey, BUCKET, buildFleetConfig, buildId, fleetAccount } from '../lib/configs.js';
import { type BenchContext, sleep } from '../lib/context.js';
import { createWarmFerry, enterWorldEnv } from '../lib/ferry-engine.js';
import { type Row, RowStatus, type SectionResult } from '../lib/report.js';
import { formatMs, round } from '../lib/stats.js';
import { startWorldProcess } from '../lib/world.js';
import { computeCodeSha256, makeFunctionZip } from '../lib/zips.js';
import { LAMBDA_MINIMUM, summarizePerTarget } from './requests.js';

const TITLE = '3. Fan-out';
/** Lambda's documented quotas per account and Region (requests per second): GetFunction alone has its own. */
export const QUOTAS = { getFunction: 100, controlPlane: 15 } as const;
export const FAN_OUT_TARGET = 1.25;

export async function benchFanOut(ctx: BenchContext): Promise<SectionResult> {
  const accounts = ctx.smoke ? 2 : 10;
  const perAccount = ctx.smoke ? 5 : 10;
  const targets = accounts * perAccount;
  const raw = buildFleetConfig(accounts, perAccount);
  const world = await startWorldProcess({
    repoRoot: ctx.repoRoot,
    workDir: ctx.workDir,
    name: 'fleet',
    config: raw,
    rateLimits: true,
  });
  const restoreEnv = enterWorldEnv(world);
  try {
    // The configured default first, then the most a configuration allows.
    const variants = ctx.smoke ? [undefined] : [undefined, 100];
    const rows: Row[] = [];
    const runs: Record<string, unknown>[] = [];
    let build = 0;
    for (const concurrency of variants) {
      const ferry = await createWarmFerry(world, concurrency === undefined ? {} : { concurrency });
      const zip = await makeFunctionZip(`fleet-${build}-${Date.now()}`);
      const key = artifactKey(App.fleet, buildId(++build));
      const versionId = await world.upload(BUCKET, key, zip);
      // Let the sandbox's per-account buckets refill after the previous run.
      await sleep(1_500);
      await world.clearRequests();
      const started = performance.now();
      const result = await ferry.deploy(App.fleet, buildId(build), key, versionId, zip.length);
      const wallMs = performance.now() - started;
      const log = await world.requests();
      const outcomes = result.stages.flatMap((s) => s.outcomes);
      const failures =
        outcomes.filter((o) => o.status === 'failed').length +
        (outcomes.length === targets ? 0 : targets - outcomes.length);
      await verifySample(world, accounts, perAccount, computeCodeSha256(zip));
      const bound = computeLowerBound(log);
      const phases = measurePhases(log);
      // Every call of the API minimum, the GetFunctionConfiguration poll included, is control-plane.
      const apiMinimumBoundMs = (perAccount * LAMBDA_MINIMUM * 1000) / QUOTAS.controlPlane;
      const ratio = wallMs / bound.boundMs;
      const throttled = log.filter((e) => e.errorCode === 'TooManyRequestsException').length;
      const perTarget = summarizePerTarget(log, targets);
      const used = ferry.config.concurrency;
      ctx.progress(
        `3 concurrency ${used}: ${formatMs(wallMs)} for ${targets} targets, bound ${formatMs(bound.boundMs)}, ${throttled} throttled, ${failures} failed`,
      );
      rows.push({
        measure: `${targets} targets in ${accounts} accounts, concurrency ${used}${concurrency === undefined ? ' (default)' : ''}`,
        result: `${round(ratio, 2)}× the bound (${formatMs(wallMs)} vs ${formatMs(bound.boundMs)}); ${throttled} throttled absorbed; ${failures} failed`,
        target: `≤ ${FAN_OUT_TARGET}×, 0 failed`,
        status: ratio <= FAN_OUT_TARGET && failures === 0 ? RowStatus.Met : RowStatus.Missed,
        note: `every alias moved ${formatMs(phases.lastAliasMs)} after the first request, the last request (pruning, ledger) at ${formatMs(phases.lastRequestMs)}; bound = max over accounts of control-plane calls / 15 s (GetFunctionConfiguration polls included; GetFunction, 100/s, is not called) over the ${round(bound.controlPerAccount, 0)} control-plane calls per account ferry sent (the API minimum, ${LAMBDA_MINIMUM} per target, would give ${formatMs(apiMinimumBoundMs)})`,
      });
      runs.push({
        concurrency: used,
        targets,
        accounts,
        wallMs,
        ...bound,
        apiMinimumBoundMs,
        phases,
        ratio: round(ratio, 3),
        throttled,
        failures,
        requestsPerTarget: perTarget,
      });
    }
    return { id: 'fan-out', title: TITLE, rows, figures: { quotas: QUOTAS, runs } };
  } finally {
    restoreEnv();
    await world.stop();
  }
}

/**
 * The quotas' lower bound on the requests actually sent and answered (throttled ones excluded:
 * a perfect client would not have sent them), per account, then the slowest account.
 */
export function computeLowerBound(log: readonly RequestLogEntry[]) {
  const perAccount = new Map<string, { control: number; reads: number }>();
  for (const e of log) {
    if (e.service !== 'lambda' || e.errorCode === 'TooManyRequestsException' || e.operation === 'Invoke') continue;
    const key = e.accountId ?? 'unknown';
    const counts = perAccount.get(key) ?? { control: 0, reads: 0 };
    if (e.operation === 'GetFunction') counts.reads++;
    else counts.control++;
    perAccount.set(key, counts);
  }
  let boundMs = 0;
  let controlPerAccount = 0;
  for (const { control, reads } of perAccount.values()) {
    const ms = Math.max((control * 1000) / QUOTAS.controlPlane, (reads * 1000) / QUOTAS.getFunction);
    if (ms > boundMs) {
      boundMs = ms;
      controlPerAccount = control;
    }
  }
  return { boundMs, controlPerAccount, perAccount: Object.fromEntries(perAccount) };
}

/** When, after the deploy's first request, the last alias moved and the last request was answered (sandbox clock). */
export function measurePhases(log: readonly RequestLogEntry[]) {
  const first = Math.min(...log.map((e) => e.at));
  const aliases = log.filter((e) => e.operation === 'UpdateAlias' || e.operation === 'CreateAlias');
  return {
    lastAliasMs: Math.max(...aliases.map((e) => e.at)) - first,
    lastRequestMs: Math.max(...log.map((e) => e.at)) - first,
  };
}

/** The first and last function of every account run the build (a sample: reading all would hit the quotas). */
async function verifySample(
  world: Awaited<ReturnType<typeof startWorldProcess>>,
  accounts: number,
  perAccount: number,
  sha: string,
): Promise<void> {
  await Promise.all(
    Array.from({ length: accounts }, async (_, a) => {
      for (const f of [1, perAccount]) {
        const live = await world.readAlias(fleetAccount(a), `fleet-${f}`, ALIAS);
        if (live.codeSha256 !== sha)
          throw new Error(`${fleetAccount(a)} fleet-${f}:${ALIAS} does not run the deployed build`);
      }
    }),
  );
}
