/**
 * Who retries what, measured against the sandbox with the real SDK clients: ferry's own loop is
 * the only retry layer for Lambda (one request per attempt), and STS keeps the SDK's retries
 * but reports throttling that outlasts them as throttling, never as access denied.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LAMBDA_RETRY_POLICY } from '../../../src/engine/retry.js';
import { type FerryWorld, startFerryWorld, TWO_ACCOUNTS } from '../../support/sandbox-harness.js';

let world: FerryWorld | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

async function start() {
  world = await startFerryWorld({ config: TWO_ACCOUNTS, lambda: { updateDelayMs: 20 } });
  const runtime = world.createRuntime({ sleep: async () => {}, random: () => 0 });
  const [target] = world.targets;
  if (!target) throw new Error('no target');
  return { world, runtime, target };
}

describe('retry layers', () => {
  it('a throttled Lambda call makes one request per ferry attempt: the SDK does not retry under ferry', async () => {
    const { world, runtime, target } = await start();
    const lambda = await runtime.lambdaFor(target, 'ferry-retry-layers');
    world.sandbox.faults.add({
      service: 'lambda',
      operation: 'GetFunctionConfiguration',
      error: { code: 'TooManyRequestsException', status: 429, message: 'Rate exceeded' },
    });

    await expect(lambda.getFunctionConfiguration(target.functionName)).rejects.toMatchObject({
      code: 'LAMBDA_THROTTLED',
    });
    expect(world.sandbox.countRequests({ service: 'lambda', operation: 'GetFunctionConfiguration' })).toBe(
      LAMBDA_RETRY_POLICY.maxAttempts,
    );
  });

  it('STS throttling is retried by the SDK, and what outlasts it is throttling, not access denied', async () => {
    const { world, runtime, target } = await start();
    const throttle = (times?: number) =>
      world.sandbox.faults.add({
        service: 'sts',
        operation: 'AssumeRole',
        error: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
        ...(times === undefined ? {} : { times }),
      });

    throttle(1);
    await expect(runtime.lambdaFor(target, 'ferry-sts-once')).resolves.toBeDefined();
    expect(world.sandbox.countRequests({ service: 'sts', operation: 'AssumeRole' })).toBe(2);

    throttle();
    const failure = runtime.lambdaFor(target, 'ferry-sts-always');
    await expect(failure).rejects.toMatchObject({ code: 'STS_THROTTLED', kind: 'throttled', transient: true });
  });
});
