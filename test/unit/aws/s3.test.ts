import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ARTIFACT_CHANGED, passVerified } from '../../../src/artifact/local-zip.js';
import { createUploadHasher } from '../../../src/artifact/part-hasher.js';
import { createObjectStore } from '../../../src/aws/s3.js';

// What S3 answers for a multipart upload (the sandbox has none): a ChecksumSHA256 of the parts' checksums.
const COMPOSITE = {
  ChecksumSHA256: 'cGFydHM=-3',
  ChecksumType: 'COMPOSITE',
  VersionId: 'v1',
  ContentLength: 5,
} as const;
const s3 = mockClient(S3Client);
// Test files share a worker's modules (vitest.config.ts): give the client's real send back.
afterAll(() => s3.restore());
const store = () => createObjectStore(new S3Client({ region: 'eu-west-1' }));
const location = { bucket: 'ferry-artifacts-111111111111', key: 'artifacts/orders-api/1.zip', versionId: 'v1' };

beforeEach(() => {
  s3.reset();
});

describe('S3 adapter', () => {
  it('reads an artifact by version with checksums on, and passes S3 ChecksumType through', async () => {
    s3.on(GetObjectCommand).resolves({ ...COMPOSITE, Body: Readable.from([Buffer.from('bytes')]) as never });
    const artifact = await store().getArtifact(location);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: location.bucket,
      Key: location.key,
      VersionId: 'v1',
      ChecksumMode: 'ENABLED',
    });
    expect(artifact).toMatchObject({ checksumSha256: 'cGFydHM=-3', checksumType: 'COMPOSITE', versionId: 'v1' });
  });

  it('passes ChecksumType through on a HEAD too', async () => {
    s3.on(HeadObjectCommand).resolves(COMPOSITE);
    expect(await store().headArtifact(location)).toMatchObject({ checksumType: 'COMPOSITE', contentLength: 5 });
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, { VersionId: 'v1', ChecksumMode: 'ENABLED' });
  });
});

describe('S3 adapter: putArtifact streams', () => {
  const MiB = 1024 * 1024;
  const PART = 5 * MiB;
  const target = { bucket: 'ferry-artifacts-111111111111', key: 'artifacts/orders-api/2.zip' };
  const digestOf = (bytes: Buffer) => {
    const hasher = createUploadHasher(PART);
    hasher.update(bytes);
    return hasher.digest();
  };
  const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('base64');

  function answerMultipart() {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u-1' });
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({
      ETag: `"e${input.PartNumber}"`,
      ChecksumSHA256: `c${input.PartNumber}`,
    }));
    s3.on(CompleteMultipartUploadCommand).resolves({ VersionId: 'v-2', ChecksumSHA256: 'composite=-3' });
    s3.on(AbortMultipartUploadCommand).resolves({});
  }

  it('sends a zip larger than one part as a multipart upload with SHA-256 part checksums and the whole SHA-256 in metadata', async () => {
    answerMultipart();
    const bytes = Buffer.alloc(12 * MiB, 3);
    const digest = digestOf(bytes);
    const out = await store().putArtifact({
      ...target,
      body: passVerified(Readable.from([bytes.subarray(0, 7 * MiB), bytes.subarray(7 * MiB)]), digest, PART),
      digest,
      metadata: { commit: 'abc' },
      createOnly: true,
      partBytes: PART,
    });
    expect(out).toEqual({ versionId: 'v-2', checksumSha256: 'composite=-3' });
    expect(s3).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: target.bucket,
      Key: target.key,
      ChecksumAlgorithm: 'SHA256',
      ContentType: 'application/zip',
      Metadata: { commit: 'abc', sha256: sha(bytes) },
    });
    const parts = s3.commandCalls(UploadPartCommand).map((call) => call.args[0].input);
    expect(parts.map((p) => [p.PartNumber, (p.Body as Buffer).length, p.ChecksumAlgorithm])).toEqual([
      [1, PART, 'SHA256'],
      [2, PART, 'SHA256'],
      [3, 2 * MiB, 'SHA256'],
    ]);
    expect(s3).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      UploadId: 'u-1',
      IfNoneMatch: '*',
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"e1"', ChecksumSHA256: 'c1' },
          { PartNumber: 2, ETag: '"e2"', ChecksumSHA256: 'c2' },
          { PartNumber: 3, ETag: '"e3"', ChecksumSHA256: 'c3' },
        ],
      },
    });
    expect(s3).not.toHaveReceivedCommand(AbortMultipartUploadCommand);
  });

  it('sends a zip that fits in one part as one create-only PutObject with its SHA-256', async () => {
    s3.on(PutObjectCommand).resolves({ VersionId: 'v-1' });
    const bytes = Buffer.from('small zip');
    const digest = digestOf(bytes);
    await store().putArtifact({ ...target, body: Readable.from([bytes]), digest, metadata: {}, createOnly: true });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      ChecksumAlgorithm: 'SHA256',
      IfNoneMatch: '*',
      Metadata: { sha256: sha(bytes) },
    });
    expect(s3).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });

  it('aborts, never completes, when the bytes streamed are not the digested ones', async () => {
    answerMultipart();
    const bytes = Buffer.alloc(12 * MiB, 3);
    const digest = digestOf(bytes);
    const changed = Buffer.alloc(12 * MiB, 4);
    await expect(
      store().putArtifact({
        ...target,
        body: passVerified(Readable.from([changed]), digest, PART),
        digest,
        metadata: {},
        partBytes: PART,
      }),
    ).rejects.toMatchObject({ code: ARTIFACT_CHANGED });
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
    expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 'u-1' });
  });

  it('turns a completion refused by If-None-Match into ARTIFACT_EXISTS and aborts the upload', async () => {
    answerMultipart();
    s3.on(CompleteMultipartUploadCommand).rejects(
      new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        $metadata: { httpStatusCode: 412 },
        message: 'At least one of the pre-conditions you specified did not hold',
      }),
    );
    const bytes = Buffer.alloc(12 * MiB, 3);
    const digest = digestOf(bytes);
    await expect(
      store().putArtifact({
        ...target,
        body: Readable.from([bytes]),
        digest,
        metadata: {},
        createOnly: true,
        partBytes: PART,
      }),
    ).rejects.toMatchObject({ code: 'ARTIFACT_EXISTS' });
    expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 'u-1' });
  });
});
