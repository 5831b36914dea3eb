/**
 * The CloudWatch adapter, acting as the deploy role in a target account: the alarm states a shift
 * is gated on (DescribeAlarms) and Lambda's own Invocations and Errors per ExecutedVersion for the
 * built-in analysis (GetMetricData). The only place that sends CloudWatch commands.
 */
import {
  type CloudWatchClient,
  CloudWatchServiceException,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { AccessError, ThrottledError } from '../core/errors.js';
import type { VersionSample } from '../core/traffic-analysis.js';
import type { AlarmReading } from '../core/traffic-shift.js';

export interface VersionMetricsQuery {
  readonly functionName: string;
  readonly alias: string;
  readonly versions: readonly string[];
  /** Inclusive; rounded down to the minute. */
  readonly start: Date;
  /** Exclusive; rounded up to the minute. */
  readonly end: Date;
}

export interface CloudWatchPort {
  /** The state of each named alarm, in the order asked; `MISSING` when no such alarm exists. */
  readAlarms(names: readonly string[]): Promise<AlarmReading[]>;
  /** Invocations and Errors (Sum) per executed version through the alias, over the window. */
  readVersionSamples(query: VersionMetricsQuery): Promise<Record<string, VersionSample>>;
}

export interface CloudWatchTargetContext {
  readonly accountId: string;
  readonly region: string;
  readonly roleArn?: string;
}

const MINUTE = 60_000;
/** DescribeAlarms takes at most 100 names per call. */
const NAMES_PER_CALL = 100;

export function createCloudWatchPort(client: CloudWatchClient, where: CloudWatchTargetContext): CloudWatchPort {
  return {
    async readAlarms(names) {
      const states = new Map<string, string>();
      try {
        for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
          let token: string | undefined;
          do {
            const page = await client.send(
              new DescribeAlarmsCommand({
                AlarmNames: names.slice(i, i + NAMES_PER_CALL),
                AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
                ...(token ? { NextToken: token } : {}),
              }),
            );
            for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
              if (a.AlarmName) states.set(a.AlarmName, a.StateValue ?? 'INSUFFICIENT_DATA');
            }
            token = page.NextToken;
          } while (token);
        }
      } catch (error) {
        throw translate(error, 'DescribeAlarms', where);
      }
      return names.map((name) => ({ name, state: states.get(name) ?? 'MISSING' }));
    },

    async readVersionSamples(query) {
      const start = new Date(Math.floor(query.start.getTime() / MINUTE) * MINUTE);
      const end = new Date(Math.max(start.getTime() + MINUTE, Math.ceil(query.end.getTime() / MINUTE) * MINUTE));
      const queries: MetricDataQuery[] = query.versions.flatMap((version, i) =>
        (['Invocations', 'Errors'] as const).map((metric) => ({
          Id: `${metric === 'Invocations' ? 'inv' : 'err'}${i}`,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: metric,
              Dimensions: [
                { Name: 'FunctionName', Value: query.functionName },
                { Name: 'Resource', Value: `${query.functionName}:${query.alias}` },
                { Name: 'ExecutedVersion', Value: version },
              ],
            },
            Period: 60,
            Stat: 'Sum',
          },
        })),
      );
      const sums = new Map<string, number>();
      try {
        let token: string | undefined;
        do {
          const page = await client.send(
            new GetMetricDataCommand({
              MetricDataQueries: queries,
              StartTime: start,
              EndTime: end,
              ...(token ? { NextToken: token } : {}),
            }),
          );
          for (const r of page.MetricDataResults ?? []) {
            if (!r.Id) continue;
            // No datapoints means no invocations: Lambda sends nothing for idle minutes.
            sums.set(r.Id, (sums.get(r.Id) ?? 0) + (r.Values ?? []).reduce((a, b) => a + b, 0));
          }
          token = page.NextToken;
        } while (token);
      } catch (error) {
        throw translate(error, 'GetMetricData', where);
      }
      const samples: Record<string, VersionSample> = {};
      query.versions.forEach((version, i) => {
        samples[version] = { invocations: sums.get(`inv${i}`) ?? 0, errors: sums.get(`err${i}`) ?? 0 };
      });
      return samples;
    },
  };
}

function translate(error: unknown, operation: string, where: CloudWatchTargetContext): unknown {
  if (!(error instanceof CloudWatchServiceException)) return error;
  const options = { cause: error, context: { account: where.accountId, region: where.region, operation } };
  if (
    error.name === 'AccessDenied' ||
    error.name === 'AccessDeniedException' ||
    error.$metadata.httpStatusCode === 403
  ) {
    return new AccessError(
      'CLOUDWATCH_ACCESS_DENIED',
      `The deploy role ${where.roleArn ?? ''} in account ${where.accountId} may not call cloudwatch:${operation}: ${error.message}. Grant it in the target-account role (templates/target-account-role.yml, parameter AlarmNames for DescribeAlarms).`,
      options,
    );
  }
  if (error.name === 'Throttling' || error.name === 'ThrottlingException' || error.$metadata.httpStatusCode === 429) {
    return new ThrottledError(
      'CLOUDWATCH_THROTTLED',
      `CloudWatch throttled ${operation} in account ${where.accountId}; the next tick reads again.`,
      options,
    );
  }
  return error;
}
