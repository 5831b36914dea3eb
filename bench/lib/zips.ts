/** Function zips for the benchmark: distinct bytes per deploy (ferry skips what a function already runs). */
import { createHash } from 'node:crypto';
import { makeFunctionZip } from '@ferry/aws-sandbox';

export { makeFunctionZip };

/** Lambda's CodeSha256: base64 of the SHA-256 of the zip. */
export function computeCodeSha256(zip: Buffer): string {
  return createHash('sha256').update(zip).digest('base64');
}
