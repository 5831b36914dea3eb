/**
 * ferry's engine in this process, warm as inside a Lambda container that has deployed before:
 * the runtime is built once, its SDK clients hold their connections, the deploy roles' credentials
 * and the caller's identity are cached.
 */
import { type FerryConfig, parseConfig, type Target } from '../../src/core/config.js';
import { type BuildDeployResult, deployBuild, Trigger } from '../../src/engine/deploy-build.js';
import type { LambdaRateLimits } from '../../src/engine/pacer.js';
import { createRuntime, type Runtime } from '../../src/runtime/create-runtime.js';
import { BUCKET, REGION, STAGE } from './configs.js';
import { createSilentLog } from './context.js';
import type { WorldProcess } from './world.js';

/** Pacing so loose it never waits: ferry without its client-side rate limiting, for comparison. */
export const UNPACED: LambdaRateLimits = { controlPerSecond: 1e9 };

/**
 * The SDK reads AWS_ENDPOINT_URL and the credential chain from process.env, as in the Lambda: point
 * this process at the world. Returns a function that restores the previous environment.
 */
export function enterWorldEnv(world: WorldProcess): () => void {
  const env: Record<string, string> = { ...world.env, AWS_EC2_METADATA_DISABLED: 'true' };
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

export interface WarmFerry {
  readonly runtime: Runtime;
  readonly config: FerryConfig;
  deploy(app: string, build: string, key: string, versionId: string, sizeBytes: number): Promise<BuildDeployResult>;
}

/** Builds a runtime for the world and warms it: caller identity, and every deploy role assumed once. */
export async function createWarmFerry(
  world: WorldProcess,
  options: { rateLimits?: LambdaRateLimits; concurrency?: number } = {},
): Promise<WarmFerry> {
  const raw = JSON.parse(world.env.FERRY_CONFIG ?? '{}') as Record<string, unknown>;
  const config = parseConfig(
    options.concurrency === undefined ? raw : { ...raw, concurrency: options.concurrency },
    'benchmark world',
  );
  const runtime = createRuntime(config, {
    env: { ...process.env, ...world.env },
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
  });
  await runtime.identifyCaller?.();
  const byRole = new Map<string, Target>();
  for (const app of Object.values(config.apps)) {
    for (const target of Object.values(app.targets).flat()) byRole.set(`${target.roleArn}|${target.region}`, target);
  }
  for (const target of byRole.values()) await runtime.lambdaFor(target, 'bench-warm-up');
  const log = createSilentLog();
  return {
    runtime,
    config,
    async deploy(app, build, key, versionId, sizeBytes) {
      const appConfig = config.apps[app];
      if (!appConfig) throw new Error(`no app ${app} in the benchmark world`);
      const result = await deployBuild(runtime, log, {
        app: appConfig,
        build,
        location: { bucket: BUCKET, key, versionId, region: REGION },
        sizeBytes,
        stages: [STAGE],
        trigger: Trigger.Upload,
      });
      return result;
    },
  };
}

/** Throws unless every target of the deploy succeeded, naming what failed. */
export function requireSucceeded(result: BuildDeployResult): BuildDeployResult {
  if (result.status === 'succeeded') return result;
  const reasons = result.stages.flatMap((s) =>
    s.outcomes.filter((o) => o.error).map((o) => `${o.target.id}: ${o.error?.message}`),
  );
  throw new Error(
    `ferry's deploy of ${result.app} ${result.build} ended ${result.status}: ${[result.error?.message, ...reasons].filter(Boolean).join('; ')}`,
  );
}
