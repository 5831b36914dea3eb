/** Bucket-level operations: CreateBucket, versioning, bucket policy, HeadBucket, ListBuckets. */
import type { SandboxRequest } from '../contracts.js';
import { describeDenial } from '../iam.js';
import { Decision, parsePolicy } from '../policy.js';
import { readXmlText, renderXmlDocument } from '../xml.js';
import { requireS3Action, toBucketArn } from './s3-access.js';
import { buildS3Headers, formatS3Timestamp, S3_NAMESPACE, type S3Context, type S3Handler } from './s3-context.js';
import { createNoSuchBucket, S3Error } from './s3-errors.js';
import { type Bucket, isValidBucketName, VersioningStatus } from './s3-store.js';

/** The bucket named by the request, in the region the request was signed for. */
export function resolveBucket(ctx: S3Context, req: SandboxRequest, name: string | undefined): Bucket {
  const bucket = name ? ctx.store.findBucket(name) : undefined;
  if (!bucket || !name) throw createNoSuchBucket(name ?? '');
  if (bucket.region !== req.region) {
    // A regional endpoint refuses buckets of other Regions (S3 API Reference, "Error responses").
    throw new S3Error(
      'PermanentRedirect',
      301,
      'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
      { Bucket: name, Endpoint: `s3.${bucket.region}.amazonaws.com` },
      { 'x-amz-bucket-region': bucket.region },
    );
  }
  return bucket;
}

export const createBucket: S3Handler = (ctx, req, target) => {
  const name = target.bucket ?? '';
  if (!isValidBucketName(name))
    throw new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: name });
  const constraint = readXmlText(req.body.toString('utf8'), 'LocationConstraint');
  const region = constraint || 'us-east-1';
  if (region !== req.region) {
    const named = constraint ? `The ${constraint} location constraint` : 'The unspecified location constraint';
    throw new S3Error(
      'IllegalLocationConstraintException',
      400,
      `${named} is incompatible for the region specific endpoint this request was sent to.`,
    );
  }
  const existing = ctx.store.findBucket(name);
  if (existing && existing.accountId !== req.caller.accountId) {
    throw new S3Error(
      'BucketAlreadyExists',
      409,
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
      { BucketName: name },
    );
  }
  // us-east-1 answers 200 to a re-create by the owner, for legacy reasons; other Regions refuse.
  if (existing && region !== 'us-east-1') {
    throw new S3Error(
      'BucketAlreadyOwnedByYou',
      409,
      'Your previous request to create the named bucket succeeded and you already own it.',
      { BucketName: name },
    );
  }
  if (
    ctx.iam.decideForIdentity(req.caller, { action: 's3:CreateBucket', resource: toBucketArn(name) }) !== Decision.Allow
  ) {
    throw new S3Error('AccessDenied', 403, 'Access Denied');
  }
  if (!existing) ctx.store.addBucket({ name, accountId: req.caller.accountId, region, now: ctx.clock.now() });
  return { status: 200, headers: buildS3Headers(req, { location: `/${name}` }) };
};

export const headBucket: S3Handler = (ctx, req, target) => {
  const bucket = resolveBucket(ctx, req, target.bucket);
  requireS3Action(ctx.iam, req.caller, bucket, 's3:ListBucket', toBucketArn(bucket.name));
  return { status: 200, headers: buildS3Headers(req, { 'x-amz-bucket-region': bucket.region }) };
};

export const deleteBucket: S3Handler = (ctx, req, target) => {
  const bucket = resolveBucket(ctx, req, target.bucket);
  requireS3Action(ctx.iam, req.caller, bucket, 's3:DeleteBucket', toBucketArn(bucket.name));
  if (bucket.objects.size > 0) {
    throw new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', {
      BucketName: bucket.name,
    });
  }
  ctx.store.deleteBucket(bucket.name);
  return { status: 204, headers: buildS3Headers(req) };
};

export const listBuckets: S3Handler = (ctx, req) => {
  if (ctx.iam.decideForIdentity(req.caller, { action: 's3:ListAllMyBuckets', resource: '*' }) !== Decision.Allow) {
    throw new S3Error('AccessDenied', 403, describeDenial(req.caller, 's3:ListAllMyBuckets', '*'));
  }
  const buckets = ctx.store.listBuckets(req.caller.accountId).map((bucket) => ({
    Name: bucket.name,
    CreationDate: formatS3Timestamp(bucket.createdAt),
    BucketRegion: bucket.region,
  }));
  const body = renderXmlDocument('ListAllMyBucketsResult', S3_NAMESPACE, {
    Owner: { ID: req.caller.accountId },
    Buckets: { Bucket: buckets },
  });
  return { status: 200, headers: buildS3Headers(req, { 'content-type': 'application/xml' }), body };
};

export const getBucketLocation: S3Handler = (ctx, req, target) => {
  const bucket = resolveBucket(ctx, req, target.bucket);
  requireS3Action(ctx.iam, req.caller, bucket, 's3:GetBucketLocation', toBucketArn(bucket.name));
  // us-east-1 is reported as an empty constraint.
  const constraint = bucket.region === 'us-east-1' ? '' : bucket.region;
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NAMESPACE}">${constraint}</LocationConstraint>`;
  return { status: 200, headers: buildS3Headers(req, { 'content-type': 'application/xml' }), body };
};

export const putBucketVersioning: S3Handler = (ctx, req, target) => {
  const bucket = resolveBucket(ctx, req, target.bucket);
  requireS3Action(ctx.iam, req.caller, bucket, 's3:PutBucketVersioning', toBucketArn(bucket.name));
  const status = readXmlText(req.body.toString('utf8'), 'Status');
  if (status !== 'Enabled' && status !== 'Suspended') {
    throw new S3Error(
      'MalformedXML',
      400,
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  }
  bucket.versioning = status;
  return { status: 200, headers: buildS3Headers(req) };
};

export const getBucketVersioning: S3Handler = (ctx, req, target) => {
  const bucket = resolveBucket(ctx, req, target.bucket);
  requireS3Action(ctx.iam, req.caller, bucket, 's3:GetBucketVersioning', toBucketArn(bucket.name));
  // A bucket that never had versioning configured answers without a Status element.
  const body = renderXmlDocument('VersioningConfiguration', S3_NAMESPACE, {
    Status: bucket.versioning === VersioningStatus.Unversioned ? undefined : bucket.versioning,
  });
  return { status: 200, headers: buildS3Headers(req, { 'content-type': 'application/xml' }), body };
};

/**
 * Bucket policy operations are for the owner's account only: other accounts get 405 (S3 API
 * Reference, PutBucketPolicy: "If you are using an identity other than the root user of the AWS
 * account that owns the bucket…").
 */
function resolveOwnedBucket(ctx: S3Context, req: SandboxRequest, name: string | undefined, action: string): Bucket {
  const bucket = resolveBucket(ctx, req, name);
  if (bucket.accountId !== req.caller.accountId) {
    throw new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.');
  }
  requireS3Action(ctx.iam, req.caller, bucket, action, toBucketArn(bucket.name));
  return bucket;
}

export const putBucketPolicy: S3Handler = (ctx, req, target) => {
  const bucket = resolveOwnedBucket(ctx, req, target.bucket, 's3:PutBucketPolicy');
  const text = req.body.toString('utf8');
  bucket.policy = { document: parsePolicy(text, 'MalformedPolicy'), text };
  return { status: 204, headers: buildS3Headers(req) };
};

export const getBucketPolicy: S3Handler = (ctx, req, target) => {
  const bucket = resolveOwnedBucket(ctx, req, target.bucket, 's3:GetBucketPolicy');
  if (!bucket.policy) {
    throw new S3Error('NoSuchBucketPolicy', 404, 'The bucket policy does not exist', { BucketName: bucket.name });
  }
  return {
    status: 200,
    headers: buildS3Headers(req, { 'content-type': 'application/json' }),
    body: bucket.policy.text,
  };
};

export const deleteBucketPolicy: S3Handler = (ctx, req, target) => {
  const bucket = resolveOwnedBucket(ctx, req, target.bucket, 's3:DeleteBucketPolicy');
  bucket.policy = undefined;
  return { status: 204, headers: buildS3Headers(req) };
};
