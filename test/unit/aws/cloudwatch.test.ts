import {
  CloudWatchClient,
  CloudWatchServiceException,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createCloudWatchPort } from '../../../src/aws/cloudwatch.js';
import { AccessError } from '../../../src/core/errors.js';

const cw = mockClient(CloudWatchClient);
// Test files share a worker's modules (vitest.config.ts): give the client's real send back.
afterAll(() => cw.restore());
const port = createCloudWatchPort(new CloudWatchClient({ region: 'eu-west-1' }), {
  accountId: '444444444444',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::444444444444:role/ferry-deploy',
});

beforeEach(() => cw.reset());

describe('CloudWatch adapter', () => {
  it('reads the named alarms, metric and composite, and reports a missing one as MISSING', async () => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'orders-5xx', StateValue: 'ALARM' }],
      CompositeAlarms: [{ AlarmName: 'orders-health', StateValue: 'OK' }],
    });
    const states = await port.readAlarms(['orders-5xx', 'orders-health', 'typo']);
    expect(states).toEqual([
      { name: 'orders-5xx', state: 'ALARM' },
      { name: 'orders-health', state: 'OK' },
      { name: 'typo', state: 'MISSING' },
    ]);
    expect(cw).toHaveReceivedCommandWith(DescribeAlarmsCommand, {
      AlarmNames: ['orders-5xx', 'orders-health', 'typo'],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
  });

  it('sums Invocations and Errors per executed version through the alias, over whole minutes', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'inv0', Values: [10, 5] },
          { Id: 'err0', Values: [] },
        ],
        NextToken: 'n',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'inv1', Values: [4] },
          { Id: 'err1', Values: [3, 1] },
        ],
      });
    const samples = await port.readVersionSamples({
      functionName: 'orders',
      alias: 'live',
      versions: ['7', '8'],
      start: new Date('2026-11-30T10:00:30Z'),
      end: new Date('2026-11-30T10:03:10Z'),
    });
    expect(samples).toEqual({ '7': { invocations: 15, errors: 0 }, '8': { invocations: 4, errors: 4 } });
    const first = cw.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
    expect(first?.StartTime).toEqual(new Date('2026-11-30T10:00:00Z'));
    expect(first?.EndTime).toEqual(new Date('2026-11-30T10:04:00Z'));
    expect(first?.MetricDataQueries?.[2]).toEqual({
      Id: 'inv1',
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: 'Invocations',
          Dimensions: [
            { Name: 'FunctionName', Value: 'orders' },
            { Name: 'Resource', Value: 'orders:live' },
            { Name: 'ExecutedVersion', Value: '8' },
          ],
        },
        Period: 60,
        Stat: 'Sum',
      },
    });
  });

  it('names the role and the permission when access is denied', async () => {
    cw.on(DescribeAlarmsCommand).rejects(
      new CloudWatchServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'no',
      }),
    );
    const error = await port.readAlarms(['x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessError);
    expect((error as AccessError).message).toMatch(
      /ferry-deploy in account 444444444444 may not call cloudwatch:DescribeAlarms/,
    );
  });
});
