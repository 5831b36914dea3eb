/**
 * 1a. One deploy, end to end, as a person or a CI job runs it: the `ferry deploy` process against
 * the AWS CLI sequence of a hand-made pipeline, on the same sandbox, the same zip, the same
 * identity and the same Lambda update delay, interleaved (ferry, AWS CLI, ferry, AWS CLI…).
 * Compared as each side's own time: wall time minus the update delay both must wait out. Every
 * ferry run is traced (bench/children/trace-requests.mjs) for the sequential round trips on its
 * critical path.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { probeAwsCli, runAwsCliDeploy } from '../lib/aws-cli.js';
import { runProcess, tail } from '../lib/children.js';
import {
  ALIAS,
  App,
  artifactKey,
  BUCKET,
  buildId,
  EXTERNAL_ID,
  Fn,
  REGION,
  SINGLE_ACCOUNT,
  STAGE,
} from '../lib/configs.js';
import type { BenchContext } from '../lib/context.js';
import { analyzeCriticalPath, type CriticalPath, type RoundTrip } from '../lib/critical-path.js';
import { type Row, RowStatus, type SectionResult } from '../lib/report.js';
import { formatMs, median, medianRatio, round } from '../lib/stats.js';
import type { WorldProcess } from '../lib/world.js';
import { computeCodeSha256, makeFunctionZip } from '../lib/zips.js';

const TITLE = '1a. One deploy, CLI';
const TARGET_TEXT = '≥ 10× less own time';

export async function benchCliVsAwsCli(ctx: BenchContext, world: WorldProcess): Promise<SectionResult> {
  const iterations = ctx.smoke ? 2 : 7;
  const ferry = await probeFerryCli(ctx, world);
  const awsCli = ctx.smoke
    ? ({ available: false, why: 'not run in a smoke run' } as const)
    : await probeAwsCli(ctx.workDir);
  if (!ferry.available) {
    return {
      id: 'cli',
      title: TITLE,
      rows: [
        {
          measure: '`ferry deploy` vs AWS CLI sequence',
          result: 'not available',
          target: TARGET_TEXT,
          status: RowStatus.Skipped,
          note: ferry.why,
        },
      ],
      figures: { ferryCli: ferry, awsCli },
    };
  }
  const roleArn = `arn:aws:iam::${SINGLE_ACCOUNT}:role/ferry-deploy`;
  const credentials = {
    accessKeyId: world.env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: world.env.AWS_SECRET_ACCESS_KEY ?? '',
    sessionToken: world.env.AWS_SESSION_TOKEN ?? '',
  };
  const ferryMs: number[] = [];
  const ferryPaths: CriticalPath[] = [];
  const ferryRequests: Record<string, number>[] = [];
  const cliRuns: Awaited<ReturnType<typeof runAwsCliDeploy>>[] = [];
  const cliRequests: Record<string, number>[] = [];
  let build = 0;

  // Round 0 warms both (file caches, the bundle, Python's bytecode) and is not counted.
  for (let round = 0; round <= iterations; round++) {
    const zip = await makeFunctionZip(`cli-${round}-${Date.now()}`);
    const sha = computeCodeSha256(zip);
    const zipPath = join(ctx.workDir, `cli-${round}.zip`);
    await writeFile(zipPath, zip);
    const key = artifactKey(App.cli, buildId(++build));
    const versionId = await world.upload(BUCKET, key, zip);

    await world.clearRequests();
    const run = await runFerryDeploy(ctx, world, `s3://${BUCKET}/${key}?versionId=${versionId}`, round);
    const ferryCounts = countOperations(await world.requests());
    const deployed = await world.readAlias(SINGLE_ACCOUNT, Fn.cliFerry, ALIAS);
    if (deployed.codeSha256 !== sha)
      throw new Error(`ferry deploy left ${Fn.cliFerry}:${ALIAS} on ${deployed.codeSha256}, not ${sha}`);

    let cli: Awaited<ReturnType<typeof runAwsCliDeploy>> | undefined;
    if (awsCli.available) {
      await world.clearRequests();
      cli = await runAwsCliDeploy(awsCli.tool, {
        endpoint: world.endpoint,
        region: REGION,
        credentials,
        roleArn,
        externalId: EXTERNAL_ID,
        functionName: Fn.cliAwsCli,
        alias: ALIAS,
        zipPath,
        workDir: ctx.workDir,
      });
      const counts = countOperations(await world.requests());
      if (cli.codeSha256 !== sha) throw new Error(`the AWS CLI published ${cli.codeSha256}, not ${sha}`);
      if (round > 0) cliRequests.push(counts);
    }
    if (round === 0) continue;
    ferryMs.push(run.ms);
    ferryPaths.push(run.path);
    ferryRequests.push(ferryCounts);
    if (cli) cliRuns.push(cli);
    ctx.progress(
      `1a round ${round}/${iterations}: ferry ${formatMs(run.ms)}${cli ? `, AWS CLI ${formatMs(cli.total)}` : ''}`,
    );
  }

  const ferryMedian = median(ferryMs);
  const delay = world.updateDelayMs;
  const ferryOwn = ferryMs.map((ms) => ms - delay);
  const sequential = median(ferryPaths.map((p) => p.sequential));
  const typical = ferryPaths.find((p) => p.sequential === sequential) ?? ferryPaths[0];
  const inFlight = median(ferryPaths.map((p) => p.inFlightMs));
  const pathNote = `ferry's critical path: ${sequential} sequential round trips of ${median(ferryPaths.map((p) => p.requests))} requests, ${formatMs(inFlight)} with a request in flight (ferry waits out the update delay between polls, with none in flight)`;
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {
    iterations,
    ferryCli: {
      command: 'node bin/ferry.js deploy s3://…?versionId=… --app cli --stage dev --config …',
      ms: ferryMs,
      medianMs: ferryMedian,
      ownMs: ferryOwn,
      requests: ferryRequests,
      criticalPath: {
        sequentialMedian: sequential,
        inFlightMedianMs: round(inFlight),
        chain: typical?.chain ?? [],
        perRound: ferryPaths.map((p) => ({
          sequential: p.sequential,
          requests: p.requests,
          inFlightMs: round(p.inFlightMs),
        })),
      },
    },
    updateDelayMs: delay,
  };
  if (awsCli.available) {
    const totals = cliRuns.map((r) => r.total);
    const cliOwn = totals.map((ms) => ms - delay);
    const ratio = medianRatio(cliOwn, ferryOwn);
    const wallRatio = medianRatio(totals, ferryMs);
    const steps = ['assumeRole', 'updateCode', 'wait', 'publish', 'updateAlias'] as const;
    const stepMedians = Object.fromEntries(steps.map((s) => [s, round(median(cliRuns.map((r) => r[s])))]));
    figures.awsCli = {
      path: awsCli.tool.path,
      version: awsCli.tool.version,
      waiter: awsCli.tool.waiter,
      ms: totals,
      medianMs: median(totals),
      ownMs: cliOwn,
      stepMedianMs: stepMedians,
      requests: cliRequests,
    };
    figures.ratio = round(ratio);
    figures.wallRatio = round(wallRatio);
    const waiterNote = `wait ${awsCli.tool.waiter}`;
    rows.push({
      measure: `\`ferry deploy\` vs AWS CLI sequence (${awsCli.tool.version}, 5 processes, ${waiterNote}), own time: wall − the ${delay} ms update delay`,
      result: `${round(ratio, 1)}× less (ferry ${formatMs(median(ferryOwn))}, AWS CLI ${formatMs(median(cliOwn))})`,
      target: TARGET_TEXT,
      status: ratio >= 10 ? RowStatus.Met : RowStatus.Missed,
      note: `median of ${iterations} interleaved pairs; wall clock ${round(wallRatio, 1)}× (ferry ${formatMs(ferryMedian)}, AWS CLI ${formatMs(median(totals))}); ${pathNote}; AWS CLI per process ≈ ${formatMs(stepMedians.publish ?? Number.NaN)}; polls: ferry ${median(ferryRequests.map((r) => (r.GetFunctionConfiguration ?? 0) + (r.GetFunction ?? 0))) - 1} (GetFunctionConfiguration), AWS CLI waiter ${median(cliRequests.map((r) => r.GetFunctionConfiguration ?? 0))}`,
    });
  } else {
    figures.awsCli = { available: false, why: awsCli.why };
    rows.push({
      measure: '`ferry deploy` process (AWS CLI sequence not run)',
      result: `ferry ${formatMs(ferryMedian)} (own time ${formatMs(median(ferryOwn))})`,
      target: TARGET_TEXT,
      status: RowStatus.Skipped,
      note: `${awsCli.why}; ${pathNote}`,
    });
  }
  return { id: 'cli', title: TITLE, rows, figures };
}

type FerryProbe = { available: true } | { available: false; why: string };

async function probeFerryCli(ctx: BenchContext, world: WorldProcess): Promise<FerryProbe> {
  const bin = join(ctx.repoRoot, 'bin', 'ferry.js');
  if (!existsSync(bin)) return { available: false, why: 'bin/ferry.js is not there yet (the CLI is being written)' };
  const help = await runProcess(process.execPath, [bin, 'deploy', '--help'], {
    cwd: ctx.repoRoot,
    env: ferryEnv(ctx, world),
    timeoutMs: 60_000,
  });
  if (help.code !== 0) return { available: false, why: `\`ferry deploy --help\` failed: ${tail(help.stderr, 3)}` };
  return { available: true };
}

export function ferryEnv(ctx: BenchContext, world: WorldProcess): NodeJS.ProcessEnv {
  const { FERRY_CONFIG: _config, ...env } = world.env;
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: ctx.workDir,
    AWS_CONFIG_FILE: join(ctx.workDir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(ctx.workDir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...env,
  };
}

async function runFerryDeploy(ctx: BenchContext, world: WorldProcess, source: string, round: number) {
  const traceFile = join(ctx.workDir, `cli-trace-${round}.json`);
  const result = await runProcess(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(ctx.repoRoot, 'bench', 'children', 'trace-requests.mjs')).href,
      join(ctx.repoRoot, 'bin', 'ferry.js'),
      'deploy',
      source,
      '--app',
      App.cli,
      '--stage',
      STAGE,
      '--config',
      world.configFile,
    ],
    { cwd: ctx.repoRoot, env: { ...ferryEnv(ctx, world), FERRY_BENCH_TRACE_FILE: traceFile }, timeoutMs: 120_000 },
  );
  if (result.code !== 0)
    throw new Error(`ferry deploy exited ${result.signal ?? result.code}:\n${tail(result.stderr || result.stdout)}`);
  const trace = JSON.parse(await readFile(traceFile, 'utf8')) as { trips: RoundTrip[] };
  return { ...result, path: analyzeCriticalPath(trace.trips) };
}

export function countOperations(entries: readonly { operation: string; service: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of entries) {
    const name = e.service === 'lambda' ? e.operation : `${e.service}:${e.operation}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
