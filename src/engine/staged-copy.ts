/**
 * Records ferry's own copies in the ledger before they are written (core/staged-copy.ts), and
 * reads those records for the upload trigger.
 */
import { InputError } from '../core/errors.js';
import { CopyKind, type StagedCopy, stagedCopyKey } from '../core/staged-copy.js';
import { type LedgerDeps, resolveCaller } from './ledger.js';

/**
 * Records the copy create-only. A record of the same bytes already there (a retried job, a second
 * deploy of the same build) is fine; another checksum under the same build id is refused: a build
 * id names one artifact.
 */
export async function recordStagedCopy(deps: LedgerDeps, copy: StagedCopy): Promise<void> {
  const bucket = deps.config.artifactBucket;
  const key = stagedCopyKey(copy.app, copy.build);
  const put = await deps.store.putJson(bucket, key, copy, { ifNoneMatch: '*' });
  if (put.ok) return;
  const existing = await readStagedCopy(deps, copy.app, copy.build);
  if (existing?.codeSha256 === copy.codeSha256) return;
  throw new InputError(
    'BUILD_EXISTS',
    `Build ${copy.build} of ${copy.app} already names other bytes (sha256 ${existing?.codeSha256 ?? 'unknown'}, this artifact ${copy.codeSha256}). Builds are immutable: give this one another build id.`,
    { context: { app: copy.app, build: copy.build } },
  );
}

/** The record of a copy, or undefined. A record that is not a copy record counts as none. */
export async function readStagedCopy(deps: LedgerDeps, app: string, build: string): Promise<StagedCopy | undefined> {
  const doc = await deps.store.getJson<StagedCopy>(deps.config.artifactBucket, stagedCopyKey(app, build));
  const value = doc?.value;
  if (value === undefined || value === null || typeof value !== 'object') return undefined;
  return typeof value.key === 'string' && typeof value.codeSha256 === 'string' ? value : undefined;
}

/**
 * Records the upload `ferry deploy ./zip --stage S` makes for a direct deploy, before it is
 * written: the upload trigger then leaves it alone instead of also deploying it into the stages
 * that accept uploads. Returns the record (its caller is the identity the CLI runs as).
 */
export async function recordDirectDeployCopy(
  deps: LedgerDeps,
  copy: {
    app: string;
    build: string;
    key: string;
    codeSha256: string;
    objectChecksumSha256?: string;
    stage: string;
  },
): Promise<StagedCopy> {
  const record: StagedCopy = {
    schema: 1,
    kind: CopyKind.Cli,
    ...copy,
    caller: await resolveCaller(deps),
    recordedAt: new Date(deps.now()).toISOString(),
  };
  await recordStagedCopy(deps, record);
  return record;
}
