import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
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
