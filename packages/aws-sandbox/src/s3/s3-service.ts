/**
 * S3 over REST/XML. Path-style addressing (`/bucket/key`) is what SDK clients with a custom
 * endpoint need (`forcePathStyle: true`); virtual-hosted addressing works for `<bucket>.localhost`
 * hosts.
 */
import type { S3ObjectReader, SandboxRequest, SandboxService } from '../contracts.js';
import { getObjectAttributes } from './attributes-handlers.js';
import {
  createBucket,
  deleteBucket,
  deleteBucketPolicy,
  getBucketLocation,
  getBucketPolicy,
  getBucketVersioning,
  headBucket,
  listBuckets,
  putBucketPolicy,
  putBucketVersioning,
} from './bucket-handlers.js';
import { listObjectsV2, listObjectVersions } from './listing-handlers.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  MultipartUploads,
  uploadPart,
} from './multipart-handlers.js';
import { deleteObject, getObject, headObject, putObject } from './object-handlers.js';
import { requireS3Action, toObjectArn } from './s3-access.js';
import type { S3Context, S3Handler, S3Target } from './s3-context.js';
import { createNoSuchBucket, createNoSuchKey, renderS3Error, S3Error } from './s3-errors.js';

const BASE_HANDLERS: Record<string, S3Handler> = {
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  ListBuckets: listBuckets,
  GetBucketLocation: getBucketLocation,
  PutBucketVersioning: putBucketVersioning,
  GetBucketVersioning: getBucketVersioning,
  PutBucketPolicy: putBucketPolicy,
  GetBucketPolicy: getBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  ListObjectsV2: listObjectsV2,
  ListObjectVersions: listObjectVersions,
  PutObject: putObject,
  GetObject: getObject,
  GetObjectAttributes: getObjectAttributes,
  HeadObject: headObject,
  DeleteObject: deleteObject,
};

export function createS3Service(ctx: S3Context): SandboxService {
  // Multipart uploads in progress live as long as the service, like the objects they become.
  const uploads = new MultipartUploads();
  const HANDLERS: Record<string, S3Handler> = {
    ...BASE_HANDLERS,
    CreateMultipartUpload: createMultipartUpload(uploads),
    UploadPart: uploadPart(uploads),
    CompleteMultipartUpload: completeMultipartUpload(uploads),
    AbortMultipartUpload: abortMultipartUpload(uploads),
  };
  return {
    signingName: 's3',
    operation: (req) => nameOperation(req, resolveTarget(req)),
    async handle(req, operation) {
      const handler = HANDLERS[operation];
      if (!handler) {
        throw new S3Error('NotImplemented', 501, 'A header you provided implies functionality that is not implemented');
      }
      return handler(ctx, req, resolveTarget(req));
    },
    renderError: renderS3Error,
  };
}

/** Bucket and key from the Host (`<bucket>.localhost`) or the path (`/<bucket>/<key>`). */
export function resolveTarget(req: SandboxRequest): S3Target {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  const segments = req.path.split('/').slice(1);
  const virtualBucket = host.endsWith('.localhost') ? host.slice(0, -'.localhost'.length) : undefined;
  const decode = (value: string): string => decodeURIComponent(value);
  if (virtualBucket) {
    const key = segments.map(decode).join('/');
    return { bucket: virtualBucket, ...(key ? { key } : {}) };
  }
  const [bucket = '', ...keySegments] = segments;
  const key = keySegments.map(decode).join('/');
  return { ...(bucket ? { bucket: decode(bucket) } : {}), ...(key ? { key } : {}) };
}

function nameOperation(req: SandboxRequest, target: S3Target): string {
  const has = (flag: string): boolean => req.query.has(flag);
  if (!target.bucket) return req.method === 'GET' ? 'ListBuckets' : 'Unknown';
  if (target.key === undefined) return nameBucketOperation(req.method, has);
  switch (req.method) {
    case 'PUT':
      return req.headers['x-amz-copy-source'] ? 'CopyObject' : has('partNumber') ? 'UploadPart' : 'PutObject';
    case 'GET':
      return has('attributes') ? 'GetObjectAttributes' : 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'DELETE':
      return has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'POST':
      if (has('uploads')) return 'CreateMultipartUpload';
      return has('uploadId') ? 'CompleteMultipartUpload' : 'Unknown';
    default:
      return 'Unknown';
  }
}

function nameBucketOperation(method: string, has: (flag: string) => boolean): string {
  switch (method) {
    case 'PUT':
      if (has('versioning')) return 'PutBucketVersioning';
      if (has('policy')) return 'PutBucketPolicy';
      return has('notification') || has('acl') || has('tagging') ? 'Unknown' : 'CreateBucket';
    case 'GET':
      if (has('versioning')) return 'GetBucketVersioning';
      if (has('policy')) return 'GetBucketPolicy';
      if (has('versions')) return 'ListObjectVersions';
      if (has('location')) return 'GetBucketLocation';
      return has('list-type') ? 'ListObjectsV2' : 'ListObjects';
    case 'DELETE':
      return has('policy') ? 'DeleteBucketPolicy' : 'DeleteBucket';
    case 'HEAD':
      return 'HeadBucket';
    default:
      return has('delete') ? 'DeleteObjects' : 'Unknown';
  }
}

/**
 * Reads an object as `caller`, for Lambda's UpdateFunctionCode with an S3 reference: the bucket
 * must be in the function's Region and the caller needs s3:GetObject (s3:GetObjectVersion for a
 * pinned version) through its identity policy and, across accounts, the bucket policy.
 */
export function createS3ObjectReader(ctx: S3Context): S3ObjectReader {
  return async (caller, input) => {
    const bucket = ctx.store.findBucket(input.bucket);
    if (!bucket) throw createNoSuchBucket(input.bucket);
    if (bucket.region !== input.region) {
      throw new S3Error(
        'PermanentRedirect',
        301,
        `The bucket is in this region: ${bucket.region}. Please use this region to retry the request`,
        { Bucket: input.bucket },
      );
    }
    const action = input.versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion';
    requireS3Action(ctx.iam, caller, bucket, action, toObjectArn(bucket.name, input.key));
    const object =
      input.versionId === undefined
        ? ctx.store.findCurrent(bucket, input.key)
        : ctx.store.findVersion(bucket, input.key, input.versionId);
    if (!object || object.isDeleteMarker) {
      if (input.versionId !== undefined)
        throw new S3Error('NoSuchVersion', 404, 'The specified version does not exist.', { Key: input.key });
      throw createNoSuchKey(input.key);
    }
    return object.body;
  };
}
