import { describe, expect, it } from 'vitest';
import type { LambdaSettings } from '../src/contracts.js';
import {
  ACCOUNT,
  type CallResult,
  call,
  createFunction,
  createHarness,
  fnPath,
  getConfig,
  type Harness,
  handlerZip,
  publish,
  updateCode,
} from './lambda-harness.js';

/** `app` with versions 1 and 2 (different code); `configure` changes $LATEST before version 2. */
async function twoVersions(h: Harness, configure?: Record<string, unknown>): Promise<void> {
  await createFunction(h, 'app', await handlerZip('A'));
  await publish(h, 'app');
  await updateCode(h, 'app', await handlerZip('B'));
  h.clock.advance(h.settings.updateDelayMs);
  if (configure) {
    const updated = await call(h, { method: 'PUT', path: fnPath('app', '/configuration'), body: configure });
    expect(updated.status).toBe(200);
    h.clock.advance(h.settings.updateDelayMs);
  }
  expect((await publish(h, 'app')).json.Version).toBe('2');
}

const createWeightedAlias = (h: Harness, weight = 0.1): Promise<CallResult> =>
  call(h, {
    method: 'POST',
    path: fnPath('app', '/aliases'),
    body: { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': weight } } },
  });

async function invokeAlias(h: Harness, times: number): Promise<string[]> {
  const served: string[] = [];
  for (let i = 0; i < times; i += 1) {
    const result = await call(h, { method: 'POST', path: fnPath('app', '/invocations'), query: { Qualifier: 'live' } });
    served.push(result.headers['x-amz-executed-version'] ?? '');
  }
  return served;
}

describe('sandbox Lambda weighted alias routing', () => {
  // https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html: both versions
  // must have the same execution role and the same dead-letter queue configuration (or none).
  it('refuses routing between versions with different execution roles', async () => {
    const h = createHarness();
    await twoVersions(h, { Role: `arn:aws:iam::${ACCOUNT}:role/another-role` });
    const refused = await createWeightedAlias(h);
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({
      Type: 'User',
      message: 'Specified versions must be associated with the same execution role',
    });
    expect(refused.headers['x-amzn-errortype']).toBe('InvalidParameterValueException');
  });

  it('refuses routing between versions with different dead-letter config, and keeps it per version', async () => {
    const h = createHarness();
    const queue = `arn:aws:sqs:eu-west-1:${ACCOUNT}:app-dlq`;
    await twoVersions(h, { DeadLetterConfig: { TargetArn: queue } });
    expect((await getConfig(h, 'app', '2')).json.DeadLetterConfig).toEqual({ TargetArn: queue });
    expect((await getConfig(h, 'app', '1')).json.DeadLetterConfig).toBeUndefined();
    const refused = await createWeightedAlias(h);
    expect(refused.status).toBe(400);
    expect(refused.headers['x-amzn-errortype']).toBe('InvalidParameterValueException');
    expect(refused.json.message).toMatch(/same dead-letter queue configuration/);
    // Without routing the alias may point at either version.
    const plain = await call(h, {
      method: 'POST',
      path: fnPath('app', '/aliases'),
      body: { Name: 'live', FunctionVersion: '2' },
    });
    expect(plain.status).toBe(201);
  });

  it("splits deterministically with weightedRouting 'even': round(n × weight) calls reach the new version", async () => {
    const h = createHarness({ weightedRouting: 'even' } satisfies Partial<LambdaSettings>);
    await twoVersions(h);
    expect((await createWeightedAlias(h, 0.1)).status).toBe(201);
    const served = await invokeAlias(h, 20);
    expect(served.filter((v) => v === '2')).toHaveLength(2);
    expect(served.indexOf('2')).toBe(4); // the 5th call: round(5 × 0.1) = 1
    // A new routing configuration starts counting afresh.
    const update = await call(h, {
      method: 'PUT',
      path: fnPath('app', '/aliases/live'),
      body: { RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } },
    });
    expect(update.status).toBe(200);
    expect(await invokeAlias(h, 4)).toEqual(['2', '1', '2', '1']);
  });

  it('repeats the same random split for the same routingSeed, and splits by probability by default', async () => {
    const run = async (settings: Partial<LambdaSettings>) => {
      const h = createHarness(settings);
      await twoVersions(h);
      await createWeightedAlias(h, 0.3);
      return invokeAlias(h, 40);
    };
    const first = await run({ routingSeed: 7 });
    expect(await run({ routingSeed: 7 })).toEqual(first);
    const share = first.filter((v) => v === '2').length;
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(40);
    expect(await run({ routingSeed: 8 })).not.toEqual(first);
  });
});
