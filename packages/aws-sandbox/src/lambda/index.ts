/**
 * The sandbox's Lambda service: the REST-JSON API the unmodified SDK's LambdaClient speaks,
 * over per-account, per-Region function records. See `contracts.ts` for the contract.
 */
import {
  AwsError,
  type FunctionSnapshot,
  type LambdaSandbox,
  type LambdaServiceDeps,
  type SandboxRequest,
  type SandboxResponse,
  type SeedFunctionInput,
} from '../contracts.js';
import type { Invocation, ServiceState } from './context.js';
import { throttled } from './errors.js';
import {
  createFunctionRecord,
  createFunctionStore,
  settleUpdate,
  snapshotLatest,
  sortedVersions,
} from './function-store.js';
import { createHandlerRunner } from './invoke.js';
import { operations } from './operations.js';
import { createRateLimiter } from './rate-limiter.js';
import { matchRoute, renderLambdaError } from './routes.js';
import { computeCodeSha256 } from './zip.js';

export interface LambdaServiceOptions {
  /** Source of randomness for weighted alias routing (tests pin it). Default Math.random. */
  readonly random?: () => number;
}

/** The Lambda sandbox, plus `close()` to stop running handlers and remove extracted code. */
export interface LambdaSandboxService extends LambdaSandbox {
  close(): Promise<void>;
}

/** Creates the Lambda service the sandbox server dispatches `lambda`-signed requests to. */
export function createLambdaService(deps: LambdaServiceDeps, options: LambdaServiceOptions = {}): LambdaSandboxService {
  const state: ServiceState = {
    deps,
    store: createFunctionStore(),
    runner: createHandlerRunner(),
    random: options.random ?? createRoutingRandom(deps.settings),
    invocations: [] as Invocation[],
    asyncQueue: [],
  };
  const limiter = createRateLimiter(deps.clock);

  const operation = (req: SandboxRequest): string => matchRoute(req.method, req.path)?.operation ?? 'Unknown';

  const handle = async (req: SandboxRequest, _operation: string): Promise<SandboxResponse> => {
    // Routing is recomputed rather than trusted from the argument: path parameters come with it.
    const route = matchRoute(req.method, req.path);
    const run = route ? operations[route.operation] : undefined;
    if (!route || !run) {
      throw new AwsError('UnknownOperationException', 404, `Unknown operation: ${req.method} ${req.path}`);
    }
    if (deps.settings.rateLimits) {
      const decision = limiter.take(req.caller.accountId, req.region, route.operation);
      if (!decision.allowed) throw throttled(decision.retryAfterSeconds);
    }
    return run({ state, req, params: route.params });
  };

  return {
    signingName: 'lambda',
    operation,
    handle,
    renderError: (error) => renderLambdaError(error),
    seedFunction: (input) => seedFunction(state, input),
    describeFunction: (accountId, region, functionName) => describeFunction(state, accountId, region, functionName),
    listFunctionNames: (accountId, region) =>
      state.store
        .list(accountId, region)
        .map((record) => record.name)
        .sort(),
    invocations: () => [...state.invocations],
    takeAsyncInvocations: () => state.asyncQueue.splice(0, state.asyncQueue.length),
    close: () => state.runner.close(),
  };
}

/** Math.random, or a reproducible sequence while `settings.routingSeed` is set (re-seeded when it changes). */
function createRoutingRandom(settings: LambdaServiceDeps['settings']): () => number {
  let seed: number | undefined;
  let next: (() => number) | undefined;
  return () => {
    if (settings.routingSeed === undefined) return Math.random();
    if (settings.routingSeed !== seed || !next) {
      seed = settings.routingSeed;
      next = mulberry32(seed);
    }
    return next();
  };
}

/** A small, well-known 32-bit PRNG (mulberry32): plenty for picking alias versions. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Creates a function directly (no authorization, no zip check); `aliases` get version 1. */
function seedFunction(state: ServiceState, input: SeedFunctionInput): void {
  const now = state.deps.clock.now();
  const record = createFunctionRecord(
    state.store,
    {
      accountId: input.accountId,
      region: input.region,
      name: input.functionName,
      code: { zip: input.zip, sha256: computeCodeSha256(input.zip), size: input.zip.length },
      config: {
        runtime: input.runtime ?? 'nodejs22.x',
        handler: input.handler ?? 'index.handler',
        role: input.roleArn ?? `arn:aws:iam::${input.accountId}:role/${input.functionName}-role`,
        description: '',
        timeout: 3,
        memorySize: 128,
        environment: {},
        ...(input.deadLetterTargetArn ? { deadLetterTargetArn: input.deadLetterTargetArn } : {}),
      },
      tags: {},
    },
    now,
  );
  const aliases = input.aliases ?? [];
  if (aliases.length === 0) return;
  const version = snapshotLatest(record, undefined, now);
  for (const name of aliases) {
    record.aliases.set(name, {
      name,
      functionVersion: version.version,
      description: '',
      routing: {},
      revisionId: crypto.randomUUID(),
    });
  }
}

function describeFunction(
  state: ServiceState,
  accountId: string,
  region: string,
  functionName: string,
): FunctionSnapshot | undefined {
  const record = state.store.find(accountId, region, functionName);
  if (!record) return undefined;
  settleUpdate(record, state.deps.clock.now());
  return {
    functionName: record.name,
    functionArn: record.arn,
    latest: {
      codeSha256: record.latest.code.sha256,
      revisionId: record.latest.revisionId,
      lastUpdateStatus: record.latest.status,
      state: 'Active',
    },
    versions: sortedVersions(record).map((version) => ({
      version: version.version,
      codeSha256: version.code.sha256,
      description: version.config.description,
    })),
    aliases: [...record.aliases.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((alias) => ({ name: alias.name, functionVersion: alias.functionVersion, routing: { ...alias.routing } })),
  };
}
