import type { Clock, SandboxRequest, SandboxResponse } from '../contracts.js';
import type { IamStore } from '../iam.js';
import { generateRequestId } from '../ids.js';
import type { S3EventBus } from './event-bus.js';
import type { SequencerSource } from './event-record.js';
import type { S3Store } from './s3-store.js';

/** What the S3 handlers share. */
export interface S3Context {
  readonly store: S3Store;
  readonly iam: IamStore;
  readonly clock: Clock;
  readonly events: S3EventBus;
  readonly sequencer: SequencerSource;
}

/** The request with its bucket and key resolved (path-style or virtual-hosted). */
export interface S3Target {
  readonly bucket?: string;
  readonly key?: string;
}

export type S3Handler = (ctx: S3Context, req: SandboxRequest, target: S3Target) => SandboxResponse;

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Headers S3 puts on every answer. */
export function buildS3Headers(req: SandboxRequest, extra: Record<string, string> = {}): Record<string, string> {
  const requestId = req.requestId ?? generateRequestId();
  return { 'x-amz-request-id': requestId, 'x-amz-id-2': Buffer.from(requestId).toString('base64'), ...extra };
}

/** S3 XML timestamps keep milliseconds: 2009-10-12T17:50:30.000Z. */
export function formatS3Timestamp(ms: number): string {
  return new Date(ms).toISOString();
}
