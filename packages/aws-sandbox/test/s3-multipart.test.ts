import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, type S3Event, type Sandbox, startSandbox } from '../src/index.js';
import { catchError, NO_RETRY } from './helpers.js';

const MiB = 1024 * 1024;
const BUCKET = 'ferry-artifacts';
const KEY = 'artifacts/app/9.zip';
const sha256 = (body: Buffer) => createHash('sha256').update(body).digest();
const md5 = (body: Buffer) => createHash('md5').update(body).digest();

/** Amazon S3 User Guide, "Checking object integrity": the composite is the checksum of the parts' binary checksums, then -N. */
const composite = (parts: Buffer[]) =>
  `${createHash('sha256')
    .update(Buffer.concat(parts.map(sha256)))
    .digest('base64')}-${parts.length}`;

describe('sandbox S3 multipart upload', () => {
  let sandbox: Sandbox;
  let owner: CreatedAccount;
  let s3: S3Client;
  let received: S3Event[];

  beforeEach(async () => {
    sandbox = await startSandbox({ defaultRegion: 'eu-west-1' });
    owner = sandbox.createAccount();
    sandbox.createBucket({ accountId: owner.accountId, name: BUCKET, versioning: true });
    s3 = new S3Client({ ...sandbox.clientConfig(owner.credentials), ...NO_RETRY });
    received = [];
    sandbox.subscribeToObjectCreated(BUCKET, { prefix: 'artifacts/', id: 'ferry' }, (event) => {
      received.push(event);
    });
  });
  afterEach(() => sandbox.stop());

  async function upload(parts: Buffer[], algorithm: 'SHA256' | undefined = 'SHA256') {
    const created = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key: KEY,
        Metadata: { sha256: 'declared' },
        ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}),
      }),
    );
    const uploaded = [];
    for (const [index, body] of parts.entries()) {
      const part = await s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: KEY,
          UploadId: created.UploadId,
          PartNumber: index + 1,
          Body: body,
          ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}),
        }),
      );
      uploaded.push({ PartNumber: index + 1, ETag: part.ETag, ChecksumSHA256: part.ChecksumSHA256 });
    }
    return { uploadId: created.UploadId ?? '', created, uploaded };
  }

  it('assembles the parts into one object with the multipart ETag, a COMPOSITE ChecksumSHA256 and the CompleteMultipartUpload event', async () => {
    const parts = [Buffer.alloc(5 * MiB, 1), Buffer.alloc(5 * MiB, 2), Buffer.from('tail')];
    const { uploadId, created, uploaded } = await upload(parts);
    expect(created).toMatchObject({ ChecksumAlgorithm: 'SHA256', ChecksumType: 'COMPOSITE' });
    expect(uploaded[0]?.ChecksumSHA256).toBe(sha256(parts[0] as Buffer).toString('base64'));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: KEY,
        UploadId: uploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
    const etag = `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-3"`;
    expect(done).toMatchObject({ ETag: etag, ChecksumSHA256: composite(parts), ChecksumType: 'COMPOSITE' });
    expect(done.VersionId).toBeTruthy();

    const get = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, ChecksumMode: 'ENABLED' }));
    const body = Buffer.from(
      await (get.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(body.equals(Buffer.concat(parts))).toBe(true);
    expect(get).toMatchObject({
      ChecksumSHA256: composite(parts),
      ChecksumType: 'COMPOSITE',
      Metadata: { sha256: 'declared' },
    });

    await sandbox.drainEvents();
    expect(received.map((e) => e.Records[0]?.eventName)).toEqual(['ObjectCreated:CompleteMultipartUpload']);
    expect(received[0]?.Records[0]?.s3.object).toMatchObject({
      size: body.length,
      eTag: etag.replace(/"/g, ''),
      versionId: done.VersionId,
    });
  });

  it('reports the parts with their sizes and checksums through GetObjectAttributes', async () => {
    const parts = [Buffer.alloc(5 * MiB, 7), Buffer.from('last part')];
    const { uploadId, uploaded } = await upload(parts);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: KEY,
        UploadId: uploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
    const attributes = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: BUCKET,
        Key: KEY,
        VersionId: done.VersionId,
        ObjectAttributes: ['ObjectParts', 'Checksum', 'ObjectSize'],
      }),
    );
    expect(attributes.Checksum).toMatchObject({ ChecksumSHA256: composite(parts), ChecksumType: 'COMPOSITE' });
    expect(attributes.ObjectSize).toBe(5 * MiB + 9);
    expect(attributes.ObjectParts).toMatchObject({ TotalPartsCount: 2, IsTruncated: false });
    expect(attributes.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumSHA256])).toEqual([
      [1, 5 * MiB, sha256(parts[0] as Buffer).toString('base64')],
      [2, 9, sha256(parts[1] as Buffer).toString('base64')],
    ]);
  });

  it('refuses a part other than the last under 5 MiB with EntityTooSmall, and keeps the upload open', async () => {
    const { uploadId, uploaded } = await upload([Buffer.alloc(1024, 1), Buffer.from('b')]);
    const error = await catchError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: KEY,
          UploadId: uploadId,
          MultipartUpload: { Parts: uploaded },
        }),
      ),
    );
    expect(error.name).toBe('EntityTooSmall');
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('refuses a wrong part ETag with InvalidPart and parts out of order with InvalidPartOrder', async () => {
    const { uploadId, uploaded } = await upload([Buffer.alloc(5 * MiB, 1), Buffer.from('b')]);
    const wrongEtag = uploaded.map((p, i) => (i === 1 ? { ...p, ETag: '"00000000000000000000000000000000"' } : p));
    const invalid = await catchError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: KEY,
          UploadId: uploadId,
          MultipartUpload: { Parts: wrongEtag },
        }),
      ),
    );
    expect(invalid.name).toBe('InvalidPart');
    const reversed = await catchError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: KEY,
          UploadId: uploadId,
          MultipartUpload: { Parts: [...uploaded].reverse() },
        }),
      ),
    );
    expect(reversed.name).toBe('InvalidPartOrder');
  });

  it('refuses a part whose declared SHA-256 does not match its bytes with BadDigest', async () => {
    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, ChecksumAlgorithm: 'SHA256' }),
    );
    const error = await catchError(
      s3.send(
        new UploadPartCommand({
          Bucket: BUCKET,
          Key: KEY,
          UploadId: created.UploadId,
          PartNumber: 1,
          Body: Buffer.from('part'),
          ChecksumSHA256: sha256(Buffer.from('other')).toString('base64'),
        }),
      ),
    );
    expect(error.name).toBe('BadDigest');
  });

  it('aborting drops the parts: the upload id is gone (NoSuchUpload) and no object appears', async () => {
    const { uploadId, uploaded } = await upload([Buffer.from('a')]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: uploadId }));
    const error = await catchError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: KEY,
          UploadId: uploadId,
          MultipartUpload: { Parts: uploaded },
        }),
      ),
    );
    expect(error.name).toBe('NoSuchUpload');
    await sandbox.drainEvents();
    expect(received).toEqual([]);
  });

  it('honours If-None-Match: * on completion: an existing key fails with 412 and the upload stays open', async () => {
    const first = await upload([Buffer.from('first')]);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: KEY,
        UploadId: first.uploadId,
        MultipartUpload: { Parts: first.uploaded },
        IfNoneMatch: '*',
      }),
    );
    const second = await upload([Buffer.from('second')]);
    const error = await catchError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: KEY,
          UploadId: second.uploadId,
          MultipartUpload: { Parts: second.uploaded },
          IfNoneMatch: '*',
        }),
      ),
    );
    expect(error.name).toBe('PreconditionFailed');
    const kept = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    expect(await kept.Body?.transformToString()).toBe('first');
    // The refused upload is still open: aborting it succeeds.
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: KEY, UploadId: second.uploadId }));
  });
});
