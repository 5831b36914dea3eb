/**
 * ferry's Lambda port retries transient answers itself (retrying-lambda.ts, applied once in
 * create-runtime.ts), so engine code calls the port plainly: checked against the in-process
 * sandbox, whose faults answer as Lambda does, on the runtime's virtual clock.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Target } from '../../../src/core/config.js';
import { LAMBDA_RETRY_POLICY } from '../../../src/engine/retry.js';
import { startUnitWorld, type UnitWorld } from '../../support/unit-world.js';

const rawConfig = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  stages: [{ name: 'dev' }],
  apps: { 'orders-api': { targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } } },
};
const target = parseConfig(rawConfig).apps['orders-api']?.targets.dev?.[0] as Target;

let world: UnitWorld;
beforeEach(async () => {
  world = await startUnitWorld(rawConfig);
});
afterEach(async () => {
  await world.stop();
});

const fault = (operation: string, code: string, status: number, times: number) =>
  world.world.sandbox.faults.add({ service: 'lambda', operation, error: { code, status }, times });
const attempts = (operation: string) => world.world.sandbox.countRequests({ service: 'lambda', operation });

describe('the Lambda port the runtime hands out', () => {
  it('retries throttling with backoff until the call succeeds', async () => {
    fault('GetFunctionConfiguration', 'TooManyRequestsException', 429, 3);
    const lambda = await world.runtime.lambdaFor(target, 'orders-api-test');
    const started = world.runtime.now();
    const state = await lambda.getFunctionConfiguration(target.functionName);
    expect(state.version).toBe('$LATEST');
    expect(attempts('GetFunctionConfiguration')).toBe(4);
    // It waited between attempts (jittered, on the virtual clock), not in a tight loop.
    expect(world.runtime.now()).toBeGreaterThan(started);
  });

  it('does not retry a permanent error', async () => {
    fault('GetFunctionConfiguration', 'AccessDeniedException', 403, 1);
    const lambda = await world.runtime.lambdaFor(target, 'orders-api-test');
    await expect(lambda.getFunctionConfiguration(target.functionName)).rejects.toMatchObject({
      code: 'LAMBDA_ACCESS_DENIED',
    });
    expect(attempts('GetFunctionConfiguration')).toBe(1);
  });

  it('gives up after the policy’s attempts and throws the last transient error (no SDK retries under it)', async () => {
    fault('UpdateAlias', 'ServiceException', 500, 100);
    const lambda = await world.runtime.lambdaFor(target, 'orders-api-test');
    await expect(
      lambda.updateAlias({ functionName: target.functionName, alias: 'live', version: '1' }),
    ).rejects.toMatchObject({ code: 'LAMBDA_UNAVAILABLE' });
    expect(attempts('UpdateAlias')).toBe(LAMBDA_RETRY_POLICY.maxAttempts);
  });

  it('calls a hook’s Invoke once: it may have run before its error came back', async () => {
    fault('Invoke', 'ServiceException', 500, 1);
    const lambda = await world.runtime.lambdaFor(target, 'orders-api-test');
    await expect(lambda.invoke({ functionName: target.functionName, payload: {} })).rejects.toMatchObject({
      code: 'LAMBDA_UNAVAILABLE',
    });
    expect(attempts('Invoke')).toBe(1);
  });
});

describe('the engine', () => {
  it('calls ports plainly: only the decorator retries', () => {
    const dir = new URL('../../../src/', import.meta.url);
    const callers = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !['engine/retry.ts', 'engine/retrying-lambda.ts'].includes(f))
      .filter((f) => /\bretryTransient\b/.test(readFileSync(new URL(f, dir), 'utf8')));
    expect(callers).toEqual([]);
  });
});
