/**
 * ArtifactErrors for zips that do not mean one thing: two extractors (Lambda's, a developer's
 * unzip, a scanner) could read different files out of them. The message names what is wrong and
 * what to do; the code says which kind of ambiguity it is.
 */
import { ArtifactError, type ErrorContext } from '../core/errors.js';
import type { ArtifactErrorCode } from './artifact-error-codes.js';

const REBUILD =
  'Rebuild the zip with a standard tool (zip, 7-Zip, Python zipfile, archiver, yazl) from the build directory ' +
  'and upload it again; if you did not build this zip, find out who wrote it to the bucket.';

/** `problem` completes "The artifact …"; `consequence` says why ferry refuses it. */
export function rejectZip(
  code: ArtifactErrorCode,
  problem: string,
  consequence: string,
  context: ErrorContext,
): ArtifactError {
  return new ArtifactError(code, `The artifact ${problem}. ${consequence} ${REBUILD}`, { context });
}

/** The consequence shared by every structural ambiguity. */
export const READ_DIFFERENTLY = 'Zip readers could extract different files from it, so ferry deploys it nowhere.';

/** Entry names as shown in messages and logs: quoted, escaped, bounded. */
export function showName(name: string): string {
  const shown = JSON.stringify(name);
  return shown.length > 200 ? `${shown.slice(0, 200)}…"` : shown;
}
