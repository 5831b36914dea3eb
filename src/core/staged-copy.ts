/**
 * Copies ferry itself writes into the artifact bucket and deploys on its own: a CodePipeline
 * action's pinned copy of its build, and `ferry deploy ./zip`'s upload for a direct deploy into
 * one stage. Before writing such a copy, ferry records it in the ledger (app, build, key, SHA-256,
 * who); the upload trigger leaves an upload to the copy's own deployment only when that record
 * exists and matches the uploaded object version's checksum. Metadata alone proves nothing:
 * anyone who may upload can set `x-amz-meta-ferry-trigger`.
 */
import { LEDGER_PREFIX } from './ledger-model.js';

/** Object metadata (x-amz-meta-ferry-trigger) that marks an upload as one of ferry's own copies. */
export const FERRY_COPY_METADATA_KEY = 'ferry-trigger';

export const CopyKind = { Pipeline: 'pipeline', Cli: 'cli' } as const;
export type CopyKind = (typeof CopyKind)[keyof typeof CopyKind];

export interface StagedCopy {
  readonly schema: 1;
  readonly kind: CopyKind;
  readonly app: string;
  readonly build: string;
  /** The artifact key the copy is written to. */
  readonly key: string;
  /** base64 SHA-256 of the bytes ferry writes (Lambda's CodeSha256 form). */
  readonly codeSha256: string;
  /**
   * S3's ChecksumSHA256 of the copy as ferry uploads it: codeSha256 for one part, the composite of
   * the parts' SHA-256s for a multipart upload. Absent in records from before streaming uploads.
   */
  readonly objectChecksumSha256?: string;
  /** Who made it: the CLI caller, or ferry's role for a pipeline. */
  readonly caller: string;
  /** A direct deploy's stage. */
  readonly stage?: string;
  readonly jobId?: string;
  readonly executionId?: string;
  readonly recordedAt: string;
}

/** `ledger/<app>/_staged/<build>.json`: one record per build (builds are immutable). */
export function stagedCopyKey(app: string, build: string): string {
  return `${LEDGER_PREFIX}${app}/_staged/${build}.json`;
}

export type UploadSkipDecision =
  | { readonly action: 'deploy'; readonly warning?: string }
  | { readonly action: 'skip'; readonly reason: string };

/**
 * Whether an uploaded object is one of ferry's own copies, to be left to the deployment that made
 * it: only when the upload carries the marker *and* ferry's record of the copy names this key with
 * exactly the checksum S3 stored for this object version. Anything else deploys as an upload.
 */
export function decideUploadSkip(input: {
  readonly key: string;
  readonly marker?: string;
  /** S3's ChecksumSHA256 of the event's object version (S3 verified it against the bytes). */
  readonly objectSha256?: string;
  readonly record?: StagedCopy;
}): UploadSkipDecision {
  const { marker, record } = input;
  if (marker === undefined || !(Object.values(CopyKind) as string[]).includes(marker)) return { action: 'deploy' };
  const claim = `the upload is marked ${FERRY_COPY_METADATA_KEY}: ${marker}`;
  if (record === undefined) {
    return { action: 'deploy', warning: `${claim}, but ferry recorded no such copy; deploying it as an upload` };
  }
  if (record.key !== input.key || record.kind !== marker) {
    return { action: 'deploy', warning: `${claim}, but ferry's record is of another copy; deploying it as an upload` };
  }
  const recorded = record.objectChecksumSha256 ?? record.codeSha256;
  if (input.objectSha256 === undefined || input.objectSha256 !== recorded) {
    return {
      action: 'deploy',
      warning: `${claim}, but its checksum ${input.objectSha256 ?? '(none)'} is not the ${recorded} ferry copied; deploying it as an upload`,
    };
  }
  const by =
    record.kind === CopyKind.Pipeline
      ? `CodePipeline job ${record.jobId ?? '?'}, which deploys it`
      : `ferry deploy into ${record.stage ?? '?'} by ${record.caller}`;
  return { action: 'skip', reason: `staged by ${by}; not deployed by the upload trigger` };
}
