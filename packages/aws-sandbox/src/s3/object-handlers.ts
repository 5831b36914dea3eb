/** Object operations: PutObject (checksums, conditional writes, events), GetObject/HeadObject, DeleteObject. */

import { createHash } from 'node:crypto';
import type { SandboxRequest, SandboxResponse } from '../contracts.js';
import { resolveBucket } from './bucket-handlers.js';
import { headerNameOf, verifyDeclaredChecksum } from './checksums.js';
import { buildObjectCreatedRecord } from './event-record.js';
import { isS3ActionAllowed, requireS3Action, toBucketArn, toObjectArn } from './s3-access.js';
import { buildS3Headers, type S3Context, type S3Handler } from './s3-context.js';
import { createNoSuchKey, createPreconditionFailed, S3Error } from './s3-errors.js';
import { type Bucket, type StoredObject, VersioningStatus } from './s3-store.js';

/** Headers S3 stores with the object and returns on GET/HEAD. */
const STANDARD_HEADERS = ['content-type', 'content-disposition', 'content-language', 'cache-control', 'expires'];

export const putObject: S3Handler = (ctx, req, target) => {
  const bucket = resolveBucket(ctx, req, target.bucket);
  const key = target.key ?? '';
  const objectArn = toObjectArn(bucket.name, key);
  requireS3Action(ctx.iam, req.caller, bucket, 's3:PutObject', objectArn);
  // S3 User Guide, "How to prevent object overwrites with conditional writes": a write with If-Match
  // reads the current ETag, so it needs s3:GetObject as well as s3:PutObject.
  if (req.headers['if-match'] !== undefined) requireS3Action(ctx.iam, req.caller, bucket, 's3:GetObject', objectArn);
  verifyContentMd5(req);
  const checksum = verifyDeclaredChecksum(req.headers, req.trailers, req.body);
  checkWritePreconditions(ctx, req, bucket, key);
  const stored = ctx.store.putObject(bucket, {
    key,
    body: req.body,
    metadata: readUserMetadata(req.headers),
    standardHeaders: readStandardHeaders(req.headers),
    ...(checksum ? { checksum } : {}),
    now: ctx.clock.now(),
  });
  publishObjectCreated(ctx, req, bucket, stored);
  const headers = buildS3Headers(req, { etag: stored.etag, 'x-amz-server-side-encryption': 'AES256' });
  if (bucket.versioning === VersioningStatus.Enabled) headers['x-amz-version-id'] = stored.versionId;
  if (checksum) {
    headers[headerNameOf(checksum.algorithm)] = checksum.value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  return { status: 200, headers };
};

/**
 * Conditional writes (S3 User Guide, "How to prevent object overwrites with conditional writes"):
 * If-None-Match: * fails with 412 when the key exists; If-Match: <etag> fails with 412 when the
 * ETag differs and with 404 when there is no current object. PutObject and CompleteMultipartUpload
 * honour both.
 */
export function checkWritePreconditions(ctx: S3Context, req: SandboxRequest, bucket: Bucket, key: string): void {
  const current = ctx.store.findCurrent(bucket, key);
  const exists = current !== undefined && !current.isDeleteMarker;
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*')
      throw new S3Error('NotImplemented', 501, 'A header you provided implies functionality that is not implemented', {
        Header: 'If-None-Match',
      });
    if (exists) throw createPreconditionFailed('If-None-Match');
  }
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined) {
    if (!exists) throw createNoSuchKey(key);
    if (!matchesEtag(ifMatch, current.etag)) throw createPreconditionFailed('If-Match');
  }
}

/** An If-Match / If-None-Match list matches when any entry is `*` or equals the ETag (quotes optional). */
function matchesEtag(header: string, etag: string): boolean {
  const bare = etag.replace(/"/g, '');
  return header.split(',').some((entry) => {
    const value = entry.trim().replace(/^W\//, '').replace(/"/g, '');
    return value === '*' || value === bare;
  });
}

function verifyContentMd5(req: SandboxRequest): void {
  const declared = req.headers['content-md5'];
  if (declared === undefined) return;
  if (Buffer.from(declared, 'base64').length !== 16)
    throw new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified is not valid.');
  if (createHash('md5').update(req.body).digest('base64') !== declared) {
    throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
  }
}

export function readUserMetadata(headers: Readonly<Record<string, string>>): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (name.startsWith('x-amz-meta-')) metadata[name] = value;
  return metadata;
}

export function readStandardHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const stored: Record<string, string> = { 'content-type': 'binary/octet-stream' };
  for (const name of STANDARD_HEADERS) if (headers[name] !== undefined) stored[name] = headers[name] as string;
  // aws-chunked is a transfer detail, not part of the object's Content-Encoding.
  const encoding = (headers['content-encoding'] ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part && part !== 'aws-chunked');
  if (encoding.length > 0) stored['content-encoding'] = encoding.join(',');
  return stored;
}

export function publishObjectCreated(
  ctx: S3Context,
  req: SandboxRequest,
  bucket: Bucket,
  stored: StoredObject,
  eventName = 'ObjectCreated:Put',
): void {
  const subscriptions = ctx.events.findSubscriptions(bucket.name, stored.key);
  if (subscriptions.length === 0) return;
  const sequencer = ctx.sequencer.next(stored.lastModified);
  const roleId = req.caller.roleArn ? ctx.iam.findRole(req.caller.roleArn)?.roleId : undefined;
  for (const subscription of subscriptions) {
    const record = buildObjectCreatedRecord({
      bucket: { ...bucket, versioned: bucket.versioning !== VersioningStatus.Unversioned },
      object: stored,
      caller: req.caller,
      roleId,
      requestId: req.requestId ?? '',
      sequencer,
      configurationId: subscription.id,
      eventName,
    });
    ctx.events.publish(subscription.id, { Records: [record] });
  }
}

/** GetObject and HeadObject share lookup, permissions, conditions and headers. */
export function readObject(
  ctx: S3Context,
  req: SandboxRequest,
  bucket: Bucket,
  key: string,
  actions: { current: string; version: string } = { current: 's3:GetObject', version: 's3:GetObjectVersion' },
): StoredObject {
  const versionId = req.query.get('versionId') ?? undefined;
  const action = versionId === undefined ? actions.current : actions.version;
  requireS3Action(ctx.iam, req.caller, bucket, action, toObjectArn(bucket.name, key));
  const found =
    versionId === undefined ? ctx.store.findCurrent(bucket, key) : ctx.store.findVersion(bucket, key, versionId);
  if (!found) {
    // Without s3:ListBucket a missing key is reported as 403, not 404 (S3 API Reference, GetObject).
    if (!isS3ActionAllowed(ctx.iam, req.caller, bucket, 's3:ListBucket', toBucketArn(bucket.name))) {
      throw new S3Error('AccessDenied', 403, 'Access Denied');
    }
    if (versionId !== undefined) {
      throw new S3Error('NoSuchVersion', 404, 'The specified version does not exist.', {
        Key: key,
        VersionId: versionId,
      });
    }
    throw createNoSuchKey(key);
  }
  if (found.isDeleteMarker) {
    const headers = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': found.versionId };
    if (versionId !== undefined) {
      throw new S3Error(
        'MethodNotAllowed',
        405,
        'The specified method is not allowed against this resource.',
        {},
        {
          ...headers,
          'last-modified': new Date(found.lastModified).toUTCString(),
        },
      );
    }
    throw createNoSuchKey(key, headers);
  }
  return found;
}

function checkReadPreconditions(req: SandboxRequest, object: StoredObject): SandboxResponse | undefined {
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined && !matchesEtag(ifMatch, object.etag)) throw createPreconditionFailed('If-Match');
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined && matchesEtag(ifNoneMatch, object.etag)) {
    return { status: 304, headers: buildS3Headers(req, { etag: object.etag }) };
  }
  return undefined;
}

interface ByteRange {
  start: number;
  end: number;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; S3 ignores multi-range and malformed headers (whole object). */
function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first = '', last = ''] = match;
  const range =
    first === ''
      ? { start: Math.max(0, size - Number(last)), end: size - 1 }
      : { start: Number(first), end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
  if (range.start >= size || range.start > range.end || (first === '' && Number(last) === 0)) {
    throw new S3Error(
      'InvalidRange',
      416,
      'The requested range is not satisfiable',
      {
        RangeRequested: header ?? '',
        ActualObjectSize: String(size),
      },
      { 'content-range': `bytes */${size}` },
    );
  }
  return range;
}

function serveObject(
  ctx: S3Context,
  req: SandboxRequest,
  target: { bucket?: string; key?: string },
  withBody: boolean,
): SandboxResponse {
  const bucket = resolveBucket(ctx, req, target.bucket);
  const object = readObject(ctx, req, bucket, target.key ?? '');
  const notModified = checkReadPreconditions(req, object);
  if (notModified) return notModified;
  const range = parseRange(req.headers.range, object.body.length);
  const headers = buildS3Headers(req, {
    ...object.standardHeaders,
    ...object.metadata,
    etag: object.etag,
    'last-modified': new Date(object.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    'x-amz-server-side-encryption': 'AES256',
  });
  if (bucket.versioning !== VersioningStatus.Unversioned) headers['x-amz-version-id'] = object.versionId;
  // Checksums describe the whole object, so ranged reads do not carry them.
  if (object.checksum && !range && req.headers['x-amz-checksum-mode']?.toUpperCase() === 'ENABLED') {
    headers[headerNameOf(object.checksum.algorithm)] = object.checksum.value;
    headers['x-amz-checksum-type'] = object.checksumType ?? 'FULL_OBJECT';
  }
  const body = range ? object.body.subarray(range.start, range.end + 1) : object.body;
  headers['content-length'] = String(body.length);
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${object.body.length}`;
  return { status: range ? 206 : 200, headers, ...(withBody ? { body } : {}) };
}

export const getObject: S3Handler = (ctx, req, target) => serveObject(ctx, req, target, true);
export const headObject: S3Handler = (ctx, req, target) => serveObject(ctx, req, target, false);

export const deleteObject: S3Handler = (ctx, req, target) => {
  const bucket = resolveBucket(ctx, req, target.bucket);
  const key = target.key ?? '';
  const versionId = req.query.get('versionId') ?? undefined;
  const action = versionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion';
  requireS3Action(ctx.iam, req.caller, bucket, action, toObjectArn(bucket.name, key));
  const affected = ctx.store.deleteObject(bucket, key, versionId, ctx.clock.now());
  const headers = buildS3Headers(req);
  if (affected) {
    if (bucket.versioning !== VersioningStatus.Unversioned) headers['x-amz-version-id'] = affected.versionId;
    if (affected.isDeleteMarker) headers['x-amz-delete-marker'] = 'true';
  }
  return { status: 204, headers };
};
