/**
 * Multipart upload (S3 API Reference: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload; S3 User Guide, "Checking object integrity" for part and object checksums).
 *
 * - The object's ETag is the MD5 of the parts' binary MD5s, then `-<part count>`.
 * - With a checksum algorithm, every part carries its checksum (header or aws-chunked trailer).
 *   The object's checksum is COMPOSITE (the algorithm over the parts' binary checksums, then
 *   `-<part count>`: not a checksum of the object's bytes) or, for CRC algorithms that ask for it,
 *   FULL_OBJECT (the checksum of the whole object). SHA-1 and SHA-256 are COMPOSITE only.
 * - Every part but the last is at least 5 MiB; parts are listed in ascending order.
 * - Completing publishes `ObjectCreated:CompleteMultipartUpload`; it honours If-None-Match / If-Match.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SandboxRequest } from '../contracts.js';
import { readXmlText, renderXmlDocument } from '../xml.js';
import { resolveBucket } from './bucket-handlers.js';
import { ChecksumAlgorithm, computeChecksum, headerNameOf, verifyDeclaredChecksum } from './checksums.js';
import {
  checkWritePreconditions,
  publishObjectCreated,
  readStandardHeaders,
  readUserMetadata,
} from './object-handlers.js';
import { requireS3Action, toObjectArn } from './s3-access.js';
import { buildS3Headers, S3_NAMESPACE, type S3Context, type S3Handler, type S3Target } from './s3-context.js';
import { S3Error } from './s3-errors.js';
import { type Bucket, type ChecksumType, VersioningStatus } from './s3-store.js';

/** The bucket and key a multipart request names, once the caller may perform `action` on the key. */
function locateUploadObject(
  ctx: S3Context,
  req: SandboxRequest,
  target: S3Target,
  action: string,
): { bucket: Bucket; key: string } {
  const bucket = resolveBucket(ctx, req, target.bucket);
  const key = target.key ?? '';
  requireS3Action(ctx.iam, req.caller, bucket, action, toObjectArn(bucket.name, key));
  return { bucket, key };
}

/** S3's minimum part size, except for the last part. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;

interface UploadedPart {
  readonly body: Buffer;
  readonly etag: string;
  readonly checksum?: string;
}

export interface MultipartUpload {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly metadata: Record<string, string>;
  readonly standardHeaders: Record<string, string>;
  readonly algorithm?: ChecksumAlgorithm;
  readonly checksumType?: ChecksumType;
  readonly parts: Map<number, UploadedPart>;
}

/** Uploads in progress, by upload id. */
export class MultipartUploads {
  private readonly uploads = new Map<string, MultipartUpload>();

  start(upload: Omit<MultipartUpload, 'uploadId' | 'parts'>): MultipartUpload {
    const created: MultipartUpload = { ...upload, uploadId: randomBytes(24).toString('base64url'), parts: new Map() };
    this.uploads.set(created.uploadId, created);
    return created;
  }

  find(bucket: string, key: string, uploadId: string | null): MultipartUpload {
    const upload = uploadId === null ? undefined : this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) {
      throw new S3Error(
        'NoSuchUpload',
        404,
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        { UploadId: uploadId ?? '' },
      );
    }
    return upload;
  }

  remove(uploadId: string): void {
    this.uploads.delete(uploadId);
  }

  /** How many uploads are open (neither completed nor aborted). */
  get size(): number {
    return this.uploads.size;
  }
}

function readAlgorithm(req: SandboxRequest): ChecksumAlgorithm | undefined {
  const raw = req.headers['x-amz-checksum-algorithm']?.toUpperCase();
  if (raw === undefined) return undefined;
  if (!(Object.values(ChecksumAlgorithm) as string[]).includes(raw)) {
    throw new S3Error('InvalidRequest', 400, `Checksum algorithm provided is unsupported: ${raw}`);
  }
  return raw as ChecksumAlgorithm;
}

/** COMPOSITE unless asked otherwise; FULL_OBJECT only for the CRC algorithms, CRC64NVME only FULL_OBJECT. */
function readChecksumType(req: SandboxRequest, algorithm: ChecksumAlgorithm | undefined): ChecksumType | undefined {
  const raw = req.headers['x-amz-checksum-type']?.toUpperCase();
  if (algorithm === undefined) {
    if (raw !== undefined)
      throw new S3Error('InvalidRequest', 400, 'The x-amz-checksum-type header requires x-amz-checksum-algorithm.');
    return undefined;
  }
  const type = (raw ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE')) as ChecksumType;
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') {
    throw new S3Error('InvalidRequest', 400, `Value for x-amz-checksum-type header is invalid: ${raw}`);
  }
  const supported = type === 'FULL_OBJECT' ? algorithm.startsWith('CRC') : algorithm !== 'CRC64NVME';
  if (!supported) {
    throw new S3Error(
      'InvalidRequest',
      400,
      `The ${type} checksum type cannot be used with the ${algorithm} checksum algorithm.`,
    );
  }
  return type;
}

export const createMultipartUpload =
  (uploads: MultipartUploads): S3Handler =>
  (ctx, req, target) => {
    const { bucket, key } = locateUploadObject(ctx, req, target, 's3:PutObject');
    const algorithm = readAlgorithm(req);
    const checksumType = readChecksumType(req, algorithm);
    const upload = uploads.start({
      bucket: bucket.name,
      key,
      metadata: readUserMetadata(req.headers),
      standardHeaders: readStandardHeaders(req.headers),
      ...(algorithm ? { algorithm } : {}),
      ...(checksumType ? { checksumType } : {}),
    });
    const headers = buildS3Headers(req, {
      'content-type': 'application/xml',
      'x-amz-server-side-encryption': 'AES256',
    });
    if (algorithm && checksumType) {
      headers['x-amz-checksum-algorithm'] = algorithm;
      headers['x-amz-checksum-type'] = checksumType;
    }
    return {
      status: 200,
      headers,
      body: renderXmlDocument('InitiateMultipartUploadResult', S3_NAMESPACE, {
        Bucket: bucket.name,
        Key: key,
        UploadId: upload.uploadId,
      }),
    };
  };

export const uploadPart =
  (uploads: MultipartUploads): S3Handler =>
  (ctx, req, target) => {
    const { bucket, key } = locateUploadObject(ctx, req, target, 's3:PutObject');
    const upload = uploads.find(bucket.name, key, req.query.get('uploadId'));
    const partNumber = Number(req.query.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw new S3Error('InvalidArgument', 400, 'Part number must be an integer between 1 and 10000, inclusive', {
        ArgumentName: 'partNumber',
        ArgumentValue: req.query.get('partNumber') ?? '',
      });
    }
    const declared = verifyDeclaredChecksum(req.headers, req.trailers, req.body);
    if (upload.algorithm !== undefined && declared?.algorithm !== upload.algorithm) {
      throw new S3Error(
        'InvalidRequest',
        400,
        `Checksum Type mismatch occurred, expected checksum Type: ${upload.algorithm.toLowerCase()}, actual checksum Type: ${declared?.algorithm.toLowerCase() ?? 'null'}`,
      );
    }
    const etag = `"${createHash('md5').update(req.body).digest('hex')}"`;
    // Verified against the body above; kept to build the composite checksum at completion.
    const checksum = upload.algorithm ? declared?.value : undefined;
    upload.parts.set(partNumber, { body: req.body, etag, ...(checksum ? { checksum } : {}) });
    const headers = buildS3Headers(req, { etag, 'x-amz-server-side-encryption': 'AES256' });
    if (upload.algorithm && checksum) headers[headerNameOf(upload.algorithm)] = checksum;
    return { status: 200, headers };
  };

interface ListedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly checksum?: string;
}

/** The `<Part>` list of a CompleteMultipartUpload body. */
function readListedParts(xml: string, algorithm: ChecksumAlgorithm | undefined): ListedPart[] {
  const parts: ListedPart[] = [];
  for (const match of xml.matchAll(/<(?:\w+:)?Part>([\s\S]*?)<\/(?:\w+:)?Part>/g)) {
    const inner = match[1] ?? '';
    const partNumber = Number(readXmlText(inner, 'PartNumber'));
    const etag = readXmlText(inner, 'ETag') ?? '';
    const checksum = algorithm ? readXmlText(inner, `Checksum${algorithm}`) : undefined;
    parts.push({ partNumber, etag, ...(checksum ? { checksum } : {}) });
  }
  if (parts.length === 0) {
    throw new S3Error(
      'MalformedXML',
      400,
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  }
  return parts;
}

const unquote = (etag: string): string => etag.replace(/"/g, '').replace(/&quot;/g, '');

export const completeMultipartUpload =
  (uploads: MultipartUploads): S3Handler =>
  (ctx, req, target) => {
    const { bucket, key } = locateUploadObject(ctx, req, target, 's3:PutObject');
    const upload = uploads.find(bucket.name, key, req.query.get('uploadId'));
    // Conditional writes apply to the completion (S3 User Guide, "conditional writes"); a failed
    // condition leaves the upload open so the caller may retry or abort it.
    if (req.headers['if-match'] !== undefined) {
      requireS3Action(ctx.iam, req.caller, bucket, 's3:GetObject', toObjectArn(bucket.name, key));
    }
    checkWritePreconditions(ctx, req, bucket, key);
    const listed = readListedParts(req.body.toString('utf8'), upload.algorithm);
    const chosen = listed.map((part, index) => {
      const previous = listed[index - 1];
      if (previous && part.partNumber <= previous.partNumber) {
        throw new S3Error(
          'InvalidPartOrder',
          400,
          'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
        );
      }
      const stored = upload.parts.get(part.partNumber);
      const checksumDiffers =
        upload.algorithm !== undefined && part.checksum !== undefined && part.checksum !== stored?.checksum;
      if (!stored || unquote(part.etag) !== unquote(stored.etag) || checksumDiffers) {
        throw new S3Error(
          'InvalidPart',
          400,
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          { UploadId: upload.uploadId, PartNumber: String(part.partNumber), ETag: part.etag },
        );
      }
      return stored;
    });
    chosen.slice(0, -1).forEach((part, index) => {
      if (part.body.length < MIN_PART_BYTES) {
        throw new S3Error('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed size', {
          ProposedSize: String(part.body.length),
          MinSizeAllowed: String(MIN_PART_BYTES),
          PartNumber: String(listed[index]?.partNumber ?? ''),
        });
      }
    });
    const body = Buffer.concat(chosen.map((part) => part.body));
    const etag = `"${createHash('md5')
      .update(Buffer.concat(chosen.map((part) => Buffer.from(unquote(part.etag), 'hex'))))
      .digest('hex')}-${chosen.length}"`;
    const checksum = objectChecksum(upload, chosen, body);
    const stored = ctx.store.putObject(bucket, {
      key,
      body,
      etag,
      metadata: upload.metadata,
      standardHeaders: upload.standardHeaders,
      ...(checksum ? { checksum, checksumType: upload.checksumType } : {}),
      parts: chosen.map((part) => ({ size: part.body.length, ...(part.checksum ? { checksum: part.checksum } : {}) })),
      now: ctx.clock.now(),
    });
    uploads.remove(upload.uploadId);
    publishObjectCreated(ctx, req, bucket, stored, 'ObjectCreated:CompleteMultipartUpload');
    const headers = buildS3Headers(req, {
      'content-type': 'application/xml',
      'x-amz-server-side-encryption': 'AES256',
    });
    if (bucket.versioning === VersioningStatus.Enabled) headers['x-amz-version-id'] = stored.versionId;
    return {
      status: 200,
      headers,
      body: renderXmlDocument('CompleteMultipartUploadResult', S3_NAMESPACE, {
        Location: `https://${bucket.name}.s3.${bucket.region}.amazonaws.com/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
        Bucket: bucket.name,
        Key: key,
        ETag: etag,
        ...(checksum && upload.algorithm ? { [`Checksum${upload.algorithm}`]: checksum.value } : {}),
        ...(checksum && upload.checksumType ? { ChecksumType: upload.checksumType } : {}),
      }),
    };
  };

/** COMPOSITE: the algorithm over the parts' binary checksums, `-N`; FULL_OBJECT: over the whole body. */
function objectChecksum(upload: MultipartUpload, parts: readonly UploadedPart[], body: Buffer) {
  const { algorithm } = upload;
  if (algorithm === undefined) return undefined;
  if (upload.checksumType === 'FULL_OBJECT') return { algorithm, value: computeChecksum(algorithm, body) };
  const digests = Buffer.concat(parts.map((part) => Buffer.from(part.checksum ?? '', 'base64')));
  return { algorithm, value: `${computeChecksum(algorithm, digests)}-${parts.length}` };
}

export const abortMultipartUpload =
  (uploads: MultipartUploads): S3Handler =>
  (ctx, req, target) => {
    const { bucket, key } = locateUploadObject(ctx, req, target, 's3:AbortMultipartUpload');
    const upload = uploads.find(bucket.name, key, req.query.get('uploadId'));
    uploads.remove(upload.uploadId);
    return { status: 204, headers: buildS3Headers(req) };
  };
