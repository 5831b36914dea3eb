import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import { buildSessionName } from '../../../src/core/session-name.js';
import { createRuntime } from '../../../src/runtime/create-runtime.js';

const config = parseConfig({
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  externalId: 'ferry-ext',
  stages: [{ name: 'dev' }],
  apps: {
    'orders-api': {
      targets: {
        dev: [
          { account: '222222222222', function: 'orders-api' },
          { account: '222222222222', function: 'orders-worker' },
        ],
      },
    },
  },
});
const [api, worker] = config.apps['orders-api']?.targets.dev ?? [];
if (!api || !worker) throw new Error('config');

const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);
const eventBridge = mockClient(EventBridgeClient);
const cloudWatch = mockClient(CloudWatchClient);

beforeEach(() => {
  sts.reset();
  lambda.reset();
  eventBridge.reset();
  cloudWatch.reset();
  // Each session gets credentials that name it, so a test can tell whose credentials a client signs with.
  sts.on(AssumeRoleCommand).callsFake((input: { RoleSessionName?: string }) => ({
    Credentials: {
      AccessKeyId: `ASIA-${input.RoleSessionName}`,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  }));
  lambda.on(GetFunctionConfigurationCommand).resolves({
    FunctionName: 'orders-api',
    CodeSha256: 'x',
    RevisionId: 'r',
    Version: '$LATEST',
  });
});

afterAll(() => {
  sts.restore();
  lambda.restore();
  eventBridge.restore();
  cloudWatch.restore();
});

/** The access key the Lambda client behind a port signs with (read from the client the mock saw). */
async function signingKeyOf(call: number): Promise<string> {
  const client = lambda.commandCalls(GetFunctionConfigurationCommand)[call]?.thisValue as LambdaClient | undefined;
  if (!client) throw new Error(`no GetFunctionConfiguration call ${call}`);
  return (await client.config.credentials()).accessKeyId;
}

describe('runtime Lambda ports', () => {
  it('signs each build with its own session, and keeps one port per role and Region', async () => {
    const runtime = createRuntime(config, { env: {} });
    const first = await runtime.lambdaFor(api, buildSessionName('orders-api', '1'));
    expect(await runtime.lambdaFor(worker, buildSessionName('orders-api', '1'))).toBe(first);
    await first.getFunctionConfiguration('orders-api');

    const second = await runtime.lambdaFor(api, buildSessionName('orders-api', '2'));
    expect(second).not.toBe(first);
    expect(await runtime.lambdaFor(worker, buildSessionName('orders-api', '2'))).toBe(second);
    await second.getFunctionConfiguration('orders-api');

    expect(await signingKeyOf(0)).toBe('ASIA-ferry-orders-api-1');
    expect(await signingKeyOf(1)).toBe('ASIA-ferry-orders-api-2');
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleSessionName)).toEqual([
      'ferry-orders-api-1',
      'ferry-orders-api-2',
    ]);
  });
});

describe('runtime clients built on first use', () => {
  it('publishes notifications through an EventBridge client built at the first publish, then reused', async () => {
    eventBridge.on(PutEventsCommand).resolves({ Entries: [{ EventId: 'e' }], FailedEntryCount: 0 });
    const runtime = createRuntime(config, { env: {} });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
    await runtime.events.publish([{ detailType: 'ferry deployment started', detail: { n: 1 } }]);
    await runtime.events.publish([{ detailType: 'ferry deployment succeeded', detail: { n: 2 } }]);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.[0]?.DetailType)).toEqual([
      'ferry deployment started',
      'ferry deployment succeeded',
    ]);
    const [first, second] = calls.map((c) => c.thisValue as EventBridgeClient);
    expect(second).toBe(first);
    expect(await first?.config.region()).toBe('eu-west-1');
  });

  it("reads CloudWatch with the target's session through a client built at the first read", async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const runtime = createRuntime(config, { env: {} });
    const port = await runtime.cloudwatchFor(api, buildSessionName('orders-api', '3'));
    expect(await runtime.cloudwatchFor(api, buildSessionName('orders-api', '3'))).toBe(port);
    await port.readAlarms(['orders-api-errors']);
    const client = cloudWatch.commandCalls(DescribeAlarmsCommand)[0]?.thisValue as CloudWatchClient | undefined;
    expect((await client?.config.credentials())?.accessKeyId).toBe('ASIA-ferry-orders-api-3');
  });
});
