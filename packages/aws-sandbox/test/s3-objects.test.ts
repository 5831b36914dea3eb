import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, type Sandbox, startSandbox } from '../src/index.js';
import { catchError, NO_RETRY } from './helpers.js';

const sha256Base64 = (body: string | Buffer) => createHash('sha256').update(body).digest('base64');

describe('sandbox S3 objects', () => {
  let sandbox: Sandbox;
  let owner: CreatedAccount;
  let s3: S3Client;

  beforeEach(async () => {
    sandbox = await startSandbox();
    owner = sandbox.createAccount();
    sandbox.createBucket({ accountId: owner.accountId, name: 'artifacts', versioning: true });
    s3 = new S3Client({ ...sandbox.clientConfig(owner.credentials), ...NO_RETRY });
  });
  afterEach(() => sandbox.stop());

  it('stores a streamed aws-chunked upload with a trailing ChecksumSHA256 and returns the checksum', async () => {
    // Amazon S3 User Guide, "Checking object integrity": with trailing checksums the SDK sends
    // aws-chunked bodies (STREAMING-UNSIGNED-PAYLOAD-TRAILER); S3 stores the checksum and returns it
    // on GetObject/HeadObject when x-amz-checksum-mode is ENABLED.
    const body = Buffer.from('zip bytes '.repeat(1000));
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'artifacts',
        Key: 'artifacts/app/42.zip',
        Body: Readable.from([body.subarray(0, 4000), body.subarray(4000)]),
        ContentLength: body.length,
        ChecksumAlgorithm: 'SHA256',
        Metadata: { build: '42', app: 'orders' },
      }),
    );
    expect(put.ChecksumSHA256).toBe(sha256Base64(body));
    expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    expect(put.VersionId).toBeTruthy();

    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'artifacts', Key: 'artifacts/app/42.zip', ChecksumMode: 'ENABLED' }),
    );
    expect(head).toMatchObject({
      ContentLength: body.length,
      ChecksumSHA256: sha256Base64(body),
      Metadata: { build: '42', app: 'orders' },
    });
    const get = await s3.send(
      new GetObjectCommand({ Bucket: 'artifacts', Key: 'artifacts/app/42.zip', ChecksumMode: 'ENABLED' }),
    );
    expect(
      Buffer.from(await (get.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()),
    ).toEqual(body);
    expect(get.ChecksumSHA256).toBe(sha256Base64(body));
  });

  it('refuses a body whose declared checksum does not match with BadDigest', async () => {
    // Amazon S3 API Reference, PutObject / Error responses: BadDigest (400) when the checksum differs.
    const error = await catchError(
      s3.send(
        new PutObjectCommand({ Bucket: 'artifacts', Key: 'x', Body: 'hello', ChecksumSHA256: sha256Base64('other') }),
      ),
    );
    expect(error.name).toBe('BadDigest');
    expect(error.message).toBe('The SHA256 you specified did not match the calculated checksum.');
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'artifacts', Key: 'x' }))).rejects.toMatchObject({
      name: 'NotFound',
    });
  });

  it('reads an exact version and byte ranges', async () => {
    // Amazon S3 API Reference, GetObject: versionId selects a version; Range returns 206 with Content-Range.
    const first = await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'k', Body: 'first version' }));
    await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'k', Body: 'second version' }));
    const old = await s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'k', VersionId: first.VersionId }));
    expect(await old.Body?.transformToString()).toBe('first version');
    expect(old.VersionId).toBe(first.VersionId);

    const ranged = await s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'k', Range: 'bytes=0-5' }));
    expect(ranged.$metadata.httpStatusCode).toBe(206);
    expect(ranged.ContentRange).toBe('bytes 0-5/14');
    expect(await ranged.Body?.transformToString()).toBe('second');
    const suffix = await s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'k', Range: 'bytes=-7' }));
    expect(await suffix.Body?.transformToString()).toBe('version');
    const beyond = await catchError(
      s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'k', Range: 'bytes=100-' })),
    );
    expect(beyond.name).toBe('InvalidRange');
  });

  it('answers 412 to If-None-Match: * on an existing key and to If-Match with a stale ETag', async () => {
    // Amazon S3 User Guide, "How to prevent object overwrites with conditional writes": 412 Precondition Failed.
    const created = await s3.send(
      new PutObjectCommand({ Bucket: 'artifacts', Key: 'ledger.json', Body: '{}', IfNoneMatch: '*' }),
    );
    const again = await catchError(
      s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'ledger.json', Body: '{"a":1}', IfNoneMatch: '*' })),
    );
    expect(again.name).toBe('PreconditionFailed');
    expect(again.$metadata?.httpStatusCode).toBe(412);

    const swapped = await s3.send(
      new PutObjectCommand({ Bucket: 'artifacts', Key: 'ledger.json', Body: '{"b":2}', IfMatch: created.ETag }),
    );
    const stale = await catchError(
      s3.send(
        new PutObjectCommand({ Bucket: 'artifacts', Key: 'ledger.json', Body: '{"c":3}', IfMatch: created.ETag }),
      ),
    );
    expect(stale.name).toBe('PreconditionFailed');
    const current = await s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'ledger.json' }));
    expect(current.ETag).toBe(swapped.ETag);
    expect(await current.Body?.transformToString()).toBe('{"b":2}');
  });

  it('renders an injected 409 ConditionalRequestConflict as S3 does', async () => {
    // S3 API Reference, PutObject If-Match / If-None-Match: "If a conflicting operation occurs during
    // the upload S3 returns a 409 ConditionalRequestConflict response."
    const created = await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'ledger.json', Body: '{}' }));
    sandbox.faults.add({
      service: 's3',
      operation: 'PutObject',
      error: { code: 'ConditionalRequestConflict', status: 409 },
      times: 1,
    });
    const conflict = await catchError(
      s3.send(
        new PutObjectCommand({ Bucket: 'artifacts', Key: 'ledger.json', Body: '{"a":1}', IfMatch: created.ETag }),
      ),
    );
    expect(conflict).toBeInstanceOf(S3ServiceException);
    expect(conflict.name).toBe('ConditionalRequestConflict');
    expect(conflict.$metadata?.httpStatusCode).toBe(409);
    expect(conflict.message).toMatch(/conflicting conditional operation/);
    expect((conflict as S3ServiceException).$response?.headers['content-type']).toBe('application/xml');
    expect(sandbox.requests({ service: 's3', operation: 'PutObject' }).at(-1)).toMatchObject({
      status: 409,
      errorCode: 'ConditionalRequestConflict',
    });
    // The conflict wrote nothing; retrying after it succeeds (the fault was for one request).
    await expect(
      s3.send(
        new PutObjectCommand({ Bucket: 'artifacts', Key: 'ledger.json', Body: '{"a":1}', IfMatch: created.ETag }),
      ),
    ).resolves.toMatchObject({ ETag: expect.any(String) });
  });

  it('hides a deleted object behind a delete marker in a versioned bucket', async () => {
    // Amazon S3 User Guide, "Working with delete markers": a simple DELETE adds a marker; GET then answers 404.
    const put = await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'gone', Body: 'data' }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: 'artifacts', Key: 'gone' }));
    expect(deleted.DeleteMarker).toBe(true);
    const error = await catchError(s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'gone' })));
    expect(error).toBeInstanceOf(NoSuchKey);
    const old = await s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'gone', VersionId: put.VersionId }));
    expect(await old.Body?.transformToString()).toBe('data');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'artifacts', Prefix: 'gone' }));
    expect(versions.DeleteMarkers?.map((m) => m.IsLatest)).toEqual([true]);
    expect(versions.Versions?.map((v) => v.VersionId)).toEqual([put.VersionId]);
  });

  it('lists keys with prefix, delimiter and continuation tokens', async () => {
    // Amazon S3 API Reference, ListObjectsV2: CommonPrefixes for the delimiter, NextContinuationToken when truncated.
    for (const key of ['artifacts/a/1.zip', 'artifacts/a/2.zip', 'artifacts/b/1.zip', 'artifacts/top.zip', 'other/x']) {
      await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: key, Body: key }));
    }
    const grouped = await s3.send(
      new ListObjectsV2Command({ Bucket: 'artifacts', Prefix: 'artifacts/', Delimiter: '/' }),
    );
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['artifacts/a/', 'artifacts/b/']);
    expect(grouped.Contents?.map((c) => c.Key)).toEqual(['artifacts/top.zip']);
    expect(grouped.KeyCount).toBe(3);

    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: 'artifacts', Prefix: 'artifacts/', MaxKeys: 2, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((c) => c.Key ?? ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(keys).toEqual(['artifacts/a/1.zip', 'artifacts/a/2.zip', 'artifacts/b/1.zip', 'artifacts/top.zip']);
  });

  it('reports a missing key as 403 to a caller without s3:ListBucket', async () => {
    // Amazon S3 API Reference, GetObject: "If you don't have the s3:ListBucket permission, Amazon S3
    // returns an HTTP status code 403 Access Denied error" for a key that does not exist.
    const reader = sandbox.createAccount();
    sandbox.putBucketPolicy('artifacts', {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: reader.accountId },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::artifacts/*',
        },
      ],
    });
    const client = new S3Client({ ...sandbox.clientConfig(reader.credentials), ...NO_RETRY });
    const error = await catchError(client.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'missing' })));
    expect(error.name).toBe('AccessDenied');
    const ownerError = await catchError(s3.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'missing' })));
    expect(ownerError).toBeInstanceOf(NoSuchKey);
  });

  it('answers PermanentRedirect for a bucket in another Region', async () => {
    // Amazon S3 API Reference, Error responses: PermanentRedirect (301) when the bucket must be
    // addressed through another Region's endpoint.
    const usEast = new S3Client({ ...sandbox.clientConfig(owner.credentials, 'us-east-1'), ...NO_RETRY });
    const error = await catchError(usEast.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'k' })));
    expect(error.name).toBe('PermanentRedirect');
    expect(error.$metadata?.httpStatusCode).toBe(301);
  });

  it('answers NoSuchBucket for a bucket that does not exist', async () => {
    const error = await catchError(s3.send(new GetObjectCommand({ Bucket: 'missing-bucket', Key: 'k' })));
    expect(error.name).toBe('NoSuchBucket');
    expect(error).toBeInstanceOf(S3ServiceException);
  });
});
