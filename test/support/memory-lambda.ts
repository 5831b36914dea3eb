/**
 * An in-memory LambdaPort over many functions in many accounts, for engine unit tests that need
 * several targets (promotion, rollback, status, pruning). Updates settle at once; the guards that
 * matter are real: RevisionId on code, publish and alias; CodeSha256 on publish; a version an
 * alias uses cannot be deleted; PublishVersion returns the existing version for unchanged code.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { CodeInput, LambdaPort } from '../../src/aws/lambda.js';
import type { Target } from '../../src/core/config.js';
import { ConflictError, InputError } from '../../src/core/errors.js';
import type { AliasState, FunctionState, PublishedVersion } from '../../src/core/lambda-model.js';

export interface MemoryFunction {
  name: string;
  codeSha256: string;
  revisionId: string;
  versions: (PublishedVersion & { revisionId: string })[];
  nextVersion: number;
  aliases: Map<string, AliasState>;
  calls: string[];
}

/** Reads an S3 object version for an S3-reference code update, as Lambda would; undefined when it does not exist. */
export type S3CodeReader = (bucket: string, key: string, versionId: string) => Buffer | undefined;

export class MemoryLambda {
  readonly functions = new Map<string, MemoryFunction>();
  /** Code updates by S3 reference, in order, as `bucket/key@version`. */
  readonly s3CodeReads: string[] = [];

  constructor(private readonly readS3Code?: S3CodeReader) {}

  key(target: Pick<Target, 'accountId' | 'region' | 'functionName'>): string {
    return `${target.accountId}/${target.region}/${target.functionName}`;
  }

  fn(target: Pick<Target, 'accountId' | 'region' | 'functionName'>): MemoryFunction {
    const key = this.key(target);
    let found = this.functions.get(key);
    if (!found) {
      found = {
        name: target.functionName,
        codeSha256: 'initial',
        revisionId: randomUUID(),
        versions: [],
        nextVersion: 1,
        aliases: new Map(),
        calls: [],
      };
      this.functions.set(key, found);
    }
    return found;
  }

  /** Moves an alias by hand, as someone outside ferry would (for drift tests). */
  moveAlias(target: Target, version: string): void {
    const f = this.fn(target);
    const alias = f.aliases.get(target.alias);
    if (!alias) throw new Error('no alias');
    f.aliases.set(target.alias, { ...alias, functionVersion: version, revisionId: randomUUID() });
  }

  private readCode(code: CodeInput): Uint8Array {
    if ('zipFile' in code) return code.zipFile;
    this.s3CodeReads.push(`${code.s3Bucket}/${code.s3Key}@${code.s3ObjectVersion}`);
    const bytes = this.readS3Code?.(code.s3Bucket, code.s3Key, code.s3ObjectVersion);
    if (!bytes) {
      throw new InputError(
        'LAMBDA_INVALID_PARAMETER',
        `memory-lambda: no object s3://${code.s3Bucket}/${code.s3Key} version ${code.s3ObjectVersion}`,
      );
    }
    return bytes;
  }

  port(target: Target): LambdaPort {
    const f = this.fn(target);
    const state = (version = '$LATEST'): FunctionState => {
      const v = version === '$LATEST' ? undefined : f.versions.find((x) => x.version === version);
      if (version !== '$LATEST' && !v) throw new InputError('FUNCTION_NOT_FOUND', `${f.name}:${version} not found`);
      return {
        functionName: f.name,
        functionArn: `arn:aws:lambda:${target.region}:${target.accountId}:function:${f.name}`,
        version,
        codeSha256: v?.codeSha256 ?? f.codeSha256,
        revisionId: v?.revisionId ?? f.revisionId,
        lastUpdateStatus: 'Successful',
        ...(v?.description ? { description: v.description } : {}),
      };
    };
    const revisionChanged = () => new ConflictError('LAMBDA_REVISION_CHANGED', 'RevisionId mismatch');
    return {
      getFunction: async (_name, qualifier) => {
        f.calls.push('GetFunction');
        return state(qualifier);
      },
      getAlias: async (_name, alias) => {
        f.calls.push('GetAlias');
        return f.aliases.get(alias);
      },
      listVersions: async () => {
        f.calls.push('ListVersions');
        return f.versions.map(({ revisionId: _r, ...v }) => v);
      },
      listAliases: async () => {
        f.calls.push('ListAliases');
        return [...f.aliases.values()];
      },
      updateFunctionCode: async ({ revisionId, code }) => {
        f.calls.push('UpdateFunctionCode');
        if (revisionId !== f.revisionId) throw revisionChanged();
        f.codeSha256 = createHash('sha256').update(this.readCode(code)).digest('base64');
        f.revisionId = randomUUID();
        return state();
      },
      publishVersion: async ({ codeSha256, revisionId, description }) => {
        f.calls.push('PublishVersion');
        if (revisionId !== f.revisionId) throw revisionChanged();
        if (codeSha256 !== f.codeSha256) throw new ConflictError('LAMBDA_CODE_CHANGED', 'CodeSha256 mismatch');
        const last = f.versions.at(-1);
        if (last && last.codeSha256 === f.codeSha256) return state(last.version);
        const version = String(f.nextVersion++);
        f.versions.push({ version, codeSha256, description, revisionId: randomUUID() });
        return state(version);
      },
      createAlias: async ({ alias, version, description }) => {
        f.calls.push('CreateAlias');
        if (f.aliases.has(alias)) throw new ConflictError('LAMBDA_UPDATE_IN_PROGRESS', 'alias exists');
        const created: AliasState = {
          name: alias,
          functionVersion: version,
          revisionId: randomUUID(),
          routing: {},
          ...(description ? { description } : {}),
        };
        f.aliases.set(alias, created);
        return created;
      },
      updateAlias: async ({ alias, version, revisionId, description, routing }) => {
        f.calls.push('UpdateAlias');
        const existing = f.aliases.get(alias);
        if (!existing) throw new InputError('FUNCTION_NOT_FOUND', 'no alias');
        if (revisionId && revisionId !== existing.revisionId) throw revisionChanged();
        const updated: AliasState = {
          name: alias,
          functionVersion: version,
          revisionId: randomUUID(),
          routing: { ...(routing ?? {}) },
          ...(description ? { description } : {}),
        };
        f.aliases.set(alias, updated);
        return updated;
      },
      deleteVersion: async (_name, version) => {
        f.calls.push(`DeleteFunction:${version}`);
        const used = [...f.aliases.values()].some((a) => a.functionVersion === version || version in a.routing);
        if (used) throw new ConflictError('LAMBDA_UPDATE_IN_PROGRESS', `version ${version} is used by an alias`);
        f.versions = f.versions.filter((v) => v.version !== version);
      },
    };
  }
}
