/**
 * `npm run bench`: ferry against the sandbox, side by side with what it replaces; prints a
 * markdown table, writes bench/results/latest.json and latest.md (the README's table).
 * `npm run bench -- --smoke`: a tiny run that proves the harness works (CI), written to *.tmp; it
 * fails when it changed any file git tracks (`git status --porcelain` before and after). Only a
 * full run rewrites the published results; `--only` runs write latest-partial.* (ignored by git).
 *
 * Every figure that compares is a ratio measured side by side in this run; nothing here asserts
 * an absolute time. Every loop is bounded, every child process is killed on exit.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAllChildren, runProcess } from './lib/children.js';
import { buildSingleConfig } from './lib/configs.js';
import { type BenchContext, createProgress } from './lib/context.js';
import { describeMachine, formatMachineLine, RowStatus, renderTable, type SectionResult } from './lib/report.js';
import { startWorldProcess } from './lib/world.js';
import { benchCliVsAwsCli } from './sections/cli-vs-awscli.js';
import { benchColdStart, buildBundles } from './sections/cold-start.js';
import { benchEngineOverhead } from './sections/engine-overhead.js';
import { benchFanOut } from './sections/fan-out.js';
import { benchMemory } from './sections/memory.js';
import { benchRequests } from './sections/requests.js';
import { benchShards } from './sections/shards.js';
import { benchTraffic } from './sections/traffic.js';

// The SDK's notice about Node 20 support is for users, not benchmark output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const SECTIONS = ['cli', 'engine', 'requests', 'fan-out', 'cold-start', 'memory', 'traffic', 'shards'] as const;
type SectionId = (typeof SECTIONS)[number];

async function runBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`usage: tsx bench/run.ts [--smoke] [--only ${SECTIONS.join('|')}]...\n`);
    return 0;
  }
  const only = new Set((values.only ?? []) as string[]);
  for (const name of only)
    if (!SECTIONS.includes(name as SectionId))
      throw new Error(`--only ${name}: expected one of ${SECTIONS.join(', ')}`);
  const wanted = (id: SectionId) => only.size === 0 || only.has(id);
  const smoke = values.smoke ?? false;

  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const workDir = await mkdtemp(join(tmpdir(), 'ferry-bench-'));
  const ctx: BenchContext = { repoRoot, workDir, smoke, progress: createProgress() };
  // The whole run is bounded too: a hung child or sandbox cannot keep it (or CI) waiting.
  const limitMs = smoke ? 5 * 60_000 : 40 * 60_000;
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: gave up after ${limitMs / 60_000} minutes\n`);
    killAllChildren();
    process.exit(2);
  }, limitMs);
  watchdog.unref();

  const started = new Date();
  const trackedBefore = smoke ? await readGitStatus(repoRoot) : undefined;
  const sections: SectionResult[] = [];
  try {
    if (wanted('cli') || wanted('cold-start') || wanted('memory') || wanted('shards')) {
      ctx.progress('building the bundles (scripts/build.ts → dist/)');
      await buildBundles(ctx);
    }
    if (wanted('cli') || wanted('engine') || wanted('requests')) {
      const countedTargets = 10;
      const world = await startWorldProcess({
        repoRoot,
        workDir,
        name: 'single',
        config: buildSingleConfig(countedTargets),
      });
      try {
        if (wanted('cli')) sections.push(await benchCliVsAwsCli(ctx, world));
        if (wanted('engine')) sections.push(await benchEngineOverhead(ctx, world));
        if (wanted('requests')) sections.push(await benchRequests(ctx, world, countedTargets));
      } finally {
        await world.stop();
      }
    }
    if (wanted('fan-out')) sections.push(await benchFanOut(ctx));
    if (wanted('cold-start')) sections.push(await benchColdStart(ctx));
    if (wanted('memory')) sections.push(await benchMemory(ctx));
    if (wanted('traffic')) sections.push(await benchTraffic(ctx));
    if (wanted('shards')) sections.push(await benchShards(ctx));
  } finally {
    clearTimeout(watchdog);
    await rm(workDir, { recursive: true, force: true });
  }

  const machine = describeMachine();
  const machineLine = formatMachineLine(machine, started, smoke);
  const table = renderTable(sections);
  const markdown = `${table}\n\n${machineLine}\n`;
  const results = {
    schema: 1,
    generatedAt: started.toISOString(),
    smoke,
    machine,
    settings: { lambdaUpdateDelayMs: 200, rateLimits: true },
    sections,
  };
  const outDir = join(repoRoot, 'bench', 'results');
  await mkdir(outDir, { recursive: true });
  // Smoke results are scratch (*.tmp is ignored by git); a full run replaces the published ones.
  const suffix = smoke ? '.tmp' : '';
  const partial = only.size > 0 ? '-partial' : '';
  const base = smoke ? 'smoke' : `latest${partial}`;
  const jsonFile = join(outDir, `${base}.json${suffix}`);
  await writeFile(jsonFile, `${JSON.stringify(results, roundFigures, 2)}\n`);
  if (!smoke) await formatWithBiome(repoRoot, jsonFile);
  await writeFile(join(outDir, `${base}.md${suffix}`), markdown);
  process.stdout.write(`\n${markdown}`);
  const missed = sections.flatMap((s) => s.rows).filter((r) => r.status === RowStatus.Missed).length;
  process.stderr.write(`bench: ${missed} target(s) missed; results in bench/results/${base}.{json,md}${suffix}\n`);
  if (trackedBefore !== undefined) {
    const trackedAfter = await readGitStatus(repoRoot);
    if (trackedAfter !== trackedBefore) {
      process.stderr.write(
        `bench: the smoke run changed the working tree (git status --porcelain):\nbefore:\n${trackedBefore || '(clean)'}\nafter:\n${trackedAfter}\n`,
      );
      return 1;
    }
    process.stderr.write('bench: the smoke run left the working tree as it found it (git status --porcelain)\n');
  }
  return 0;
}

/** `git status --porcelain` (untracked files included): what a run must leave as it found it. */
async function readGitStatus(repoRoot: string): Promise<string> {
  const result = await runProcess('git', ['status', '--porcelain'], { cwd: repoRoot, timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`git status failed in ${repoRoot}: ${result.stderr}`);
  return result.stdout;
}

/** Milliseconds and ratios to 0.1: the JSON is committed, and noise below that means nothing. */
function roundFigures(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 10) / 10 : value;
}

/** The committed JSON passes `biome check` like every other file in the repository. */
async function formatWithBiome(repoRoot: string, file: string): Promise<void> {
  const biome = join(repoRoot, 'node_modules', '.bin', 'biome');
  const result = await runProcess(biome, ['format', '--write', file], { cwd: repoRoot, timeoutMs: 60_000 });
  if (result.code !== 0) process.stderr.write(`bench: could not format ${file} with biome: ${result.stderr}\n`);
}

runBench(process.argv.slice(2)).then(
  (code) => {
    killAllChildren();
    // SDK clients keep sockets alive; everything is written, so leave now.
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    killAllChildren();
    process.exit(1);
  },
);
