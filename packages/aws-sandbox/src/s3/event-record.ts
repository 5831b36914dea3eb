/**
 * ObjectCreated records in the format of the S3 User Guide, "Event message structure"
 * (eventVersion 2.1). Keys are URL-encoded with spaces as `+`; the sequencer is hexadecimal and
 * grows with every event, so events for one key compare in write order.
 */
import { createHash } from 'node:crypto';
import type { Caller } from '../contracts.js';
import type { StoredObject } from './s3-store.js';

export interface S3EventRecord {
  eventVersion: '2.1';
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { 'x-amz-request-id': string; 'x-amz-id-2': string };
  s3: {
    s3SchemaVersion: '1.0';
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size: number; eTag: string; versionId?: string; sequencer: string };
  };
}

export interface S3Event {
  Records: S3EventRecord[];
}

/** How S3 writes keys in events: form encoding (space → `+`), with `/` left readable. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** A stable stand-in for the canonical "Amazon customer ID" S3 shows as owner principal. */
export function toOwnerPrincipalId(accountId: string): string {
  return `A${createHash('sha256').update(accountId).digest('hex').slice(0, 13).toUpperCase()}`;
}

/** The requester as S3 names it: `AWS:<role id>:<session>` for role sessions, `AWS:<account>` for root. */
function toRequesterPrincipalId(caller: Caller, roleId: string | undefined): string {
  if (caller.roleArn && roleId) return `AWS:${roleId}:${caller.arn.split('/').pop() ?? ''}`;
  return `AWS:${caller.accountId}`;
}

export class SequencerSource {
  private last = 0n;

  /** Strictly increasing hex, 18 digits like AWS's examples (0055AED6DCD90281E5). */
  next(now: number): string {
    const candidate = BigInt(now) * 1_000_000n;
    this.last = candidate > this.last ? candidate : this.last + 1n;
    return this.last.toString(16).toUpperCase().padStart(18, '0');
  }
}

export function buildObjectCreatedRecord(input: {
  bucket: { name: string; accountId: string; region: string; versioned: boolean };
  object: StoredObject;
  caller: Caller;
  roleId: string | undefined;
  requestId: string;
  sequencer: string;
  configurationId: string;
  /** ObjectCreated:Put, ObjectCreated:CompleteMultipartUpload… */
  eventName?: string;
}): S3EventRecord {
  const { object } = input;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: input.bucket.region,
    eventTime: new Date(object.lastModified).toISOString(),
    eventName: input.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: toRequesterPrincipalId(input.caller, input.roleId) },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': input.requestId,
      'x-amz-id-2': Buffer.from(input.requestId).toString('base64'),
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: input.configurationId,
      bucket: {
        name: input.bucket.name,
        ownerIdentity: { principalId: toOwnerPrincipalId(input.bucket.accountId) },
        arn: `arn:aws:s3:::${input.bucket.name}`,
      },
      object: {
        key: encodeEventKey(object.key),
        size: object.body.length,
        // Events carry the ETag without the quotes the HTTP header has.
        eTag: object.etag.replace(/"/g, ''),
        ...(input.bucket.versioned ? { versionId: object.versionId } : {}),
        sequencer: input.sequencer,
      },
    },
  };
}
