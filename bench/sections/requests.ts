/**
 * 2. Requests per target, counted by the sandbox: one warm deploy of one build into a stage of
 * several functions in one account. Lambda and STS requests are per target; S3 requests (artifact,
 * lease, ledger) are per deploy and reported apart.
 */
import { performance } from 'node:perf_hooks';
import type { RequestLogEntry } from '@ferry/aws-sandbox';
import { App, artifactKey, BUCKET, buildId } from '../lib/configs.js';
import type { BenchContext } from '../lib/context.js';
import { createWarmFerry, enterWorldEnv, requireSucceeded } from '../lib/ferry-engine.js';
import { RowStatus, type SectionResult } from '../lib/report.js';
import { formatMs, round } from '../lib/stats.js';
import type { WorldProcess } from '../lib/world.js';
import { makeFunctionZip } from '../lib/zips.js';
import { countOperations } from './cli-vs-awscli.js';

const TITLE = '2. Requests per target';
/** UpdateFunctionCode, one GetFunctionConfiguration poll, PublishVersion, UpdateAlias. */
export const LAMBDA_MINIMUM = 4;
export const REQUEST_TARGET = 6;

export async function benchRequests(ctx: BenchContext, world: WorldProcess, targets: number): Promise<SectionResult> {
  const restoreEnv = enterWorldEnv(world);
  try {
    const ferry = await createWarmFerry(world);
    const zip = await makeFunctionZip(`counted-${Date.now()}`);
    // A build number above every other app's is not needed: each app has its own ledger.
    const key = artifactKey(App.counted, buildId(1));
    const versionId = await world.upload(BUCKET, key, zip);
    // Earlier sections (the unpaced bare-SDK contender above all) may have drained this account's
    // 15/s control-plane budget; let it refill so throttling left over from them is not counted here.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await world.clearRequests();
    const started = performance.now();
    const result = requireSucceeded(await ferry.deploy(App.counted, buildId(1), key, versionId, zip.length));
    const ms = performance.now() - started;
    const log = await world.requests();
    const outcomes = result.stages.flatMap((s) => s.outcomes);
    if (outcomes.length !== targets) throw new Error(`expected ${targets} targets, ferry deployed ${outcomes.length}`);
    const perTarget = summarizePerTarget(log, targets);
    ctx.progress(
      `2: ${round(perTarget.total, 2)} Lambda requests per target over ${targets} targets in ${formatMs(ms)}`,
    );
    const breakdown = Object.entries(perTarget.byOperation)
      .map(([op, n]) => `${op} ${round(n, 1)}`)
      .join(', ');
    return {
      id: 'requests',
      title: TITLE,
      rows: [
        {
          measure: `Lambda requests per target, warm credentials (${targets} targets, one account)`,
          result: `${round(perTarget.total, 1)} (Lambda API minimum ${LAMBDA_MINIMUM})`,
          target: `≤ ${REQUEST_TARGET}`,
          status: perTarget.total <= REQUEST_TARGET ? RowStatus.Met : RowStatus.Missed,
          note: `${breakdown}; throttled ${perTarget.throttled}; plus ${round(perTarget.stsPerTarget, 2)} STS AssumeRole per target (one per role and build) and ${perTarget.s3PerDeploy} S3 requests per deploy (artifact, lease, ledger)`,
        },
      ],
      figures: { targets, ms, ...perTarget, counts: countOperations(log) },
    };
  } finally {
    restoreEnv();
  }
}

/**
 * Every Lambda request of the deploy, divided by the targets; throttled requests count too (they
 * were sent). The target is stated "with warm credentials", so STS is reported apart: ferry assumes
 * each role once per build (the session name tells the target's CloudTrail which build it is).
 * S3 is per deploy.
 */
export function summarizePerTarget(log: readonly RequestLogEntry[], targets: number) {
  const lambda = log.filter((e) => e.service === 'lambda');
  const byOperation: Record<string, number> = {};
  for (const e of lambda) byOperation[e.operation] = (byOperation[e.operation] ?? 0) + 1 / targets;
  return {
    total: lambda.length / targets,
    byOperation,
    stsPerTarget: log.filter((e) => e.service === 'sts').length / targets,
    throttled: log.filter((e) => e.errorCode === 'TooManyRequestsException').length,
    s3PerDeploy: log.filter((e) => e.service === 's3').length,
  };
}
