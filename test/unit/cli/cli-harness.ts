/**
 * Runs `runCli` in-process with captured output, a configuration in FERRY_CONFIG, a fake object
 * store and fake engine functions, so command tests assert exactly what each command asks of the
 * engine and prints.
 */
import type { ObjectStorePort } from '../../../src/aws/s3.js';
import type { CliDeps } from '../../../src/cli/context.js';
import type { CliEngine } from '../../../src/cli/engine.js';
import { runCli } from '../../../src/cli/main.js';
import { InputError } from '../../../src/core/errors.js';
import type { Runtime } from '../../../src/runtime/create-runtime.js';

export const CONFIG = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  externalId: 'ferry-ext-secretish',
  stages: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [{ account: '222222222222', function: 'orders-api' }],
        staging: [
          { account: '333333333333', function: 'orders-api' },
          { account: '333333333333', function: 'orders-worker' },
        ],
      },
      promotions: [{ from: 'dev', to: 'staging', minSoakMinutes: 60 }],
    },
  },
};

/** A putArtifact call, its streamed body read to the end. */
export interface PutCall {
  bucket: string;
  key: string;
  body: Uint8Array;
  digest: { sha256: string; sizeBytes: number; objectChecksumSha256: string };
  metadata: Record<string, string>;
  createOnly?: boolean;
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (throws when it is not exactly one JSON document). */
  json<T = Record<string, unknown>>(): T;
}

export interface Harness {
  readonly puts: PutCall[];
  /** Engine functions the test provides; calling any other one fails the test. */
  engine: { -readonly [K in keyof CliEngine]?: CliEngine[K] };
  putError?: unknown;
  /** What a HEAD of the artifact key answers; absent: the key is free (ARTIFACT_NOT_FOUND). */
  existing?: { checksumSha256?: string; versionId?: string };
  env: NodeJS.ProcessEnv;
  run(...argv: string[]): Promise<CliRun>;
}

export function createHarness(options: { config?: unknown; now?: Date; cwd?: string } = {}): Harness {
  const puts: PutCall[] = [];
  const harness: Harness = {
    puts,
    engine: {},
    env: { FERRY_CONFIG: JSON.stringify(options.config ?? CONFIG) },
    async run(...argv) {
      let stdout = '';
      let stderr = '';
      const store = {
        async headArtifact(location: { bucket: string; key: string }) {
          if (harness.existing) return { metadata: {}, ...harness.existing };
          throw new InputError('ARTIFACT_NOT_FOUND', `s3://${location.bucket}/${location.key} does not exist.`);
        },
        async putArtifact(input: Omit<PutCall, 'body'> & { body: AsyncIterable<Uint8Array> | Uint8Array }) {
          if (harness.putError) throw harness.putError;
          const chunks: Uint8Array[] = [];
          if (input.body instanceof Uint8Array) chunks.push(input.body);
          else for await (const chunk of input.body) chunks.push(chunk);
          puts.push({ ...input, body: Buffer.concat(chunks) });
          return { versionId: 'v-uploaded-1', etag: '"e"' };
        },
      } as unknown as ObjectStorePort;
      const deps: Partial<CliDeps> = {
        env: harness.env,
        cwd: options.cwd ?? '/nonexistent-cwd',
        now: () => options.now ?? new Date('2026-11-22T08:15:30.123Z'),
        createRuntime: (config) => ({ config, store }) as unknown as Runtime,
        loadEngine: () => {
          const fail = (name: string) => () => {
            throw new Error(`the test did not expect engine.${name} to be called`);
          };
          const { engine } = harness;
          return {
            deployBuild: engine.deployBuild ?? fail('deployBuild'),
            promote: engine.promote ?? fail('promote'),
            rollback: engine.rollback ?? fail('rollback'),
            readStatus: engine.readStatus ?? fail('readStatus'),
            readHistory: engine.readHistory ?? fail('readHistory'),
            recordDirectDeployCopy: engine.recordDirectDeployCopy ?? fail('recordDirectDeployCopy'),
            advanceShift: engine.advanceShift ?? fail('advanceShift'),
            readShift: engine.readShift ?? fail('readShift'),
            resolveCaller: engine.resolveCaller ?? (async () => 'arn:aws:iam::111111111111:user/test'),
          } as CliEngine;
        },
      };
      const code = await runCli(
        argv,
        {
          writeOut: (text) => {
            stdout += text;
          },
          writeErr: (text) => {
            stderr += text;
          },
        },
        deps,
      );
      return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
    },
  };
  return harness;
}
