/**
 * The S3 adapter: reading artifacts by exact version, writing them as a stream (a multipart upload
 * past one part), and small JSON documents with conditional writes (the ledger and leases). The
 * only place that sends S3 commands.
 */
import type { Readable } from 'node:stream';
import {
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AccessError, InputError, InternalError, isFerryError } from '../core/errors.js';
import { type ArtifactDigest, UPLOAD_PART_BYTES } from '../core/upload-parts.js';

export interface ObjectLocation {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

export interface ArtifactObject {
  readonly body: AsyncIterable<Uint8Array>;
  readonly contentLength?: number;
  readonly versionId?: string;
  /** S3's stored ChecksumSHA256 (base64; composite checksums end in -N). */
  readonly checksumSha256?: string;
  /** S3's ChecksumType: FULL_OBJECT, or COMPOSITE for a multipart upload's checksum of part checksums. */
  readonly checksumType?: string;
  /** User metadata (x-amz-meta-*), keys lower-cased. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly etag?: string;
}

export interface StoredDocument<T> {
  readonly value: T;
  readonly etag: string;
}

export interface ConditionalPut {
  /** Create only: fails when the key exists. */
  readonly ifNoneMatch?: '*';
  /** Compare-and-swap: fails unless the current ETag matches. */
  readonly ifMatch?: string;
}

export type PutOutcome =
  | { readonly ok: true; readonly etag: string }
  | { readonly ok: false; readonly reason: 'precondition-failed' };

export interface ObjectStorePort {
  getArtifact(location: ObjectLocation): Promise<ArtifactObject>;
  headArtifact(location: ObjectLocation): Promise<Omit<ArtifactObject, 'body'>>;
  /**
   * A multipart object's part sizes, in order (GetObjectAttributes ObjectParts), or undefined for
   * an object uploaded in one part. Lets ferry recompute S3's composite checksum from the bytes.
   */
  getArtifactPartSizes?(location: ObjectLocation): Promise<number[] | undefined>;
  /**
   * Writes an artifact, streaming: one PutObject when it fits in one part, else a multipart upload
   * (CreateMultipartUpload, UploadPart with each part's SHA-256, CompleteMultipartUpload), so
   * memory holds a few parts whatever the size. S3 stores ChecksumSHA256 (the whole object's for
   * one part, the COMPOSITE of the parts' otherwise) and the metadata `sha256`, the whole object's
   * SHA-256 from `digest`. A body that fails (see artifact/local-zip.ts passVerified) abandons
   * the upload: it is aborted, never completed.
   */
  putArtifact(input: PutArtifactInput): Promise<{ versionId?: string; etag?: string; checksumSha256?: string }>;
  getJson<T>(bucket: string, key: string): Promise<StoredDocument<T> | undefined>;
  putJson(bucket: string, key: string, value: unknown, condition?: ConditionalPut): Promise<PutOutcome>;
  listKeys(bucket: string, prefix: string): Promise<string[]>;
}

export interface PutArtifactInput {
  readonly bucket: string;
  readonly key: string;
  /** The bytes, read once. */
  readonly body: Readable | Uint8Array;
  /** What the bytes are: the size, and the SHA-256 stored as metadata `sha256`. */
  readonly digest: ArtifactDigest;
  readonly metadata: Readonly<Record<string, string>>;
  /** Create only (If-None-Match: * on PutObject or CompleteMultipartUpload): an existing object fails with InputError ARTIFACT_EXISTS. */
  readonly createOnly?: boolean;
  /** Part size (default UPLOAD_PART_BYTES); the digest's objectChecksumSha256 must be for the same. */
  readonly partBytes?: number;
}

/** Parts in flight at once: memory holds about this many parts. */
const UPLOAD_QUEUE_SIZE = 4;

export function createObjectStore(client: S3Client): ObjectStorePort {
  return {
    async getArtifact(location) {
      try {
        const out = await client.send(
          new GetObjectCommand({
            Bucket: location.bucket,
            Key: location.key,
            ...(location.versionId ? { VersionId: location.versionId } : {}),
            ChecksumMode: 'ENABLED',
          }),
        );
        if (!out.Body)
          throw new InputError('ARTIFACT_EMPTY_BODY', `s3://${location.bucket}/${location.key} has no body.`);
        return {
          body: out.Body as AsyncIterable<Uint8Array>,
          ...headFields(out),
        };
      } catch (error) {
        throw translateRead(error, location);
      }
    },

    async headArtifact(location) {
      try {
        const out = await client.send(
          new HeadObjectCommand({
            Bucket: location.bucket,
            Key: location.key,
            ...(location.versionId ? { VersionId: location.versionId } : {}),
            ChecksumMode: 'ENABLED',
          }),
        );
        return headFields(out);
      } catch (error) {
        throw translateRead(error, location);
      }
    },

    async getArtifactPartSizes(location) {
      const sizes: number[] = [];
      let marker: string | undefined;
      try {
        for (;;) {
          const out = await client.send(
            new GetObjectAttributesCommand({
              Bucket: location.bucket,
              Key: location.key,
              ...(location.versionId ? { VersionId: location.versionId } : {}),
              ObjectAttributes: ['ObjectParts'],
              MaxParts: 1000,
              ...(marker ? { PartNumberMarker: marker } : {}),
            }),
          );
          const parts = out.ObjectParts;
          if (!parts?.Parts?.length) return sizes.length > 0 ? sizes : undefined;
          for (const part of parts.Parts) sizes.push(part.Size ?? 0);
          if (!parts.IsTruncated) return sizes;
          marker = parts.NextPartNumberMarker;
        }
      } catch (error) {
        throw translateRead(error, location);
      }
    },

    async putArtifact({ bucket, key, body, digest, metadata, createOnly, partBytes }) {
      const upload = new Upload({
        client,
        params: {
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: digest.sizeBytes,
          ContentType: 'application/zip',
          ChecksumAlgorithm: 'SHA256',
          Metadata: { ...metadata, sha256: digest.sha256 },
          ...(createOnly ? { IfNoneMatch: '*' } : {}),
        },
        partSize: partBytes ?? UPLOAD_PART_BYTES,
        queueSize: UPLOAD_QUEUE_SIZE,
        leavePartsOnError: false,
      });
      try {
        const out = (await upload.done()) as { VersionId?: string; ETag?: string; ChecksumSHA256?: string };
        return {
          ...(out.VersionId ? { versionId: out.VersionId } : {}),
          ...(out.ETag ? { etag: out.ETag } : {}),
          ...(out.ChecksumSHA256 ? { checksumSha256: out.ChecksumSHA256 } : {}),
        };
      } catch (error) {
        if (isFerryError(error)) throw error;
        if (createOnly && isPreconditionFailure(error)) {
          throw new InputError('ARTIFACT_EXISTS', `s3://${bucket}/${key} already exists.`, {
            cause: error,
            context: { bucket, key },
          });
        }
        throw translateWrite(error, bucket, key);
      }
    },

    async getJson<T>(bucket: string, key: string) {
      let text: string;
      let etag: string;
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        text = (await out.Body?.transformToString('utf-8')) ?? '';
        etag = out.ETag ?? '';
      } catch (error) {
        if (error instanceof NoSuchKey || (error instanceof S3ServiceException && error.name === 'NoSuchKey')) {
          return undefined;
        }
        throw translateRead(error, { bucket, key });
      }
      return { value: parseJsonDocument<T>(text, { bucket, key, etag }), etag };
    },

    async putJson(bucket, key, value, condition) {
      try {
        const out = await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: JSON.stringify(value),
            ContentType: 'application/json',
            ...(condition?.ifNoneMatch ? { IfNoneMatch: condition.ifNoneMatch } : {}),
            ...(condition?.ifMatch ? { IfMatch: condition.ifMatch } : {}),
          }),
        );
        return { ok: true, etag: out.ETag ?? '' };
      } catch (error) {
        if (isPreconditionFailure(error)) return { ok: false, reason: 'precondition-failed' };
        throw translateWrite(error, bucket, key);
      }
    },

    async listKeys(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix,
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
          for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        return keys;
      } catch (error) {
        throw translateRead(error, { bucket, key: prefix });
      }
    },
  };
}

function headFields(out: {
  ContentLength?: number;
  VersionId?: string;
  ChecksumSHA256?: string;
  ChecksumType?: string;
  Metadata?: Record<string, string>;
  ETag?: string;
}): Omit<ArtifactObject, 'body'> {
  return {
    ...(out.ContentLength === undefined ? {} : { contentLength: out.ContentLength }),
    ...(out.VersionId ? { versionId: out.VersionId } : {}),
    ...(out.ChecksumSHA256 ? { checksumSha256: out.ChecksumSHA256 } : {}),
    ...(out.ChecksumType ? { checksumType: out.ChecksumType } : {}),
    metadata: Object.fromEntries(Object.entries(out.Metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    ...(out.ETag ? { etag: out.ETag } : {}),
  };
}

/**
 * A conditional write that lost: 412 when the condition did not hold, or 409
 * ConditionalRequestConflict when another conditional write to the key was in flight. Either way
 * the caller re-reads and tries again.
 */
function isPreconditionFailure(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'PreconditionFailed' ||
      error.name === 'ConditionalRequestConflict' ||
      error.$metadata.httpStatusCode === 412)
  );
}

/**
 * Parses a stored JSON document. A body that is not JSON (a truncated write, a hand edit) becomes
 * an InternalError `S3_DOCUMENT_CORRUPT` carrying the key and ETag, so a caller can take over a
 * corrupt lease with If-Match on that ETag or name the object to repair; never a bare SyntaxError.
 */
export function parseJsonDocument<T>(text: string, where: { bucket: string; key: string; etag: string }): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new InternalError(
      S3_DOCUMENT_CORRUPT,
      `s3://${where.bucket}/${where.key} (ETag ${where.etag || 'unknown'}) is not valid JSON: ${error instanceof Error ? error.message : String(error)}.`,
      { cause: error, context: { bucket: where.bucket, key: where.key, etag: where.etag } },
    );
  }
}

export const S3_DOCUMENT_CORRUPT = 'S3_DOCUMENT_CORRUPT';

/** True for the error getJson throws when a stored document is not valid JSON. */
export function isCorruptDocument(error: unknown): error is InternalError {
  return error instanceof InternalError && error.code === S3_DOCUMENT_CORRUPT;
}

function translateRead(error: unknown, location: ObjectLocation): unknown {
  const where = `s3://${location.bucket}/${location.key}${location.versionId ? ` (version ${location.versionId})` : ''}`;
  const options = {
    cause: error,
    context: { bucket: location.bucket, key: location.key, versionId: location.versionId },
  };
  if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 301) {
    // A HEAD's redirect to the bucket's Region has no body naming the bucket (see sdk-errors.ts).
    return Object.assign(error, { BucketName: location.bucket });
  }
  if (error instanceof NoSuchKey || error instanceof NotFound) {
    return new InputError('ARTIFACT_NOT_FOUND', `${where} does not exist (deleted, or never uploaded).`, options);
  }
  if (error instanceof S3ServiceException) {
    if (error.name === 'NoSuchVersion' || error.name === 'NoSuchKey') {
      return new InputError('ARTIFACT_NOT_FOUND', `${where} does not exist (deleted, or never uploaded).`, options);
    }
    if (error.name === 'AccessDenied' || error.$metadata.httpStatusCode === 403) {
      return new AccessError(
        'S3_ACCESS_DENIED',
        `ferry may not read ${where}. Its execution role needs s3:GetObject and s3:GetObjectVersion on the artifact bucket.`,
        options,
      );
    }
  }
  return error;
}

function translateWrite(error: unknown, bucket: string, key: string): unknown {
  if (
    error instanceof S3ServiceException &&
    (error.name === 'AccessDenied' || error.$metadata.httpStatusCode === 403)
  ) {
    return new AccessError('S3_ACCESS_DENIED', `ferry may not write s3://${bucket}/${key}: ${error.message}.`, {
      cause: error,
      context: { bucket, key },
    });
  }
  return error;
}
