/**
 * An in-memory S3 behind aws-sdk-client-mock for the CodePipeline handler tests: versioned
 * objects with metadata and ChecksumSHA256, conditional writes (the ledger and leases), listing.
 * Every call keeps the client it came through, so tests can tell whose credentials read what.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

interface StoredVersion {
  readonly versionId: string;
  readonly body: Buffer;
  readonly metadata: Record<string, string>;
  readonly checksumSha256?: string;
  readonly etag: string;
}

export interface FakeS3 {
  readonly mock: AwsClientStub<S3Client>;
  /** Seeds an object as its owner would have written it. */
  put(bucket: string, key: string, body: Buffer, metadata?: Record<string, string>): string;
  latest(bucket: string, key: string): StoredVersion | undefined;
  /** One version of an object, as Lambda reads it for an update by S3 reference. */
  version(bucket: string, key: string, versionId: string): StoredVersion | undefined;
  keys(bucket: string): string[];
}

const meta = { $metadata: {} };

export function createFakeS3(): FakeS3 {
  const objects = new Map<string, StoredVersion[]>();
  const id = (bucket: string, key: string) => `${bucket}\u0000${key}`;
  const find = (bucket?: string, key?: string, versionId?: string) => {
    const versions = objects.get(id(bucket ?? '', key ?? '')) ?? [];
    return versionId ? versions.find((v) => v.versionId === versionId) : versions.at(-1);
  };
  const store = (bucket: string, key: string, body: Buffer, metadata: Record<string, string>, checksum?: string) => {
    const version: StoredVersion = {
      versionId: randomUUID().replaceAll('-', ''),
      body,
      metadata,
      ...(checksum ? { checksumSha256: checksum } : {}),
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
    };
    const list = objects.get(id(bucket, key)) ?? [];
    list.push(version);
    objects.set(id(bucket, key), list);
    return version;
  };
  const head = (v: StoredVersion) => ({
    ContentLength: v.body.length,
    VersionId: v.versionId,
    Metadata: v.metadata,
    ETag: v.etag,
    ...(v.checksumSha256 ? { ChecksumSHA256: v.checksumSha256 } : {}),
  });

  const mock = mockClient(S3Client);
  mock.on(GetObjectCommand).callsFake((input) => {
    const v = find(input.Bucket, input.Key, input.VersionId);
    if (!v) throw new NoSuchKey({ message: 'The specified key does not exist.', ...meta });
    const body = Object.assign(Readable.from([v.body]), {
      transformToString: async (encoding?: BufferEncoding) => v.body.toString(encoding ?? 'utf8'),
    });
    return { Body: body, ...head(v) };
  });
  mock.on(HeadObjectCommand).callsFake((input) => {
    const v = find(input.Bucket, input.Key, input.VersionId);
    if (!v) throw new NotFound({ message: 'Not Found', ...meta });
    return head(v);
  });
  mock.on(PutObjectCommand).callsFake((input) => {
    const bucket = input.Bucket ?? '';
    const key = input.Key ?? '';
    const current = find(bucket, key);
    if ((input.IfNoneMatch === '*' && current) || (input.IfMatch !== undefined && current?.etag !== input.IfMatch)) {
      throw new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        message: 'At least one of the pre-conditions you specified did not hold',
        $metadata: { httpStatusCode: 412 },
      });
    }
    const body = typeof input.Body === 'string' ? Buffer.from(input.Body) : Buffer.from(input.Body as Uint8Array);
    if (input.ChecksumSHA256 && createHash('sha256').update(body).digest('base64') !== input.ChecksumSHA256) {
      throw new S3ServiceException({ name: 'BadDigest', $fault: 'client', message: 'checksum', ...meta });
    }
    const v = store(bucket, key, body, { ...(input.Metadata ?? {}) }, input.ChecksumSHA256);
    return { VersionId: v.versionId, ETag: v.etag };
  });
  mock.on(ListObjectsV2Command).callsFake((input) => {
    const prefix = `${input.Bucket}\u0000${input.Prefix ?? ''}`;
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.split('\u0000')[1] ?? '');
    return { Contents: keys.sort().map((Key) => ({ Key })), IsTruncated: false };
  });

  return {
    mock,
    put: (bucket, key, body, metadata = {}) =>
      store(bucket, key, body, metadata, createHash('sha256').update(body).digest('base64')).versionId,
    latest: (bucket, key) => find(bucket, key),
    version: (bucket, key, versionId) => find(bucket, key, versionId),
    keys: (bucket) =>
      [...objects.keys()].filter((k) => k.startsWith(`${bucket}\u0000`)).map((k) => k.split('\u0000')[1] ?? ''),
  };
}
