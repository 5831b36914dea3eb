import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FerryWorld,
  makeFunctionZip,
  recordLog,
  startFerryWorld,
  TWO_ACCOUNTS,
} from '../../support/sandbox-harness.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');
let world: FerryWorld | undefined;

afterEach(async () => {
  await world?.stop();
  world = undefined;
});

/** What `aws s3 cp --checksum-algorithm SHA256` does for a zip over its 8 MB threshold: parts, each with its SHA-256. */
async function uploadInParts(s3: S3Client, bucket: string, key: string, zip: Buffer, partSize: number, metadata = {}) {
  const created = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'SHA256', Metadata: metadata }),
  );
  const parts = [];
  for (let offset = 0, number = 1; offset < zip.length; offset += partSize, number++) {
    const out = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: created.UploadId,
        PartNumber: number,
        Body: zip.subarray(offset, offset + partSize),
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    parts.push({ PartNumber: number, ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256 });
  }
  return s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: created.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

describe('a multipart upload, as CI makes for zips over 8 MB', () => {
  it('recomputes S3 composite ChecksumSHA256 from the part sizes and deploys', async () => {
    world = await startFerryWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
    const log = recordLog();
    world.connectUploadHandler(world.createRuntime(), log);
    const zip = await makeFunctionZip('multipart', 11 * MiB);
    const done = await uploadInParts(
      world.s3Client(world.ci),
      world.config.artifactBucket,
      `${world.config.artifactPrefix}orders-api/12.zip`,
      zip,
      5 * MiB,
    );
    expect(done.ChecksumSHA256).toMatch(/-3$/);
    await world.sandbox.drainEvents();

    expect(world.sandbox.events.deadLetters()).toEqual([]);
    const deployed = log.lines.filter((l) => l.message === 'target deployed');
    expect(deployed.map((l) => l.attributes.codeSha256)).toEqual([sha(zip), sha(zip)]);
    expect(log.lines.find((l) => l.message === 'artifact rejected')).toBeUndefined();
  }, 120_000);
});
