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
    // Once a function holds more than keepVersions versions, every deploy also prunes one: two regimes.
    const pruning = requests.ferry.map((r) => (r.ListVersionsByFunction ?? 0) > 0);
    const regime = (want: boolean) => {
      const pick = <T>(xs: readonly T[]) => xs.filter((_, i) => pruning[i] === want);
      const a = pick(samples.ferry);
      return { rounds: a.length, ratio: medianRatio(a, pick(samples.bare)), ferryMs: median(a) };
    };
    const young = regime(false);
    const pruned = regime(true);
    const rows: Row[] = [];
    for (const [label, r] of [
      ['young function (nothing to prune)', young],
      ['function past keepVersions (prunes one version per deploy)', pruned],
    ] as const) {
      if (r.rounds === 0) continue;
      rows.push({
        measure: `engine (warm) vs bare SDK calls, ${label}`,
        result: `${round(r.ratio, 2)}× (ferry ${formatMs(r.ferryMs)}, bare ${formatMs(median(samples.bare))})`,
        target: '≤ 1.3×',
        status: r.ratio <= 1.3 ? RowStatus.Met : RowStatus.Missed,
        note: `median of ${r.rounds} of ${iterations} interleaved rounds; ferry also fetches and verifies the artifact from S3 and writes lease and ledger`,
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
