/**
 * An in-memory S3 for the ledger and leases in unit tests: JSON documents with ETags that honour
 * If-None-Match: * and If-Match like S3's conditional writes. Use it directly as an ObjectStorePort
 * (`store()`), or behind an aws-sdk-client-mock S3 mock (`attach()`) while the test serves the
 * artifact objects itself.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import {
  type ArtifactObject,
  type ConditionalPut,
  type ObjectStorePort,
  type PutOutcome,
  parseJsonDocument,
} from '../../src/aws/s3.js';

interface StoredObject {
  body: string;
  etag: string;
}

export class MemoryS3 {
  readonly objects = new Map<string, StoredObject>();
  readonly artifacts = new Map<string, { bytes: Buffer; versionId: string }>();
  private counter = 0;
  /** Called before every conditional put; a test can make writers interleave here. */
  beforePut?: (key: string) => Promise<void> | void;
  /** Called before every document read through `store()`; a test can observe or pause readers here. */
  beforeGet?: (key: string) => Promise<void> | void;
  /** Every document key read through `store()`, in order. */
  readonly reads: string[] = [];
  /** Keys of artifacts read (GetObject on an artifact), in order. */
  readonly artifactReads: string[] = [];

  private path(bucket: string, key: string): string {
    return `${bucket}/${key}`;
  }

  getDoc(bucket: string, key: string): StoredObject | undefined {
    return this.objects.get(this.path(bucket, key));
  }

  /** Reads a stored JSON document, or undefined. */
  read<T>(bucket: string, key: string): T | undefined {
    const found = this.getDoc(bucket, key);
    return found ? (JSON.parse(found.body) as T) : undefined;
  }

  putDoc(bucket: string, key: string, body: string, condition?: ConditionalPut): PutOutcome {
    const existing = this.getDoc(bucket, key);
    if (condition?.ifNoneMatch === '*' && existing) return { ok: false, reason: 'precondition-failed' };
    if (condition?.ifMatch !== undefined && existing?.etag !== condition.ifMatch) {
      return { ok: false, reason: 'precondition-failed' };
    }
    const etag = `"${createHash('md5')
      .update(body)
      .update(String(this.counter++))
      .digest('hex')}"`;
    this.objects.set(this.path(bucket, key), { body, etag });
    return { ok: true, etag };
  }

  list(bucket: string, prefix: string): string[] {
    const start = `${bucket}/`;
    return [...this.objects.keys(), ...[...this.artifacts.keys()]]
      .filter((p) => p.startsWith(start + prefix))
      .map((p) => p.slice(start.length))
      .sort();
  }

  /** Adds an artifact object (served by getArtifact / GetObject with its version id). */
  addArtifact(bucket: string, key: string, bytes: Buffer, versionId = `v${this.counter++}`): string {
    this.artifacts.set(this.path(bucket, key), { bytes, versionId });
    return versionId;
  }

  /** The artifact's bytes when `versionId` is its current version (what Lambda reads for an S3 reference). */
  readArtifactVersion(bucket: string, key: string, versionId: string): Buffer | undefined {
    const found = this.artifacts.get(this.path(bucket, key));
    return found?.versionId === versionId ? found.bytes : undefined;
  }

  store(): ObjectStorePort {
    const artifactOf = (bucket: string, key: string) => {
      const found = this.artifacts.get(this.path(bucket, key));
      if (!found) throw new Error(`memory-s3: no artifact s3://${bucket}/${key}`);
      return found;
    };
    const head = (bucket: string, key: string): Omit<ArtifactObject, 'body'> => {
      const a = artifactOf(bucket, key);
      return { contentLength: a.bytes.length, versionId: a.versionId, metadata: {} };
    };
    return {
      getArtifact: async (location) => {
        this.artifactReads.push(location.key);
        return {
          body: (async function* () {
            yield artifactOf(location.bucket, location.key).bytes;
          })(),
          ...head(location.bucket, location.key),
        };
      },
      headArtifact: async (location) => head(location.bucket, location.key),
      putArtifact: async ({ bucket, key, body }) => ({ versionId: this.addArtifact(bucket, key, Buffer.from(body)) }),
      getJson: async <T>(bucket: string, key: string) => {
        this.reads.push(key);
        await this.beforeGet?.(key);
        const found = this.getDoc(bucket, key);
        // Parsed like the S3 adapter: a body that is not JSON throws S3_DOCUMENT_CORRUPT with its ETag.
        return found
          ? { value: parseJsonDocument<T>(found.body, { bucket, key, etag: found.etag }), etag: found.etag }
          : undefined;
      },
      putJson: async (bucket, key, value, condition) => {
        await this.beforePut?.(key);
        return this.putDoc(bucket, key, JSON.stringify(value), condition);
      },
      listKeys: async (bucket, prefix) => this.list(bucket, prefix),
    };
  }

  /**
   * Serves ledger and lease documents through an S3 client mock. GetObject of a key that is not a
   * stored document goes to `serveOther` (the test's artifact), so artifact assertions keep working.
   */
  attach(mock: AwsClientStub<S3Client>, serveOther: (input: { Bucket?: string; Key?: string }) => unknown): void {
    mock.on(GetObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
      const doc = this.getDoc(input.Bucket ?? '', input.Key ?? '');
      if (doc) return { Body: { transformToString: async () => doc.body } as unknown as Readable, ETag: doc.etag };
      if (/^(ledger|leases)\//.test(input.Key ?? '')) {
        throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
      }
      return serveOther(input);
    });
    mock
      .on(PutObjectCommand)
      .callsFake((input: { Bucket?: string; Key?: string; Body?: unknown; IfNoneMatch?: string; IfMatch?: string }) => {
        const outcome = this.putDoc(input.Bucket ?? '', input.Key ?? '', String(input.Body), {
          ...(input.IfNoneMatch === '*' ? { ifNoneMatch: '*' as const } : {}),
          ...(input.IfMatch ? { ifMatch: input.IfMatch } : {}),
        });
        if (!outcome.ok) {
          throw new S3ServiceException({
            name: 'PreconditionFailed',
            $fault: 'client',
            message: 'At least one of the pre-conditions you specified did not hold',
            $metadata: { httpStatusCode: 412 },
          });
        }
        return { ETag: outcome.etag };
      });
    mock.on(ListObjectsV2Command).callsFake((input: { Bucket?: string; Prefix?: string }) => ({
      Contents: this.list(input.Bucket ?? '', input.Prefix ?? '').map((Key) => ({ Key })),
      IsTruncated: false,
    }));
  }

  /** Every stored document under a prefix, parsed. */
  docs<T>(bucket: string, prefix: string): T[] {
    return this.list(bucket, prefix)
      .filter((k) => this.getDoc(bucket, k))
      .map((k) => this.read<T>(bucket, k) as T);
  }
}
