/** ListObjectsV2 (prefix, delimiter, max-keys, continuation token, start-after) and ListObjectVersions. */
import type { SandboxRequest } from '../contracts.js';
import { renderXmlDocument, type XmlNode } from '../xml.js';
import { resolveBucket } from './bucket-handlers.js';
import { requireS3Action, toBucketArn } from './s3-access.js';
import { buildS3Headers, formatS3Timestamp, S3_NAMESPACE, type S3Handler } from './s3-context.js';
import { S3Error } from './s3-errors.js';
import type { Bucket, StoredObject } from './s3-store.js';

interface ListPosition {
  /** Resume strictly after this key. */
  after: string;
  /** The last page ended on this common prefix: skip every key under it. */
  skipPrefix?: string;
}

function encodeToken(position: ListPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64');
}

function decodeToken(token: string): ListPosition {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as ListPosition;
    if (typeof parsed.after === 'string') return parsed;
  } catch {
    // fall through to the AWS error
  }
  throw new S3Error('InvalidArgument', 400, 'The continuation token provided is incorrect', {
    ArgumentName: 'continuation-token',
  });
}

function readMaxKeys(req: SandboxRequest): number {
  const raw = req.query.get('max-keys');
  if (raw === null) return 1000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new S3Error('InvalidArgument', 400, 'Provided max-keys not an integer or within integer range', {
      ArgumentName: 'max-keys',
    });
  }
  // S3 never returns more than 1,000 keys per page.
  return Math.min(value, 1000);
}

/** With `encoding-type=url`, keys and prefixes in the answer are URL-encoded. */
function createEncoder(req: SandboxRequest): (value: string) => string {
  return req.query.get('encoding-type') === 'url'
    ? (value) => encodeURIComponent(value).replace(/%2F/g, '/')
    : (value) => value;
}

/** Keys with a live current version, sorted as S3 lists them (lexicographic). */
function listLiveKeys(bucket: Bucket, prefix: string): Array<[string, StoredObject]> {
  const live: Array<[string, StoredObject]> = [];
  for (const [key, versions] of bucket.objects) {
    const current = versions[0];
    if (current && !current.isDeleteMarker && key.startsWith(prefix)) live.push([key, current]);
  }
  return live.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export const listObjectsV2: S3Handler = (ctx, req, target) => {
  const bucket = resolveBucket(ctx, req, target.bucket);
  requireS3Action(ctx.iam, req.caller, bucket, 's3:ListBucket', toBucketArn(bucket.name));
  const prefix = req.query.get('prefix') ?? '';
  const delimiter = req.query.get('delimiter') ?? '';
  const maxKeys = readMaxKeys(req);
  const token = req.query.get('continuation-token') ?? undefined;
  const startAfter = req.query.get('start-after') ?? '';
  const position: ListPosition = token ? decodeToken(token) : { after: startAfter };
  const encode = createEncoder(req);

  const contents: XmlNode[] = [];
  const commonPrefixes: string[] = [];
  let last: ListPosition | undefined;
  let truncated = false;
  for (const [key, object] of listLiveKeys(bucket, prefix)) {
    if (key <= position.after || (position.skipPrefix && key.startsWith(position.skipPrefix))) continue;
    const rest = key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    const commonPrefix = cut >= 0 ? prefix + rest.slice(0, cut + delimiter.length) : undefined;
    if (commonPrefix !== undefined && commonPrefixes.at(-1) === commonPrefix) continue;
    if (contents.length + commonPrefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (commonPrefix !== undefined) {
      commonPrefixes.push(commonPrefix);
      last = { after: key, skipPrefix: commonPrefix };
    } else {
      contents.push(describeObject(object, encode));
      last = { after: key };
    }
  }
  const body = renderXmlDocument('ListBucketResult', S3_NAMESPACE, {
    Name: bucket.name,
    Prefix: encode(prefix),
    Delimiter: delimiter ? encode(delimiter) : undefined,
    MaxKeys: maxKeys,
    KeyCount: contents.length + commonPrefixes.length,
    IsTruncated: truncated,
    EncodingType: req.query.get('encoding-type') ?? undefined,
    ContinuationToken: token,
    NextContinuationToken: truncated && last ? encodeToken(last) : undefined,
    StartAfter: startAfter ? encode(startAfter) : undefined,
    Contents: contents,
    CommonPrefixes: commonPrefixes.map((value) => ({ Prefix: encode(value) })),
  });
  return { status: 200, headers: buildS3Headers(req, { 'content-type': 'application/xml' }), body };
};

function describeObject(object: StoredObject, encode: (value: string) => string): XmlNode {
  return {
    Key: encode(object.key),
    LastModified: formatS3Timestamp(object.lastModified),
    ETag: object.etag,
    ChecksumAlgorithm: object.checksum?.algorithm,
    ChecksumType: object.checksum ? (object.checksumType ?? 'FULL_OBJECT') : undefined,
    Size: object.body.length,
    StorageClass: 'STANDARD',
  };
}

/** Every version and delete marker under the prefix, keys ascending, newest version first. No paging. */
export const listObjectVersions: S3Handler = (ctx, req, target) => {
  const bucket = resolveBucket(ctx, req, target.bucket);
  requireS3Action(ctx.iam, req.caller, bucket, 's3:ListBucketVersions', toBucketArn(bucket.name));
  const prefix = req.query.get('prefix') ?? '';
  const encode = createEncoder(req);
  const versions: XmlNode[] = [];
  const markers: XmlNode[] = [];
  const keys = [...bucket.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  for (const key of keys) {
    (bucket.objects.get(key) ?? []).forEach((version, index) => {
      const common = {
        Key: encode(key),
        VersionId: version.versionId,
        IsLatest: index === 0,
        LastModified: formatS3Timestamp(version.lastModified),
      };
      if (version.isDeleteMarker) markers.push({ ...common, Owner: { ID: bucket.accountId } });
      else versions.push({ ...common, ETag: version.etag, Size: version.body.length, StorageClass: 'STANDARD' });
    });
  }
  const body = renderXmlDocument('ListVersionsResult', S3_NAMESPACE, {
    Name: bucket.name,
    Prefix: encode(prefix),
    KeyMarker: '',
    VersionIdMarker: '',
    MaxKeys: 1000,
    IsTruncated: false,
    Version: versions,
    DeleteMarker: markers,
  });
  return { status: 200, headers: buildS3Headers(req, { 'content-type': 'application/xml' }), body };
};
