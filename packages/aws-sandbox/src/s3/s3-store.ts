/**
 * Buckets and object versions. Versioning follows the S3 User Guide ("Working with objects in a
 * versioning-enabled bucket"): Enabled keeps every version and deletes by adding a delete marker;
 * Unversioned and Suspended buckets hold a single `null` version per key.
 */
import { createHash } from 'node:crypto';
import { generateVersionId } from '../ids.js';
import type { PolicyDocument } from '../policy.js';
import type { DeclaredChecksum } from './checksums.js';

export const VersioningStatus = { Unversioned: 'Unversioned', Enabled: 'Enabled', Suspended: 'Suspended' } as const;
export type VersioningStatus = (typeof VersioningStatus)[keyof typeof VersioningStatus];

/** How an object's checksum relates to its bytes: FULL_OBJECT covers them; COMPOSITE covers the parts' checksums. */
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

export interface StoredObject {
  readonly key: string;
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly body: Buffer;
  /** Quoted hex MD5 for single-part uploads; `"<md5 of the parts' MD5s>-<N>"` for multipart ones. */
  readonly etag: string;
  readonly lastModified: number;
  readonly metadata: Readonly<Record<string, string>>;
  /** Content-Type, Cache-Control… as sent, lower-cased names. */
  readonly standardHeaders: Readonly<Record<string, string>>;
  readonly checksum?: DeclaredChecksum;
  /** Absent: FULL_OBJECT (every single-part upload). */
  readonly checksumType?: ChecksumType;
  /** A multipart upload's parts, in order: what GetObjectAttributes reports as ObjectParts. */
  readonly parts?: readonly ObjectPart[];
}

export interface ObjectPart {
  readonly size: number;
  /** The part's checksum in the upload's algorithm, when it had one. */
  readonly checksum?: string;
}

export interface Bucket {
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly createdAt: number;
  versioning: VersioningStatus;
  policy?: { readonly document: PolicyDocument; readonly text: string };
  /** Versions per key, newest first. */
  readonly objects: Map<string, StoredObject[]>;
}

export interface NewObject {
  readonly key: string;
  readonly body: Buffer;
  readonly metadata: Record<string, string>;
  readonly standardHeaders: Record<string, string>;
  readonly checksum?: DeclaredChecksum;
  readonly checksumType?: ChecksumType;
  /** Multipart uploads compute their own ETag; default: the body's MD5. */
  readonly etag?: string;
  readonly parts?: readonly ObjectPart[];
  readonly now: number;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Bucket naming rules (S3 User Guide, "General purpose bucket naming rules"). */
export function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
}

export class S3Store {
  private readonly buckets = new Map<string, Bucket>();

  addBucket(input: { name: string; accountId: string; region: string; now: number }): Bucket {
    const bucket: Bucket = {
      ...input,
      createdAt: input.now,
      versioning: VersioningStatus.Unversioned,
      objects: new Map(),
    };
    this.buckets.set(input.name, bucket);
    return bucket;
  }

  findBucket(name: string): Bucket | undefined {
    return this.buckets.get(name);
  }

  listBuckets(accountId: string): Bucket[] {
    return [...this.buckets.values()].filter((bucket) => bucket.accountId === accountId);
  }

  deleteBucket(name: string): void {
    this.buckets.delete(name);
  }

  /** The version a plain GET sees (may be a delete marker). */
  findCurrent(bucket: Bucket, key: string): StoredObject | undefined {
    return bucket.objects.get(key)?.[0];
  }

  findVersion(bucket: Bucket, key: string, versionId: string): StoredObject | undefined {
    return bucket.objects.get(key)?.find((version) => version.versionId === versionId);
  }

  putObject(bucket: Bucket, input: NewObject): StoredObject {
    const stored: StoredObject = {
      key: input.key,
      versionId: bucket.versioning === VersioningStatus.Enabled ? generateVersionId() : 'null',
      isDeleteMarker: false,
      body: input.body,
      etag: input.etag ?? `"${createHash('md5').update(input.body).digest('hex')}"`,
      lastModified: input.now,
      metadata: input.metadata,
      standardHeaders: input.standardHeaders,
      ...(input.checksum ? { checksum: input.checksum } : {}),
      ...(input.checksum && input.checksumType ? { checksumType: input.checksumType } : {}),
      ...(input.parts ? { parts: input.parts } : {}),
    };
    this.addVersion(bucket, stored);
    return stored;
  }

  /**
   * DeleteObject: with a version id, removes that version for good; without one, adds a delete
   * marker (versioned buckets) or removes the null version (unversioned buckets).
   */
  deleteObject(bucket: Bucket, key: string, versionId: string | undefined, now: number): StoredObject | undefined {
    const versions = bucket.objects.get(key) ?? [];
    if (versionId !== undefined) {
      const removed = versions.find((version) => version.versionId === versionId);
      this.setVersions(
        bucket,
        key,
        versions.filter((version) => version.versionId !== versionId),
      );
      return removed;
    }
    if (bucket.versioning === VersioningStatus.Unversioned) {
      this.setVersions(bucket, key, []);
      return undefined;
    }
    const marker: StoredObject = {
      key,
      versionId: bucket.versioning === VersioningStatus.Enabled ? generateVersionId() : 'null',
      isDeleteMarker: true,
      body: Buffer.alloc(0),
      etag: '',
      lastModified: now,
      metadata: {},
      standardHeaders: {},
    };
    this.addVersion(bucket, marker);
    return marker;
  }

  private addVersion(bucket: Bucket, stored: StoredObject): void {
    const others = (bucket.objects.get(stored.key) ?? []).filter(
      (version) => stored.versionId !== 'null' || version.versionId !== 'null',
    );
    this.setVersions(bucket, stored.key, [stored, ...others]);
  }

  private setVersions(bucket: Bucket, key: string, versions: StoredObject[]): void {
    if (versions.length === 0) bucket.objects.delete(key);
    else bucket.objects.set(key, versions);
  }
}
