/**
 * 5. Memory: the peak RSS of ferry's own process against the artifact's size, on the two paths
 * artifact bytes pass through ferry.
 * - A deploy: ferry's upload handler (the bundle, alone in a Node process) deploying one artifact.
 *   Same-Region targets are deployed by S3 reference, so the bytes are only streamed through a
 *   hash and the zip checks (spooled to /tmp), never held.
 * - An upload: `ferry upload` (bin/ferry.js on the bundle) streaming a zip into the bucket, a
 *   multipart upload past one part.
 * The sandbox, which keeps every object in memory, runs in its own process. Big zips are written
 * to the run's temp directory (stored, incompressible entries) and removed with it.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runProcess, tail } from '../lib/children.js';
import {
  ALIAS,
  App,
  artifactKey,
  BUCKET,
  buildId,
  buildMemoryConfig,
  Fn,
  REGION,
  SINGLE_ACCOUNT,
} from '../lib/configs.js';
import type { BenchContext } from '../lib/context.js';
import { type Row, RowStatus, type SectionResult } from '../lib/report.js';
import { formatBytes, median, round } from '../lib/stats.js';
import { startWorldProcess, type WorldProcess } from '../lib/world.js';
import { computeCodeSha256, makeFunctionZip } from '../lib/zips.js';
import { ferryEnv } from './cli-vs-awscli.js';

const TITLE = '5. Memory';
const MiB = 1024 * 1024;
/** "Flat": at most this share of the extra artifact bytes may show up in the peak. */
export const GROWTH_LIMIT = 0.1;
/** The largest zip ferry accepts (Lambda's 250 MB unzipped limit, config limits.maxArtifactBytes). */
const LARGEST_ACCEPTED = 240 * MiB;

interface Case {
  readonly name: string;
  readonly paddingBytes: number;
  readonly path: 'deploy' | 'upload';
}

export async function benchMemory(ctx: BenchContext): Promise<SectionResult> {
  const cases: Case[] = ctx.smoke
    ? [
        { name: 'tiny', paddingBytes: 0, path: 'deploy' },
        { name: '4 MiB', paddingBytes: 4 * MiB, path: 'deploy' },
        { name: '12 MiB', paddingBytes: 12 * MiB, path: 'upload' },
      ]
    : [
        { name: 'tiny', paddingBytes: 0, path: 'deploy' },
        { name: '45 MiB', paddingBytes: 45 * MiB, path: 'deploy' },
        { name: '200 MiB', paddingBytes: 200 * MiB, path: 'deploy' },
        { name: '50 MiB', paddingBytes: 50 * MiB, path: 'upload' },
        { name: '240 MiB', paddingBytes: LARGEST_ACCEPTED - 64 * 1024, path: 'upload' },
      ];
  const reps = ctx.smoke ? 1 : 3;
  const world = await startWorldProcess({
    repoRoot: ctx.repoRoot,
    workDir: ctx.workDir,
    name: 'memory',
    config: buildMemoryConfig(),
  });
  try {
    const bundle = join(ctx.repoRoot, 'dist', 'handlers', 'artifact-uploaded.mjs');
    const key = (c: Case) => `${c.path} ${c.name}`;
    const peaks = new Map<string, { rss: number[]; sizeBytes: number }>(
      cases.map((c) => [key(c), { rss: [], sizeBytes: 0 }]),
    );
    // Upload zips are written once and sent under a new build id each time.
    const uploadZips = new Map<string, string>();
    let build = 0;
    for (let rep = 0; rep < reps; rep++) {
      for (const c of cases) {
        const entry = peaks.get(key(c));
        let peak: number;
        if (c.path === 'deploy') {
          // A deploy needs new bytes every time (ferry skips what a function already runs).
          const zip = await makeFunctionZip(`memory-${build}`, c.paddingBytes);
          if (entry) entry.sizeBytes = zip.length;
          peak = (await deployWithHandler(ctx, world, bundle, ++build, zip)).maxRssBytes;
        } else {
          let file = uploadZips.get(c.name);
          if (file === undefined) {
            file = join(ctx.workDir, `upload-${c.paddingBytes}.zip`);
            const zip = await makeFunctionZip(`upload-${c.name}`, c.paddingBytes);
            await writeFile(file, zip);
            if (entry) entry.sizeBytes = zip.length;
            uploadZips.set(c.name, file);
          }
          peak = await uploadWithCli(ctx, world, file, ++build);
        }
        entry?.rss.push(peak);
        ctx.progress(`5 ${c.path} ${c.name} rep ${rep + 1}/${reps}: peak RSS ${formatBytes(peak)}`);
      }
    }
    for (const file of uploadZips.values()) await rm(file, { force: true });
    const summary = cases.map((c) => {
      const p = peaks.get(key(c)) ?? { rss: [], sizeBytes: 0 };
      return { ...c, sizeBytes: p.sizeBytes, peakRssBytes: median(p.rss), samples: p.rss };
    });
    return { id: 'memory', title: TITLE, rows: buildRows(summary, reps, ctx.smoke), figures: { reps, cases: summary } };
  } finally {
    await world.stop();
  }
}

type Measured = Case & { sizeBytes: number; peakRssBytes: number };

function buildRows(summary: readonly Measured[], reps: number, smoke: boolean): Row[] {
  const baseline = summary.find((c) => c.paddingBytes === 0);
  const deploys = summary.filter((c) => c.path === 'deploy' && c.paddingBytes > 0);
  const uploads = summary.filter((c) => c.path === 'upload');
  return [
    growthRow({
      measure: (large) => `peak RSS, deploy of a ${large} artifact (upload handler, S3 reference)`,
      cases: deploys,
      note: `median of ${reps}; a tiny artifact peaks at ${formatBytes(baseline?.peakRssBytes ?? Number.NaN)}`,
      smoke,
    }),
    growthRow({
      measure: (large) => `peak RSS, \`ferry upload\` of a ${large} zip (multipart, 8 MiB parts)`,
      cases: uploads,
      note: `median of ${reps}; 500 MiB asked for: a zip above Lambda's 250 MB limit is refused by \`ferry upload\` before a byte is sent (ARTIFACT_TOO_LARGE), so the largest it accepts stands in`,
      smoke,
    }),
  ];
}

/** Peak RSS of the largest case against the smallest: the share of the extra bytes that shows up. */
function growthRow(input: {
  measure: (large: string) => string;
  cases: readonly Measured[];
  note: string;
  smoke: boolean;
}): Row {
  const sorted = [...input.cases].sort((a, b) => a.sizeBytes - b.sizeBytes);
  const small = sorted[0];
  const large = sorted.at(-1);
  const target = `flat (≤ ${GROWTH_LIMIT * 100}% of the extra bytes)`;
  if (!small || !large) {
    return { measure: input.measure('?'), result: 'not measured', target, status: RowStatus.Skipped, note: input.note };
  }
  if (small === large) {
    return {
      measure: input.measure(large.name),
      result: formatBytes(large.peakRssBytes),
      target,
      status: RowStatus.Skipped,
      note: `smoke run: one size only (${input.note})`,
    };
  }
  const growth = (large.peakRssBytes - small.peakRssBytes) / (large.sizeBytes - small.sizeBytes);
  return {
    measure: input.measure(large.name),
    result: `${formatBytes(large.peakRssBytes)}; ${formatBytes(small.peakRssBytes)} at ${small.name} (growth ${round(growth * 100, 1)}% of the extra bytes)`,
    target,
    status: growth <= GROWTH_LIMIT ? RowStatus.Met : RowStatus.Missed,
    note: input.note,
  };
}

/** `ferry upload` in its own process (the CLI bundle), its peak RSS written by a preload. */
async function uploadWithCli(ctx: BenchContext, world: WorldProcess, file: string, build: number): Promise<number> {
  const peakFile = join(ctx.workDir, 'upload-peak.json');
  await writeFile(peakFile, '');
  const run = await runProcess(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(ctx.repoRoot, 'bench', 'children', 'peak-rss.mjs')).href,
      join(ctx.repoRoot, 'bin', 'ferry.js'),
      'upload',
      file,
      '--app',
      App.memory,
      '--build',
      buildId(build),
      '--config',
      world.configFile,
      '--json',
    ],
    { cwd: ctx.workDir, env: { ...ferryEnv(ctx, world), FERRY_BENCH_PEAK_FILE: peakFile }, timeoutMs: 300_000 },
  );
  const text = await readFile(peakFile, 'utf8');
  if (run.code !== 0 || text === '')
    throw new Error(`ferry upload of ${file} failed (${run.signal ?? run.code}): ${tail(run.stderr || run.stdout)}`);
  const result = JSON.parse(run.stdout) as { versionId?: string; alreadyUploaded?: boolean };
  if (!result.versionId || result.alreadyUploaded) throw new Error(`ferry upload wrote nothing: ${run.stdout}`);
  return (JSON.parse(text) as { maxRssBytes: number }).maxRssBytes;
}

async function deployWithHandler(ctx: BenchContext, world: WorldProcess, bundle: string, build: number, zip: Buffer) {
  const key = artifactKey(App.memory, buildId(build));
  const versionId = await world.upload(BUCKET, key, zip);
  const eventFile = join(ctx.workDir, 'memory-event.json');
  const outFile = join(ctx.workDir, 'memory-out.json');
  await writeFile(eventFile, JSON.stringify(buildS3Event(key, versionId, zip.length)));
  await writeFile(outFile, '');
  const run = await runProcess(
    process.execPath,
    [join(ctx.repoRoot, 'bench', 'children', 'ferry-invocation.mjs'), bundle, eventFile, outFile, '900000'],
    {
      cwd: ctx.workDir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: ctx.workDir,
        ...world.env,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: join(ctx.workDir, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(ctx.workDir, 'no-aws-credentials'),
        FERRY_TMP_DIR: ctx.workDir,
        POWERTOOLS_LOG_LEVEL: 'WARN',
      },
      timeoutMs: 300_000,
    },
  );
  const text = await readFile(outFile, 'utf8');
  if (run.code !== 0 || text === '') {
    throw new Error(
      `the upload handler failed on a ${zip.length}-byte artifact (${run.signal ?? run.code}): ${text}\n${tail(run.stderr || run.stdout)}`,
    );
  }
  const out = JSON.parse(text) as { maxRssBytes: number; result: { results: { status: string }[] } };
  const status = out.result.results[0]?.status;
  if (status !== 'succeeded') throw new Error(`the upload handler answered ${status}: ${text}`);
  const live = await world.readAlias(SINGLE_ACCOUNT, Fn.memory, ALIAS);
  if (live.codeSha256 !== computeCodeSha256(zip))
    throw new Error(`${Fn.memory}:${ALIAS} does not run the deployed artifact`);
  return out;
}

/** An S3 ObjectCreated event as the bucket notification sends it (keys are URL-encoded). */
function buildS3Event(key: string, versionId: string, size: number) {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: REGION,
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'ferry-artifact-uploaded',
          bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size, versionId, sequencer: '0' },
        },
      },
    ],
  };
}
