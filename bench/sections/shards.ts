/**
 * 7. Beyond one invocation: a stage of many targets in many accounts, with an AWS-like update delay
 * (2 s) and Lambda's per-account quotas on. ferry's upload function runs as it would in Lambda:
 * every invocation is its own process (the built bundle, a context whose remaining time runs
 * down); the sandbox queues ferry's asynchronous self-invocations and this section delivers them,
 * as Lambda's event queue would, each to a fresh process. The wall time, from the upload event to
 * the deployment's ledger entry, is compared with the bound the update delay, the concurrency and
 * the quotas impose.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { computePollDelay } from '../../src/core/backoff.js';
import type { LedgerEntry } from '../../src/core/ledger-model.js';
import { DEFAULT_DEPLOY_TARGET_OPTIONS } from '../../src/engine/deploy-target.js';
import { runProcess, tail } from '../lib/children.js';
import { artifactKey, BUCKET, buildId, REGION, STAGE } from '../lib/configs.js';
import type { BenchContext } from '../lib/context.js';
import { type Row, RowStatus, type SectionResult } from '../lib/report.js';
import { formatBytes, formatMs, round } from '../lib/stats.js';
import { startWorldProcess, type WorldProcess } from '../lib/world.js';
import { makeFunctionZip } from '../lib/zips.js';
import { computeLowerBound } from './fan-out.js';

const TITLE = '7. Beyond one invocation';
const APP = 'wide';
const UPDATE_DELAY_MS = 2_000;
/** Lambda's limit, as ferry's upload function is configured (serverless.yml timeout). */
const INVOCATION_LIMIT_MS = 900_000;
const CONCURRENCY = 16;
const SHARD_TARGETS = 500;
/** Niceness of every invocation's process (see invoke). */
const INVOCATION_NICE = 10;
export const SHARDS_TARGET_RATIO = 1.25;

interface Size {
  readonly accounts: number;
  readonly perAccount: number;
  readonly shardTargets: number;
  readonly label: string;
}

/** 12-digit account ids, one per index. */
const wideAccount = (index: number) => `5${String(index + 1).padStart(11, '0')}`;

function buildWideConfig(size: Size) {
  return {
    artifactBucket: BUCKET,
    region: REGION,
    externalId: 'ferry-bench-external-id',
    concurrency: CONCURRENCY,
    shardTargets: size.shardTargets,
    stages: [{ name: STAGE, acceptsUploads: true }],
    apps: {
      [APP]: {
        targets: {
          [STAGE]: Array.from({ length: size.accounts }, (_, a) =>
            Array.from({ length: size.perAccount }, (_, f) => ({ account: wideAccount(a), function: `wide-${f + 1}` })),
          ).flat(),
        },
      },
    },
  };
}

export async function benchShards(ctx: BenchContext): Promise<SectionResult> {
  const sizes: Size[] = ctx.smoke
    ? [{ accounts: 10, perAccount: 2, shardTargets: 10, label: 'smoke' }]
    : [
        { accounts: 100, perAccount: 10, shardTargets: SHARD_TARGETS, label: 'scaled' },
        { accounts: 1000, perAccount: 10, shardTargets: SHARD_TARGETS, label: 'full' },
      ];
  const only = process.env.FERRY_BENCH_SHARDS_SIZES?.split(',');
  const rows: Row[] = [];
  const runs: Record<string, unknown>[] = [];
  for (const size of sizes.filter((s) => only === undefined || only.includes(s.label))) {
    const run = await runWide(ctx, size);
    runs.push(run);
    rows.push(run.row);
  }
  const [small, large] = runs as Awaited<ReturnType<typeof runWide>>[];
  if (small && large) rows.push(compareMemory(small, large));
  return { id: 'shards', title: TITLE, rows, figures: { updateDelayMs: UPDATE_DELAY_MS, runs } };
}

async function runWide(ctx: BenchContext, size: Size) {
  const targets = size.accounts * size.perAccount;
  const bundle = join(ctx.repoRoot, 'dist', 'handlers', 'artifact-uploaded.mjs');
  if (!existsSync(bundle)) throw new Error(`no ${bundle}: the build step did not run`);
  ctx.progress(`7 ${size.label}: starting a world of ${targets} functions in ${size.accounts} accounts`);
  const world = await startWorldProcess({
    repoRoot: ctx.repoRoot,
    workDir: ctx.workDir,
    name: `wide-${size.label}`,
    config: buildWideConfig(size),
    updateDelayMs: UPDATE_DELAY_MS,
    rateLimits: true,
    queueAsync: true,
    startTimeoutMs: 1_500_000,
  });
  try {
    const zip = await makeFunctionZip(`wide-${size.label}-${Date.now()}`);
    const build = buildId(1);
    const key = artifactKey(APP, build);
    ctx.progress(`7 ${size.label}: world up; deploying (progress is printed when the deployment is recorded)`);
    const versionId = await world.upload(BUCKET, key, zip);
    await world.clearRequests();
    const started = performance.now();
    const invocations = await runInvocations(ctx, world, bundle, {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          awsRegion: REGION,
          userIdentity: { principalId: 'AWS:AROABENCH:ci' },
          s3: { bucket: { name: BUCKET }, object: { key, size: zip.length, versionId } },
        },
      ],
    });
    const entry = await waitForEntry(world, started);
    const wallMs = performance.now() - started;
    const log = await world.requests();
    const failedTargets = entry.targets.filter((t) => t.outcome === 'failed').length + (targets - entry.targets.length);
    const shards = Math.ceil(targets / size.shardTargets);
    const perShard = Math.ceil(targets / shards);
    const quota = computeLowerBound(log);
    // Each shard runs `concurrency` targets at a time, each waiting at least the update delay.
    const updateBoundMs = Math.ceil(perShard / CONCURRENCY) * UPDATE_DELAY_MS;
    const boundMs = Math.max(updateBoundMs, quota.boundMs);
    // What ferry's own poll schedule adds: it sees a 2 s update at its first poll after 2 s.
    const seenAtMs = firstPollAfter(UPDATE_DELAY_MS);
    const pollBoundMs = Math.max(Math.ceil(perShard / CONCURRENCY) * seenAtMs, quota.boundMs);
    const ratio = wallMs / boundMs;
    const throttled = log.filter((e) => e.errorCode === 'TooManyRequestsException').length;
    const updates = log.filter((e) => e.operation === 'UpdateFunctionCode' && e.status < 300).length;
    const peaks = invocations.map((i) => i.maxRssBytes);
    const frontPeak = invocations[0]?.maxRssBytes ?? 0;
    const shardPeak = Math.max(0, ...peaks.slice(1));
    ctx.progress(
      `7 ${size.label}: ${formatMs(wallMs)} for ${targets} targets (bound ${formatMs(boundMs)}), ${invocations.length} invocations, ${failedTargets} failed, ${throttled} throttled`,
    );
    const row: Row = {
      measure: `${targets.toLocaleString('en')} targets in ${size.accounts.toLocaleString('en')} accounts, ${UPDATE_DELAY_MS / 1000} s update delay, concurrency ${CONCURRENCY}, shards of ${size.shardTargets}${size.label === 'scaled' ? ' (scaled: a tenth of the accounts)' : ''}`,
      result: `${round(ratio, 2)}× the bound (${formatMs(wallMs)} vs ${formatMs(boundMs)}); ${failedTargets} failed; ${invocations.length} invocations; peak RSS per invocation ${formatBytes(Math.max(frontPeak, shardPeak))}`,
      target: `≤ ${SHARDS_TARGET_RATIO}×, 0 failed, memory flat`,
      status: ratio <= SHARDS_TARGET_RATIO && failedTargets === 0 ? RowStatus.Met : RowStatus.Missed,
      note: `one ledger entry (${entry.outcome}); ${updates} UpdateFunctionCode for ${targets} functions; ${throttled} throttled; front invocation ${formatBytes(frontPeak)}, largest shard ${formatBytes(shardPeak)}; bound = max(⌈${perShard} targets per shard / ${CONCURRENCY}⌉ × ${UPDATE_DELAY_MS / 1000} s, the busiest account's control-plane calls / 15 s = ${formatMs(quota.boundMs)}); every invocation its own process running the bundle; ferry polls an update at ${POLLS_TEXT} s, so it sees a 2 s update at ${seenAtMs / 1000} s: against that bound (${formatMs(pollBoundMs)}) ${round(wallMs / pollBoundMs, 2)}×`,
    };
    return {
      label: size.label,
      targets,
      accounts: size.accounts,
      wallMs,
      boundMs,
      updateBoundMs,
      quotaBoundMs: quota.boundMs,
      ratio: round(ratio, 3),
      pollBoundMs,
      ratioToPollBound: round(wallMs / pollBoundMs, 3),
      failedTargets,
      throttled,
      updateFunctionCode: updates,
      invocations: invocations.length,
      peakRssBytes: { front: frontPeak, largestShard: shardPeak },
      outcome: entry.outcome,
      row,
    };
  } finally {
    await world.stop();
  }
}

/** When ferry's update polls happen (deploy-target's schedule), and the first at or after `ms`. */
function pollTimes(): number[] {
  const { pollFirstMs, pollMaxMs } = DEFAULT_DEPLOY_TARGET_OPTIONS;
  const times: number[] = [];
  for (let poll = 0, at = 0; poll < 8; poll++) {
    at += computePollDelay(poll, pollFirstMs, pollMaxMs);
    times.push(at);
  }
  return times;
}
const POLLS_TEXT = pollTimes()
  .slice(0, 4)
  .map((t) => t / 1000)
  .join(', ');
function firstPollAfter(ms: number): number {
  return pollTimes().find((t) => t >= ms) ?? ms;
}

/** Memory flat in the number of targets: the largest invocation of the large stage against the small one's. */
function compareMemory(small: Awaited<ReturnType<typeof runWide>>, large: Awaited<ReturnType<typeof runWide>>): Row {
  const peak = (r: typeof small) => Math.max(r.peakRssBytes.front, r.peakRssBytes.largestShard);
  const growth = peak(large) / peak(small);
  return {
    measure: `Peak RSS per invocation, ${large.targets.toLocaleString('en')} targets against ${small.targets.toLocaleString('en')}`,
    result: `${formatBytes(peak(large))} vs ${formatBytes(peak(small))} (${round(growth, 2)}×)`,
    target: 'flat (≤ 1.1×)',
    status: growth <= 1.1 ? RowStatus.Met : RowStatus.Missed,
    note: `front invocation (reads the whole stage, writes the manifest) ${formatBytes(large.peakRssBytes.front)} vs ${formatBytes(small.peakRssBytes.front)}; largest shard (${SHARD_TARGETS} targets either way) ${formatBytes(large.peakRssBytes.largestShard)} vs ${formatBytes(small.peakRssBytes.largestShard)}`,
  };
}

interface Invocation {
  readonly maxRssBytes: number;
  readonly status?: string;
}

/**
 * Runs the upload event, then every event ferry sends itself, each in its own process, all at
 * once as Lambda would (the function's reserved concurrency is not modelled), until none is left.
 */
async function runInvocations(
  ctx: BenchContext,
  world: WorldProcess,
  bundle: string,
  uploadEvent: unknown,
): Promise<Invocation[]> {
  const done: Invocation[] = [];
  const running = new Set<Promise<void>>();
  let failure: Error | undefined;
  let seq = 0;
  const start = (event: unknown) => {
    const n = seq++;
    const task = invoke(ctx, world, bundle, event, n).then(
      (inv) => {
        done[n] = inv;
      },
      (error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    running.add(task);
    void task.finally(() => running.delete(task));
  };
  start(uploadEvent);
  const deadline = performance.now() + 45 * 60_000;
  while (performance.now() < deadline) {
    if (failure) throw failure;
    const queued = await world.takeAsyncInvocations();
    for (const q of queued) start(q.payload);
    if (queued.length === 0 && running.size === 0) return done;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the invocations did not finish within 45 minutes');
}

async function invoke(
  ctx: BenchContext,
  world: WorldProcess,
  bundle: string,
  event: unknown,
  n: number,
): Promise<Invocation> {
  const eventFile = join(ctx.workDir, `wide-event-${n}.json`);
  const outFile = join(ctx.workDir, `wide-out-${n}.json`);
  await writeFile(eventFile, JSON.stringify(event));
  await writeFile(outFile, '');
  const { FERRY_CONFIG: _inline, ...env } = world.env;
  const run = await runProcess(
    process.execPath,
    [
      join(ctx.repoRoot, 'bench', 'children', 'ferry-invocation.mjs'),
      bundle,
      eventFile,
      outFile,
      String(INVOCATION_LIMIT_MS),
    ],
    {
      cwd: ctx.workDir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: ctx.workDir,
        ...env,
        // Thousands of targets do not fit in an environment variable: the configuration is a file.
        FERRY_CONFIG_FILE: world.configFile,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: join(ctx.workDir, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(ctx.workDir, 'no-aws-credentials'),
        FERRY_TMP_DIR: ctx.workDir,
        POWERTOOLS_LOG_LEVEL: 'WARN',
      },
      timeoutMs: INVOCATION_LIMIT_MS + 60_000,
      // Up to 21 invocations share this machine's cores with the one sandbox process serving all of
      // them; at the default priority each gets an equal share and the sandbox, starved, answers in
      // seconds (AWS's API does not run on ferry's CPU): the invocations yield to it.
      nice: INVOCATION_NICE,
    },
  );
  const text = await readFile(outFile, 'utf8');
  if (run.code !== 0 || text === '') {
    throw new Error(`invocation ${n} failed (${run.signal ?? run.code}): ${text}\n${tail(run.stderr || run.stdout)}`);
  }
  const out = JSON.parse(text) as { maxRssBytes: number; result?: { shard?: { status: string } } };
  return { maxRssBytes: out.maxRssBytes, ...(out.result?.shard ? { status: out.result.shard.status } : {}) };
}

/** The deployment's one ledger entry (written by the last shard to finish). */
async function waitForEntry(world: WorldProcess, started: number): Promise<LedgerEntry> {
  const prefix = `ledger/${APP}/${STAGE}/entries/`;
  for (;;) {
    const keys = await world.listKeys(BUCKET, prefix);
    if (keys.length > 1) throw new Error(`${keys.length} ledger entries for one deployment: ${keys.join(', ')}`);
    const key = keys[0];
    if (key !== undefined) {
      const entry = await world.readJson<LedgerEntry>(BUCKET, key);
      if (entry) return entry;
    }
    if (performance.now() - started > 10 * 60_000) throw new Error('no ledger entry after every invocation ended');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
