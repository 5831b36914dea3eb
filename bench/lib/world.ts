/**
 * Starts bench/world-server.ts in a child process and talks to it: its request log (admin routes),
 * uploads as CI does, and reads of what the functions run, with the accounts' root credentials.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetAliasCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { RequestFilter, RequestLogEntry } from '@ferry/aws-sandbox';
import type { WorldAnnouncement } from '../world-server.js';
import { spawnTracked, tail } from './children.js';

export interface WorldProcess extends WorldAnnouncement {
  /** The ferry configuration the world was built from, as a JSON file (for `ferry --config`). */
  readonly configFile: string;
  /** Lambda's update delay in this world (ms): an UpdateFunctionCode settles that long after it is accepted. */
  readonly updateDelayMs: number;
  /** Requests the sandbox answered since it started or since the last clearRequests(). */
  requests(filter?: RequestFilter): Promise<RequestLogEntry[]>;
  clearRequests(): Promise<void>;
  /** Removes and returns the asynchronous invocations Lambda has queued (with queueAsync). */
  takeAsyncInvocations(): Promise<{ functionName: string; payload: unknown }[]>;
  /** A JSON document of the tooling account's bucket (ferry's ledger), or undefined. */
  readJson<T>(bucket: string, key: string): Promise<T | undefined>;
  /** Keys under a prefix of a tooling-account bucket. */
  listKeys(bucket: string, prefix: string): Promise<string[]>;
  /** PutObject as CI does (ChecksumSHA256); returns the object's version id. */
  upload(bucket: string, key: string, zip: Buffer, metadata?: Record<string, string>): Promise<string>;
  /** What an alias points at, and that version's CodeSha256 (read with the account's root credentials). */
  readAlias(accountId: string, functionName: string, alias: string): Promise<{ version: string; codeSha256: string }>;
  stop(): Promise<void>;
}

/** Lambda's update delay the benchmark's worlds use unless told otherwise. */
export const DEFAULT_UPDATE_DELAY_MS = 200;

export interface WorldOptions {
  readonly repoRoot: string;
  readonly workDir: string;
  readonly name: string;
  readonly config: unknown;
  readonly updateDelayMs?: number;
  readonly rateLimits?: boolean;
  /** Queue asynchronous invocations for the benchmark to deliver (takeAsyncInvocations). */
  readonly queueAsync?: boolean;
  readonly startTimeoutMs?: number;
}

export async function startWorldProcess(options: WorldOptions): Promise<WorldProcess> {
  const configFile = join(options.workDir, `${options.name}.world.json`);
  await writeFile(configFile, JSON.stringify(options.config));
  const args = [
    '--import',
    'tsx',
    join(options.repoRoot, 'bench', 'world-server.ts'),
    '--config',
    configFile,
    '--update-delay-ms',
    String(options.updateDelayMs ?? DEFAULT_UPDATE_DELAY_MS),
    ...(options.rateLimits === false ? ['--no-rate-limits'] : []),
    ...(options.queueAsync ? ['--queue-async'] : []),
  ];
  const child = spawnTracked(process.execPath, args, {
    cwd: options.repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_OPTIONS: '--max-old-space-size=4096' },
    stdin: 'pipe',
  });
  const announcement = await readAnnouncement(child, options.startTimeoutMs ?? 60_000);
  const region = announcement.region;
  const tooling = announcement.roots[announcement.toolingAccountId];
  if (!tooling) throw new Error('world-server announced no tooling account credentials');
  const s3 = new S3Client({ endpoint: announcement.endpoint, region, credentials: tooling, forcePathStyle: true });
  const lambdaClients = new Map<string, LambdaClient>();
  const lambdaOf = (accountId: string): LambdaClient => {
    let client = lambdaClients.get(accountId);
    if (!client) {
      const credentials = announcement.roots[accountId];
      if (!credentials) throw new Error(`account ${accountId} is not part of world ${options.name}`);
      client = new LambdaClient({ endpoint: announcement.endpoint, region, credentials });
      lambdaClients.set(accountId, client);
    }
    return client;
  };
  const admin = async (method: string, query = ''): Promise<Response> => {
    const response = await fetch(`${announcement.endpoint}/_sandbox/requests${query}`, {
      method,
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new Error(`sandbox admin ${method} /requests answered ${response.status}`);
    return response;
  };

  return {
    ...announcement,
    configFile,
    updateDelayMs: options.updateDelayMs ?? DEFAULT_UPDATE_DELAY_MS,
    async requests(filter = {}) {
      const params = new URLSearchParams(
        Object.entries(filter).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]])),
      );
      const query = params.size > 0 ? `?${params}` : '';
      const body = (await (await admin('GET', query)).json()) as { requests: RequestLogEntry[] };
      return body.requests;
    },
    async clearRequests() {
      await admin('DELETE');
    },
    async takeAsyncInvocations() {
      const response = await fetch(`${announcement.endpoint}/_sandbox/lambda/async-invocations/take`, {
        method: 'POST',
        signal: AbortSignal.timeout(30_000),
      });
      if (!response.ok) throw new Error(`sandbox admin take async invocations answered ${response.status}`);
      return ((await response.json()) as { invocations: { functionName: string; payload: unknown }[] }).invocations;
    },
    async readJson<T>(bucket: string, key: string) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return JSON.parse((await out.Body?.transformToString()) ?? 'null') as T;
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined;
        throw error;
      }
    },
    async listKeys(bucket: string, prefix: string) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
        );
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = page.NextContinuationToken;
      } while (token);
      return keys;
    },
    async upload(bucket, key, zip, metadata = {}) {
      const out = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: zip,
          ChecksumSHA256: createHash('sha256').update(zip).digest('base64'),
          Metadata: metadata,
        }),
      );
      if (!out.VersionId) throw new Error(`upload of ${key} returned no VersionId (is the bucket versioned?)`);
      return out.VersionId;
    },
    async readAlias(accountId, functionName, alias) {
      const lambda = lambdaOf(accountId);
      const found = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }));
      const version = found.FunctionVersion ?? '';
      const config = await lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }),
      );
      return { version, codeSha256: config.CodeSha256 ?? '' };
    },
    stop() {
      s3.destroy();
      for (const client of lambdaClients.values()) client.destroy();
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(hard);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
}

function readAnnouncement(child: ReturnType<typeof spawnTracked>, timeoutMs: number): Promise<WorldAnnouncement> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`world-server ${why}:\n${tail(err)}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, newline)) as WorldAnnouncement);
      } catch (error) {
        fail(`printed something other than its announcement: ${String(error)}`);
      }
    });
    child.once('exit', (code, signal) => fail(`exited early (${signal ?? code})`));
  });
}
