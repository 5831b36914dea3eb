/**
 * 1b. ferry's own overhead: the engine in this process, warm, against the bare SDK call sequence,
 * one target each, interleaved. A third contender, ferry with its client-side pacing switched
 * off, shows what the pacer costs on a single deploy.
 */

import { performance } from 'node:perf_hooks';
import { createBareDeployer } from '../lib/bare-deploy.js';
import { ALIAS, App, artifactKey, BUCKET, buildId, EXTERNAL_ID, Fn, REGION, SINGLE_ACCOUNT } from '../lib/configs.js';
import type { BenchContext } from '../lib/context.js';
import { createWarmFerry, enterWorldEnv, requireSucceeded, UNPACED, type WarmFerry } from '../lib/ferry-engine.js';
import { type Row, RowStatus, type SectionResult } from '../lib/report.js';
import { formatMs, median, medianRatio, round } from '../lib/stats.js';
import type { WorldProcess } from '../lib/world.js';
import { computeCodeSha256, makeFunctionZip } from '../lib/zips.js';
import { countOperations } from './cli-vs-awscli.js';

const TITLE = '1b. One deploy, in-process';

export async function benchEngineOverhead(ctx: BenchContext, world: WorldProcess): Promise<SectionResult> {
  const iterations = ctx.smoke ? 3 : 15;
  const restoreEnv = enterWorldEnv(world);
  const bare = createBareDeployer({
    endpoint: world.endpoint,
    region: REGION,
    callerCredentials: {
      accessKeyId: world.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: world.env.AWS_SECRET_ACCESS_KEY ?? '',
      sessionToken: world.env.AWS_SESSION_TOKEN ?? '',
    },
    roleArn: `arn:aws:iam::${SINGLE_ACCOUNT}:role/ferry-deploy`,
    externalId: EXTERNAL_ID,
    functionName: Fn.engineBare,
    alias: ALIAS,
  });
  try {
    const paced = await createWarmFerry(world);
    const unpaced = await createWarmFerry(world, { rateLimits: UNPACED });
    const samples = { ferry: [] as number[], bare: [] as number[], unpaced: [] as number[] };
    const requests = {
      ferry: [] as Record<string, number>[],
      bare: [] as Record<string, number>[],
      unpaced: [] as Record<string, number>[],
    };
    let build = 0;
    let lastFerrySha = '';

    const ferryRound = async (warm: WarmFerry, app: string, label: string) => {
      const zip = await makeFunctionZip(`${label}-${build}-${Date.now()}`);
      const key = artifactKey(app, buildId(++build));
      const versionId = await world.upload(BUCKET, key, zip);
      await world.clearRequests();
      const started = performance.now();
      requireSucceeded(await warm.deploy(app, buildId(build), key, versionId, zip.length));
      const ms = performance.now() - started;
      if (app === App.engine) lastFerrySha = computeCodeSha256(zip);
      return { ms, counts: countOperations(await world.requests()) };
    };
    const bareRound = async () => {
      const zip = await makeFunctionZip(`bare-${build}-${Date.now()}`);
      await world.clearRequests();
      const started = performance.now();
      const out = await bare.deploy(zip);
      const ms = performance.now() - started;
      if (out.codeSha256 !== computeCodeSha256(zip)) throw new Error('the bare sequence published other code');
      return { ms, counts: countOperations(await world.requests()) };
    };

    // Round 0 warms every contender (connections, JIT, the credentials) and is not counted.
    for (let round = 0; round <= iterations; round++) {
      const a = await ferryRound(paced, App.engine, 'engine');
      const b = await bareRound();
      const c = await ferryRound(unpaced, App.engineUnpaced, 'unpaced');
      if (round === 0) continue;
      samples.ferry.push(a.ms);
      samples.bare.push(b.ms);
      samples.unpaced.push(c.ms);
      requests.ferry.push(a.counts);
      requests.bare.push(b.counts);
      requests.unpaced.push(c.counts);
      ctx.progress(
        `1b round ${round}/${iterations}: ferry ${formatMs(a.ms)}, bare ${formatMs(b.ms)}, ferry unpaced ${formatMs(c.ms)}`,
      );
    }
    const live = await world.readAlias(SINGLE_ACCOUNT, Fn.engineFerry, ALIAS);
    if (live.codeSha256 !== lastFerrySha)
      throw new Error(`${Fn.engineFerry}:${ALIAS} does not run the last build ferry deployed`);

    const ratio = medianRatio(samples.ferry, samples.bare);
    const unpacedRatio = medianRatio(samples.unpaced, samples.bare);
    // Two regimes: a young function (nothing to prune yet), then steady state past keepVersions,
    // where ferry prunes once every ceil(keepVersions / 5) versions and pruning rounds cost more.
    const pruning = requests.ferry.map((r) => (r.ListVersionsByFunction ?? 0) > 0);
    const firstPrune = pruning.indexOf(true);
    const steadyFrom = firstPrune < 0 ? samples.ferry.length : firstPrune;
    const youngFerry = samples.ferry.slice(0, steadyFrom);
    const young = {
      rounds: youngFerry.length,
      ratio: medianRatio(youngFerry, samples.bare.slice(0, steadyFrom)),
      ferryMs: median(youngFerry),
    };
    const steadyFerry = samples.ferry.slice(steadyFrom);
    // The bare sequence never prunes, so its typical cost is its median over every round. ferry's
    // steady-state cost is amortized from medians, robust to a stray slow round: the typical round
    // plus the typical extra of a pruning round, weighted by how often ferry prunes.
    const bareTypical = median(samples.bare);
    const steadyPruning = pruning.slice(steadyFrom);
    const plain = steadyFerry.filter((_, i) => !steadyPruning[i]);
    const withPrune = steadyFerry.filter((_, i) => steadyPruning[i]);
    const plainMs = plain.length > 0 ? median(plain) : median(youngFerry);
    const pruneExtraMs = withPrune.length > 0 ? Math.max(0, median(withPrune) - plainMs) : 0;
    const amortizedMs = plainMs + (pruneExtraMs * withPrune.length) / Math.max(1, steadyFerry.length);
    const pruned = {
      rounds: steadyFerry.length,
      pruningRounds: withPrune.length,
      ratio: steadyFerry.length > 0 ? amortizedMs / bareTypical : Number.NaN,
      ferryMs: amortizedMs,
      pruneExtraMs,
    };
    const rows: Row[] = [];
    if (young.rounds > 0) {
      rows.push({
        measure: 'engine (warm) vs bare SDK calls, young function (nothing to prune)',
        result: `${round(young.ratio, 2)}× (ferry ${formatMs(young.ferryMs)}, bare ${formatMs(median(samples.bare))})`,
        target: '≤ 1.3×',
        status: young.ratio <= 1.3 ? RowStatus.Met : RowStatus.Missed,
        note: `median of ${young.rounds} of ${iterations} interleaved rounds; ferry also fetches and verifies the artifact from S3 and writes lease and ledger`,
      });
    }
    if (pruned.rounds > 0) {
      rows.push({
        measure: 'engine (warm) vs bare SDK calls, function past keepVersions (amortized, with pruning)',
        result: `${round(pruned.ratio, 2)}× (ferry ${formatMs(pruned.ferryMs)} amortized, bare ${formatMs(bareTypical)})`,
        target: '≤ 1.3×',
        status: pruned.ratio <= 1.3 ? RowStatus.Met : RowStatus.Missed,
        note: `over the last ${pruned.rounds} interleaved rounds, ${pruned.pruningRounds} of which pruned (once every ceil(keepVersions / 5) versions, +${formatMs(pruned.pruneExtraMs)} each): median round plus the pruning extra spread over the rounds, against the bare sequence's median`,
      });
    }
    rows.push({
      measure: 'engine with client-side pacing off vs bare',
      result: `${round(unpacedRatio, 2)}× (${formatMs(median(samples.unpaced))})`,
      target: '(diagnostic)',
      status: RowStatus.Info,
      note: 'what the pacer costs one deploy (all rounds)',
    });
    return {
      id: 'engine',
      title: TITLE,
      rows,
      figures: {
        iterations,
        ms: samples,
        medianMs: { ferry: median(samples.ferry), bare: median(samples.bare), unpaced: median(samples.unpaced) },
        ratio: round(ratio, 3),
        young,
        pruning: pruned,
        unpacedRatio: round(unpacedRatio, 3),
        requests,
      },
    };
  } finally {
    bare.destroy();
    restoreEnv();
  }
}
