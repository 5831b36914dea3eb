/**
 * GetObjectAttributes (S3 API Reference): ETag, Checksum (with its ChecksumType), ObjectParts
 * (a multipart object's parts with their sizes and checksums, paged by part-number-marker and
 * max-parts) and ObjectSize, as `x-amz-object-attributes` asks. Needs s3:GetObjectAttributes, or
 * s3:GetObjectVersionAttributes for a version id.
 */
import { renderXmlDocument, type XmlNode } from '../xml.js';
import { resolveBucket } from './bucket-handlers.js';
import { readObject } from './object-handlers.js';
import { buildS3Headers, S3_NAMESPACE, type S3Handler } from './s3-context.js';
import { S3Error } from './s3-errors.js';
import { VersioningStatus } from './s3-store.js';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];

export const getObjectAttributes: S3Handler = (ctx, req, target) => {
  const bucket = resolveBucket(ctx, req, target.bucket);
  const object = readObject(ctx, req, bucket, target.key ?? '', {
    current: 's3:GetObjectAttributes',
    version: 's3:GetObjectVersionAttributes',
  });
  const asked = new Set(
    (req.headers['x-amz-object-attributes'] ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
  if (asked.size === 0 || [...asked].some((name) => !ATTRIBUTES.includes(name))) {
    throw new S3Error('InvalidArgument', 400, 'Invalid attribute name specified.', {
      ArgumentName: 'x-amz-object-attributes',
    });
  }
  const body: Record<string, XmlNode[keyof XmlNode]> = {};
  if (asked.has('ETag')) body.ETag = object.etag.replace(/"/g, '');
  if (asked.has('Checksum') && object.checksum) {
    body.Checksum = {
      [`Checksum${object.checksum.algorithm}`]: object.checksum.value,
      ChecksumType: object.checksumType ?? 'FULL_OBJECT',
    };
  }
  if (asked.has('ObjectParts') && object.parts)
    body.ObjectParts = renderParts(object, req.query, object.checksum?.algorithm);
  if (asked.has('StorageClass')) body.StorageClass = 'STANDARD';
  if (asked.has('ObjectSize')) body.ObjectSize = object.body.length;
  const headers = buildS3Headers(req, {
    'content-type': 'application/xml',
    'last-modified': new Date(object.lastModified).toUTCString(),
  });
  if (bucket.versioning !== VersioningStatus.Unversioned) headers['x-amz-version-id'] = object.versionId;
  return { status: 200, headers, body: renderXmlDocument('GetObjectAttributesResponse', S3_NAMESPACE, body) };
};

function renderParts(
  object: { readonly parts?: readonly { size: number; checksum?: string }[] },
  query: URLSearchParams,
  algorithm: string | undefined,
): XmlNode {
  const parts = object.parts ?? [];
  const marker = Number(query.get('part-number-marker') ?? 0);
  const maxParts = Math.min(Number(query.get('max-parts') ?? 1000), 1000);
  const page = parts
    .map((part, index) => ({ part, number: index + 1 }))
    .filter(({ number }) => number > marker)
    .slice(0, maxParts);
  const last = page.at(-1)?.number ?? marker;
  return {
    // The API names it TotalPartsCount; on the wire the element is PartsCount.
    PartsCount: parts.length,
    PartNumberMarker: marker,
    NextPartNumberMarker: last,
    MaxParts: maxParts,
    IsTruncated: last < parts.length,
    Part: page.map(({ part, number }) => ({
      PartNumber: number,
      Size: part.size,
      ...(algorithm && part.checksum ? { [`Checksum${algorithm}`]: part.checksum } : {}),
    })),
  };
}
