/**
 * 4. Cold start: each handler bundle's size, and how long a fresh Node process takes to import
 * it, beyond importing an empty module in the same run (Node's own start cancels out).
 */
import { existsSync } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked } from '../lib/children.js';
import type { BenchContext } from '../lib/context.js';
import { type Row, RowStatus, type SectionResult } from '../lib/report.js';
import { formatBytes, formatMs, median, round } from '../lib/stats.js';

const TITLE = '4. Cold start';
/** 1 MB, counted in decimal bytes (the stricter reading). */
export const BUNDLE_LIMIT_BYTES = 1_000_000;
export const IMPORT_LIMIT_MS = 150;

/** Bundles the handlers (and the CLI) exactly as `npm run build` does, into dist/. */
export async function buildBundles(ctx: BenchContext): Promise<void> {
  await runChecked(process.execPath, ['--import', 'tsx', join(ctx.repoRoot, 'scripts', 'build.ts')], {
    cwd: ctx.repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    timeoutMs: 180_000,
  });
}

export async function benchColdStart(ctx: BenchContext): Promise<SectionResult> {
  const reps = ctx.smoke ? 3 : 15;
  const dir = join(ctx.repoRoot, 'dist', 'handlers');
  const bundles = (await readdir(dir)).filter((f) => f.endsWith('.mjs')).sort();
  if (bundles.length === 0) throw new Error(`no handler bundles in ${dir}; the build produced none`);
  const empty = join(ctx.workDir, 'empty.mjs');
  await writeFile(empty, 'export {};\n');
  const importer = join(ctx.repoRoot, 'bench', 'children', 'import-bundle.mjs');
  // The CLI's bundle is measured too, as context for 1a (its process imports it on every run).
  const cli = join(ctx.repoRoot, 'dist', 'cli.mjs');
  const modules = [empty, ...bundles.map((b) => join(dir, b)), ...(existsSync(cli) ? [cli] : [])];
  const wall = new Map<string, number[]>(modules.map((m) => [m, []]));
  const inProcess = new Map<string, number[]>(modules.map((m) => [m, []]));

  // One round imports every module once, the empty one first, so each bundle pairs with its round's baseline.
  for (let rep = 0; rep <= reps; rep++) {
    for (const module of modules) {
      const run = await runChecked(process.execPath, [importer, module], {
        cwd: ctx.workDir,
        env: { PATH: process.env.PATH ?? '' },
        timeoutMs: 60_000,
      });
      if (rep === 0) continue; // The first round warms the file cache.
      wall.get(module)?.push(run.ms);
      inProcess.get(module)?.push((JSON.parse(run.stdout) as { importMs: number }).importMs);
    }
  }

  const baseline = wall.get(empty) ?? [];
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {
    reps,
    emptyModuleProcessMs: median(baseline),
    bundles: {} as Record<string, unknown>,
  };
  for (const bundle of bundles) {
    const path = join(dir, bundle);
    const bytes = (await stat(path)).size;
    const samples = wall.get(path) ?? [];
    const extra = median(samples.map((ms, i) => ms - (baseline[i] ?? Number.NaN)));
    const measured = median(inProcess.get(path) ?? []);
    const met = bytes <= BUNDLE_LIMIT_BYTES && extra <= IMPORT_LIMIT_MS;
    (figures.bundles as Record<string, unknown>)[bundle] = {
      bytes,
      processMs: samples,
      importMsOverEmptyProcess: round(extra, 1),
      importMsInProcess: round(measured, 1),
    };
    rows.push({
      measure: bundle.replace(/\.mjs$/, ''),
      result: `${formatBytes(bytes)} (${bytes.toLocaleString('en-US')} B), imports in ${formatMs(extra)}`,
      target: `≤ 1 MB (${BUNDLE_LIMIT_BYTES.toLocaleString('en-US')} B), ≤ ${IMPORT_LIMIT_MS} ms`,
      status: met ? RowStatus.Met : RowStatus.Missed,
      note: `process time over an empty module's (${formatMs(median(baseline))}), median of ${reps}; import() alone ${formatMs(measured)}`,
    });
  }
  if (existsSync(cli)) {
    const samples = wall.get(cli) ?? [];
    const extra = median(samples.map((ms, i) => ms - (baseline[i] ?? Number.NaN)));
    const bytes = (await stat(cli)).size;
    figures.cli = { bytes, processMs: samples, importMsOverEmptyProcess: round(extra, 1) };
    rows.push({
      measure: 'CLI entry (dist/cli.mjs and its static chunks, not a handler)',
      result: `${formatBytes(bytes)}, imports in ${formatMs(extra)}`,
      target: '(context for 1a)',
      status: RowStatus.Info,
      note: 'every `ferry` process pays this; a command loads its own chunks (dist/cli-chunks/: engine, SDK clients) on first use',
    });
  }
  return { id: 'cold-start', title: TITLE, rows, figures };
}
