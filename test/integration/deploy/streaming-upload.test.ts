/**
 * `ferry upload` and `ferry deploy ./zip` stream a zip larger than one upload part to the sandbox
 * over HTTP as a multipart upload (each part with its SHA-256), and the upload deploys: the object
 * carries S3's composite ChecksumSHA256 and the whole object's SHA-256 in its metadata.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UPLOAD_PART_BYTES } from '../../../src/core/upload-parts.js';
import { type CliWorld, startCliWorld } from '../../support/cli-world.js';
import { DEV_AND_PROD } from '../../support/ferry-worlds.js';
import { type FerryWorld, makeFunctionZip, recordLog } from '../../support/sandbox-harness.js';

const MiB = 1024 * 1024;
const REGION = 'eu-west-1';
const DEV = '222222222222';
const PROD = '444444444444';
const CONFIG = DEV_AND_PROD;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');
let cli: CliWorld;
let world: FerryWorld;
let log: ReturnType<typeof recordLog>;
let dir: string;

beforeEach(async () => {
  cli = await startCliWorld({ config: CONFIG, lambda: { updateDelayMs: 20 } });
  ({ world, dir } = cli);
  log = recordLog();
  world.connectUploadHandler(world.createRuntime(), log);
});
afterEach(() => cli.stop());

const ferry = (...argv: string[]) => cli.ferry(...argv);

/** A zip of 12 MiB and a bit: two parts of 8 MiB. */
async function writeBigZip(name: string): Promise<{ path: string; zip: Buffer }> {
  const zip = await makeFunctionZip(name, 12 * MiB);
  const path = join(dir, `${name}.zip`);
  await writeFile(path, zip);
  return { path, zip };
}

const codeOf = (account: string) => world.sandbox.lambda.describeFunction(account, REGION, 'orders-api');
const s3Operations = () =>
  world.sandbox
    .requests({ service: 's3' })
    .map((r) => r.operation)
    .filter((op) => /Multipart|UploadPart|PutObject$/.test(op));

describe('streaming uploads of a zip larger than one part', () => {
  it('ferry upload sends it in parts with their SHA-256s, S3 stores the composite and the metadata sha256, and the upload deploys', async () => {
    expect(UPLOAD_PART_BYTES).toBe(8 * MiB);
    const { path, zip } = await writeBigZip('big-1');
    const run = await ferry('upload', path, '--app', 'orders-api', '--build', '21');
    expect(run.code, run.stderr).toBe(0);
    expect(s3Operations().filter((op) => op !== 'PutObject')).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
    const head = await world.s3Client().send(
      new HeadObjectCommand({
        Bucket: CONFIG.artifactBucket,
        Key: 'artifacts/orders-api/21.zip',
        ChecksumMode: 'ENABLED',
      }),
    );
    expect(head).toMatchObject({ ChecksumType: 'COMPOSITE', Metadata: { sha256: sha(zip) } });
    expect(head.ChecksumSHA256).toMatch(/-2$/);

    await world.sandbox.drainEvents();
    expect(world.sandbox.events.deadLetters()).toEqual([]);
    expect(codeOf(DEV)?.latest.codeSha256).toBe(sha(zip));
    expect(log.lines.find((l) => l.message === 'artifact rejected')).toBeUndefined();
  }, 120_000);

  it('uploading the same bytes again under the build id writes nothing; other bytes are refused', async () => {
    const { path } = await writeBigZip('big-2');
    expect((await ferry('upload', path, '--app', 'orders-api', '--build', '22')).code).toBe(0);
    const again = await ferry('upload', path, '--app', 'orders-api', '--build', '22');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('was already uploaded with these bytes');
    const other = await writeBigZip('big-3');
    const refused = await ferry('upload', other.path, '--app', 'orders-api', '--build', '22');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('[BUILD_EXISTS]');
    // Both were answered from the object's checksum before a byte was sent.
    expect(world.sandbox.requests({ service: 's3', operation: 'CreateMultipartUpload' })).toHaveLength(1);
  }, 120_000);

  it('ferry deploy ./zip --stage prod deploys prod only: the trigger matches the composite to the recorded copy and skips it', async () => {
    const { path, zip } = await writeBigZip('big-4');
    const run = await ferry('deploy', path, '--app', 'orders-api', '--stage', 'prod', '--build', '23');
    expect(run.code, run.stderr).toBe(0);
    await world.sandbox.drainEvents();
    expect(codeOf(PROD)?.latest.codeSha256).toBe(sha(zip));
    expect(codeOf(DEV)?.latest.codeSha256).not.toBe(sha(zip));
    expect(log.lines.filter((l) => l.message.startsWith('upload skipped'))).toHaveLength(1);
    expect(log.lines.find((l) => l.message === 'upload claims to be a ferry copy')).toBeUndefined();
  }, 120_000);
});
