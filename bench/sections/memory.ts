/**
 * 5. Memory: the peak RSS of ferry's upload handler (the bundle, alone in a Node process) deploying
 * one artifact, against the artifact's size: on the ZipFile path (≤ 50 MB, the bytes go to
 * UpdateFunctionCode) and on the S3-reference path (Lambda reads the object itself). The sandbox,
 * which keeps every object in memory, runs in its own process.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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

const TITLE = '5. Memory';
const MiB = 1024 * 1024;
export const ZIP_FILE_HEADROOM = 100 * MiB;
/** "Not growing with size": at most this share of the extra artifact bytes may show up in the peak. */
export const S3_GROWTH_LIMIT = 0.1;

interface Case {
  readonly name: string;
  readonly paddingBytes: number;
  readonly path: 'zip-file' | 's3-reference';
}

export async function benchMemory(ctx: BenchContext): Promise<SectionResult> {
  const cases: Case[] = ctx.smoke
    ? [
        { name: 'tiny', paddingBytes: 0, path: 'zip-file' },
        { name: '4 MiB', paddingBytes: 4 * MiB, path: 'zip-file' },
      ]
    : [
        { name: 'tiny', paddingBytes: 0, path: 'zip-file' },
        { name: '45 MiB', paddingBytes: 45 * MiB, path: 'zip-file' },
        { name: '60 MiB', paddingBytes: 60 * MiB, path: 's3-reference' },
        { name: '120 MiB', paddingBytes: 120 * MiB, path: 's3-reference' },
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
    const peaks = new Map<string, { rss: number[]; sizeBytes: number }>(
      cases.map((c) => [c.name, { rss: [], sizeBytes: 0 }]),
    );
    let build = 0;
    for (let rep = 0; rep < reps; rep++) {
      for (const c of cases) {
        const zip = await makeFunctionZip(`memory-${build}`, c.paddingBytes);
        const run = await deployWithHandler(ctx, world, bundle, ++build, zip);
        const entry = peaks.get(c.name);
        entry?.rss.push(run.maxRssBytes);
        if (entry) entry.sizeBytes = zip.length;
        ctx.progress(`5 ${c.name} (${c.path}) rep ${rep + 1}/${reps}: peak RSS ${formatBytes(run.maxRssBytes)}`);
      }
    }
    const summary = cases.map((c) => {
      const p = peaks.get(c.name) ?? { rss: [], sizeBytes: 0 };
      return { ...c, sizeBytes: p.sizeBytes, peakRssBytes: median(p.rss), samples: p.rss };
    });
    return { id: 'memory', title: TITLE, rows: buildRows(summary, reps), figures: { reps, cases: summary } };
  } finally {
    await world.stop();
  }
}

type Measured = Case & { sizeBytes: number; peakRssBytes: number };

function buildRows(summary: readonly Measured[], reps: number): Row[] {
  const rows: Row[] = [];
  const baseline = summary.find((c) => c.paddingBytes === 0);
  const zipCases = summary.filter((c) => c.path === 'zip-file' && c.paddingBytes > 0);
  for (const c of zipCases) {
    const limit = c.sizeBytes + ZIP_FILE_HEADROOM;
    rows.push({
      measure: `peak RSS, ${c.name} artifact, ZipFile path`,
      result: `${formatBytes(c.peakRssBytes)} = artifact + ${formatBytes(c.peakRssBytes - c.sizeBytes)}`,
      target: '≤ artifact + 100 MiB',
      status: c.peakRssBytes <= limit ? RowStatus.Met : RowStatus.Missed,
      note: `median of ${reps}; a tiny artifact peaks at ${formatBytes(baseline?.peakRssBytes ?? Number.NaN)}`,
    });
  }
  const s3 = summary.filter((c) => c.path === 's3-reference').sort((a, b) => a.sizeBytes - b.sizeBytes);
  const small = s3[0];
  const large = s3.at(-1);
  if (small && large && small !== large) {
    const growth = (large.peakRssBytes - small.peakRssBytes) / (large.sizeBytes - small.sizeBytes);
    rows.push({
      measure: `peak RSS, ${large.name} artifact, S3-reference path`,
      result: `${formatBytes(large.peakRssBytes)}; ${formatBytes(small.peakRssBytes)} at ${small.name} (growth ${round(growth * 100, 1)}% of the extra bytes)`,
      target: `not growing with size (≤ ${S3_GROWTH_LIMIT * 100}% of the extra bytes)`,
      status: growth <= S3_GROWTH_LIMIT ? RowStatus.Met : RowStatus.Missed,
      note: `median of ${reps}`,
    });
  } else {
    rows.push({
      measure: 'peak RSS, S3-reference path',
      result: 'not measured',
      target: 'not growing with size',
      status: RowStatus.Skipped,
      note: 'smoke run: artifacts above 50 MB only in the full run',
    });
  }
  return rows;
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
    [join(ctx.repoRoot, 'bench', 'children', 'deploy-handler.mjs'), bundle, eventFile, outFile],
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
