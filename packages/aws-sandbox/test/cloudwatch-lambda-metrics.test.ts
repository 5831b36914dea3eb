import {
  CloudWatchClient,
  GetMetricDataCommand,
  InvalidParameterValueException,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateAliasCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, makeFailingFunctionZip, type Sandbox, startSandbox } from '../src/index.js';
import { allow, catchError, NO_RETRY, trustAccount } from './helpers.js';
import { makeZip } from './lambda-harness.js';

const REGION = 'eu-west-1';
const MINUTE = 60_000;

const goodZip = () => makeZip({ 'index.mjs': 'export const handler = async () => ({ ok: true });\n' });
const failingZip = () => makeFailingFunctionZip('version 2');

describe('sandbox Lambda metrics in CloudWatch', () => {
  let sandbox: Sandbox;
  let account: CreatedAccount;
  let lambda: LambdaClient;
  let cloudwatch: CloudWatchClient;

  beforeEach(async () => {
    sandbox = await startSandbox({
      defaultRegion: REGION,
      lambda: { updateDelayMs: 0, rateLimits: false, weightedRouting: 'even' },
    });
    account = sandbox.createAccount();
    lambda = new LambdaClient({ ...sandbox.clientConfig(account.credentials), ...NO_RETRY });
    cloudwatch = new CloudWatchClient({ ...sandbox.clientConfig(account.credentials), ...NO_RETRY });
  });
  afterEach(async () => {
    lambda.destroy();
    cloudwatch.destroy();
    await sandbox.stop();
  });

  /** orders: version 1 answers, version 2 throws; alias `live` sends `weight` of calls to version 2. */
  async function deployCanary(weight: number): Promise<void> {
    sandbox.lambda.seedFunction({
      accountId: account.accountId,
      region: REGION,
      functionName: 'orders',
      zip: await goodZip(),
    });
    await lambda.send(new PublishVersionCommand({ FunctionName: 'orders' }));
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'orders', ZipFile: await failingZip() }));
    await lambda.send(new PublishVersionCommand({ FunctionName: 'orders' }));
    await lambda.send(
      new CreateAliasCommand({
        FunctionName: 'orders',
        Name: 'live',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': weight } },
      }),
    );
  }

  const invoke = (qualifier?: string) =>
    lambda.send(new InvokeCommand({ FunctionName: 'orders', ...(qualifier ? { Qualifier: qualifier } : {}) }));

  const sumQuery = (
    id: string,
    metricName: string,
    dimensions: Record<string, string>,
    period = 60,
  ): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: period,
      Stat: 'Sum',
    },
  });

  const total = (values: number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);

  // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html: Invocations and
  // Errors per invocation; dimensions FunctionName, Resource and ExecutedVersion ("use the
  // ExecutedVersion dimension to compare error rates for two versions that are both targets of a
  // weighted alias"). https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
  it('counts invocations and errors per executed version of a weighted alias', async () => {
    await deployCanary(0.5);
    const start = sandbox.clock.now();
    const executed: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const result = await invoke('live');
      executed.push(result.ExecutedVersion ?? '');
      expect(result.FunctionError).toBe(result.ExecutedVersion === '2' ? 'Unhandled' : undefined);
    }
    // `even` routing: exactly half of the calls reach version 2.
    expect(executed.filter((v) => v === '2')).toHaveLength(3);
    const alias = { FunctionName: 'orders', Resource: 'orders:live' };
    const output = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(start - MINUTE),
        EndTime: new Date(sandbox.clock.now() + MINUTE),
        MetricDataQueries: [
          sumQuery('newInvocations', 'Invocations', { ...alias, ExecutedVersion: '2' }),
          sumQuery('newErrors', 'Errors', { ...alias, ExecutedVersion: '2' }),
          sumQuery('oldInvocations', 'Invocations', { ...alias, ExecutedVersion: '1' }),
          sumQuery('oldErrors', 'Errors', { ...alias, ExecutedVersion: '1' }),
          sumQuery('aliasInvocations', 'Invocations', alias),
          sumQuery('functionErrors', 'Errors', { FunctionName: 'orders' }),
        ],
      }),
    );
    const byId = Object.fromEntries((output.MetricDataResults ?? []).map((r) => [r.Id, r]));
    expect(total(byId.newInvocations?.Values)).toBe(3);
    expect(total(byId.newErrors?.Values)).toBe(3);
    expect(total(byId.oldInvocations?.Values)).toBe(3);
    expect(total(byId.oldErrors?.Values)).toBe(0);
    expect(total(byId.aliasInvocations?.Values)).toBe(6);
    expect(total(byId.functionErrors?.Values)).toBe(3);
    for (const result of output.MetricDataResults ?? []) expect(result.StatusCode).toBe('Complete');
  });

  // API_GetMetricData.html: StartTime inclusive, EndTime exclusive; datapoints stamped with the
  // invocation time (here the sandbox clock); periods without data return no datapoint.
  it('buckets datapoints by period on the sandbox clock, EndTime exclusive, empty periods absent', async () => {
    await deployCanary(0);
    sandbox.clock.advance(24 * 3_600_000);
    const t0 = Math.ceil(sandbox.clock.now() / MINUTE) * MINUTE;
    sandbox.clock.advance(t0 - sandbox.clock.now() + 5_000); // 5 s into a minute
    await invoke('live');
    await invoke('live');
    sandbox.clock.advance(2 * MINUTE); // two minutes later, one more call
    await invoke('live');
    const query = (start: number, end: number) =>
      cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: new Date(start),
          EndTime: new Date(end),
          ScanBy: 'TimestampAscending',
          MetricDataQueries: [sumQuery('calls', 'Invocations', { FunctionName: 'orders', Resource: 'orders:live' })],
        }),
      );
    const all = (await query(t0, t0 + 5 * MINUTE)).MetricDataResults?.[0];
    expect(all?.Timestamps?.map((t) => t.getTime())).toEqual([t0, t0 + 2 * MINUTE]);
    expect(all?.Values).toEqual([2, 1]);
    const descending = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(t0),
        EndTime: new Date(t0 + 5 * MINUTE),
        MetricDataQueries: [sumQuery('calls', 'Invocations', { FunctionName: 'orders', Resource: 'orders:live' })],
      }),
    );
    expect(descending.MetricDataResults?.[0]?.Values).toEqual([1, 2]);
    // EndTime is exclusive: the window ending where the third call's minute starts leaves it out.
    expect((await query(t0, t0 + 2 * MINUTE)).MetricDataResults?.[0]?.Values).toEqual([2]);
    // A window with no calls: no datapoints, still Complete.
    const quiet = (await query(t0 + 3 * MINUTE, t0 + 5 * MINUTE)).MetricDataResults?.[0];
    expect(quiet).toMatchObject({ Id: 'calls', StatusCode: 'Complete', Timestamps: [], Values: [] });
    // A five-minute period sums all three.
    const wide = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(t0),
        EndTime: new Date(t0 + 5 * MINUTE),
        MetricDataQueries: [sumQuery('calls', 'Invocations', { FunctionName: 'orders' }, 300)],
      }),
    );
    expect(wide.MetricDataResults?.[0]?.Values).toEqual([3]);
  });

  // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: Qualifier names a version; the
  // metrics' Resource is `function:version` (no ExecutedVersion: that dimension is for aliases).
  it('records a synchronous invoke by version qualifier under its Resource', async () => {
    await deployCanary(0);
    const start = sandbox.clock.now();
    const result = await invoke('2');
    expect(result.StatusCode).toBe(200);
    expect(result.ExecutedVersion).toBe('2');
    expect(result.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(result.Payload ?? new Uint8Array()).toString())).toMatchObject({
      errorMessage: 'version 2 fails',
    });
    const points = sandbox.cloudwatch.datapoints({
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: 'orders', Resource: 'orders:2' },
    });
    expect(points.map((p) => p.value)).toEqual([1]);
    expect(points[0]?.at).toBeGreaterThanOrEqual(start);
    expect(
      sandbox.cloudwatch.datapoints({ metricName: 'Invocations' }).filter((p) => 'ExecutedVersion' in p.dimensions),
    ).toEqual([]);
    expect(
      sandbox.cloudwatch.datapoints({ metricName: 'Duration', dimensions: { FunctionName: 'orders' } }),
    ).toHaveLength(1);
  });

  // API_GetMetricData.html: Period is a multiple of 60 (or 1, 5, 10, 20, 30 for high resolution);
  // Id starts with a lowercase letter; StartTime before EndTime.
  it('validates periods, ids and the time range', async () => {
    const now = sandbox.clock.now();
    const send = (queries: MetricDataQuery[], start = now - MINUTE, end = now) =>
      catchError(
        cloudwatch.send(
          new GetMetricDataCommand({ StartTime: new Date(start), EndTime: new Date(end), MetricDataQueries: queries }),
        ),
      );
    expect(await send([sumQuery('calls', 'Invocations', {}, 90)])).toBeInstanceOf(InvalidParameterValueException);
    expect((await send([sumQuery('Calls', 'Invocations', {})])).name).toBe('ValidationException');
    expect((await send([sumQuery('calls', 'Invocations', {}), sumQuery('calls', 'Errors', {})])).name).toBe(
      'ValidationException',
    );
    expect((await send([sumQuery('calls', 'Invocations', {})], now, now - MINUTE)).name).toBe('ValidationException');
  });

  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html:
  // GetMetricData has no resource type (Resource "*").
  it('requires cloudwatch:GetMetricData', async () => {
    const { roleArn } = sandbox.createRole({
      accountId: account.accountId,
      roleName: 'no-metrics',
      trustPolicy: trustAccount(account.accountId),
      policies: [allow('cloudwatch:DescribeAlarms')],
    });
    const client = new CloudWatchClient({
      ...sandbox.clientConfig(sandbox.issueRoleCredentials({ roleArn, sessionName: 'no-metrics' })),
      ...NO_RETRY,
    });
    const now = sandbox.clock.now();
    const denied = await catchError(
      client.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - MINUTE),
          EndTime: new Date(now),
          MetricDataQueries: [sumQuery('calls', 'Invocations', {})],
        }),
      ),
    );
    expect(denied.name).toBe('AccessDenied');
    expect(denied.message).toContain('cloudwatch:GetMetricData on resource: *');
    client.destroy();
  });
});
