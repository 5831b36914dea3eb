/**
 * Reads what targets really serve, through their deploy roles: the alias and the CodeSha256 of
 * the version it points at (or of a version the ledger names). Read only; the comparison with the
 * ledger's claim is core/served-check.ts.
 */
import pLimit from 'p-limit';
import type { Target } from '../core/config.js';
import { isFerryError } from '../core/errors.js';
import type { ServedObservation } from '../core/served-check.js';
import type { Runtime } from '../runtime/create-runtime.js';

/**
 * For each target, the version its alias points at and that version's CodeSha256; with
 * `versions`, the named version of each target instead of the alias's. A missing alias or
 * version is observed as serving nothing; any other error (access, throttling) is thrown.
 */
export async function observeServed(
  runtime: Runtime,
  targets: readonly Target[],
  sessionName: string,
  versions?: Readonly<Record<string, string>>,
): Promise<ServedObservation[]> {
  const limit = pLimit(runtime.config.concurrency);
  return Promise.all(
    targets.map((target) =>
      limit(async (): Promise<ServedObservation> => {
        const lambda = await runtime.lambdaFor(target, sessionName);
        let version = versions?.[target.id];
        if (versions === undefined) {
          const alias = await lambda.getAlias(target.functionName, target.alias);
          if (alias === undefined) return { targetId: target.id };
          version = alias.functionVersion;
        }
        if (version === undefined) return { targetId: target.id, alias: target.alias };
        const named = version;
        try {
          const published = await lambda.getFunctionConfiguration(target.functionName, named);
          return { targetId: target.id, alias: target.alias, version: named, codeSha256: published.codeSha256 };
        } catch (error) {
          if (isFerryError(error) && error.code === 'FUNCTION_NOT_FOUND') {
            return { targetId: target.id, alias: target.alias, version: named };
          }
          throw error;
        }
      }),
    ),
  );
}
