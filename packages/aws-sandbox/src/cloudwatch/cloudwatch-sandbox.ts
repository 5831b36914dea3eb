/**
 * The in-process face of the sandbox's CloudWatch (`sandbox.cloudwatch`): seed alarms, set their
 * state, add datapoints and read what was recorded, without going through HTTP or IAM.
 */
import type { Clock } from '../contracts.js';
import {
  ALARM_STATES,
  type AlarmState,
  type AlarmStore,
  DEFAULT_ALARM_CONFIGURATION,
  type Dimension,
  type MetricAlarm,
} from './alarm-store.js';
import type { Datapoint, DatapointFilter, MetricStore } from './metric-store.js';

export interface SeedMetricAlarmInput {
  accountId: string;
  /** Default: the sandbox's default Region. */
  region?: string;
  alarmName: string;
  alarmDescription?: string;
  /** Default AWS/Lambda. */
  namespace?: string;
  /** Default Errors. */
  metricName?: string;
  dimensions?: Dimension[] | Record<string, string>;
  /** Default Sum. */
  statistic?: string;
  /** Seconds, default 60. */
  period?: number;
  /** Default 1. */
  evaluationPeriods?: number;
  /** Default 1. */
  threshold?: number;
  /** Default GreaterThanOrEqualToThreshold. */
  comparisonOperator?: string;
  /** Default INSUFFICIENT_DATA, as a newly created alarm. */
  stateValue?: AlarmState;
  stateReason?: string;
}

export interface SeedAlarmStateInput {
  accountId: string;
  region?: string;
  alarmName: string;
  stateValue: AlarmState;
  /** Default "Set by the sandbox". */
  stateReason?: string;
  stateReasonData?: string;
}

export interface SeedDatapointInput {
  accountId: string;
  region?: string;
  namespace: string;
  metricName: string;
  dimensions?: Record<string, string>;
  value: number;
  unit?: string;
  /** Epoch ms; default: now on the sandbox clock. */
  at?: number;
}

export interface AlarmSnapshot {
  readonly alarmName: string;
  readonly alarmArn: string;
  readonly stateValue: AlarmState;
  readonly stateReason: string;
  /** Epoch ms of the sandbox clock. */
  readonly stateUpdatedAt: number;
}

export interface CloudWatchSandbox {
  /** Creates or replaces a metric alarm (an existing alarm keeps its state unless `stateValue` is given). */
  putMetricAlarm(input: SeedMetricAlarmInput): { alarmArn: string };
  /** Sets an alarm's state; it stays there until set again (the sandbox never re-evaluates alarms). */
  setAlarmState(input: SeedAlarmStateInput): void;
  describeAlarm(accountId: string, region: string, alarmName: string): AlarmSnapshot | undefined;
  /** Records a datapoint in any namespace, AWS/ ones included (PutMetricData refuses those). */
  putMetricData(input: SeedDatapointInput): void;
  /** Datapoints recorded so far (Lambda's own included), oldest first. */
  datapoints(filter?: DatapointFilter): Datapoint[];
}

export function createCloudWatchSandbox(deps: {
  alarms: AlarmStore;
  metrics: MetricStore;
  clock: Clock;
  defaultRegion: string;
}): CloudWatchSandbox {
  const { alarms, metrics, clock, defaultRegion } = deps;
  const checkState = (state: string): void => {
    if (!ALARM_STATES.includes(state as AlarmState))
      throw new Error(`alarm state must be one of ${ALARM_STATES.join(', ')}`);
  };
  return {
    putMetricAlarm(input) {
      const region = input.region ?? defaultRegion;
      if (!/^.{1,255}$/s.test(input.alarmName)) throw new Error('alarmName must be 1 to 255 characters');
      const dimensions = Array.isArray(input.dimensions)
        ? input.dimensions
        : Object.entries(input.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value }));
      const d = DEFAULT_ALARM_CONFIGURATION;
      const alarm = alarms.put(
        { accountId: input.accountId, region, alarmName: input.alarmName },
        {
          ...d,
          ...(input.alarmDescription === undefined ? {} : { alarmDescription: input.alarmDescription }),
          namespace: input.namespace ?? d.namespace,
          metricName: input.metricName ?? d.metricName,
          dimensions,
          statistic: input.statistic ?? d.statistic,
          period: input.period ?? d.period,
          evaluationPeriods: input.evaluationPeriods ?? d.evaluationPeriods,
          threshold: input.threshold ?? d.threshold,
          comparisonOperator: input.comparisonOperator ?? d.comparisonOperator,
        },
        clock.now(),
      );
      if (input.stateValue !== undefined) {
        checkState(input.stateValue);
        alarms.setState(
          input.accountId,
          region,
          input.alarmName,
          { value: input.stateValue, reason: input.stateReason ?? 'Set by the sandbox' },
          clock.now(),
        );
      }
      return { alarmArn: alarm.alarmArn };
    },
    setAlarmState(input) {
      checkState(input.stateValue);
      const region = input.region ?? defaultRegion;
      const updated = alarms.setState(
        input.accountId,
        region,
        input.alarmName,
        {
          value: input.stateValue,
          reason: input.stateReason ?? 'Set by the sandbox',
          ...(input.stateReasonData === undefined ? {} : { reasonData: input.stateReasonData }),
        },
        clock.now(),
      );
      if (!updated) throw new Error(`no alarm ${input.alarmName} in ${input.accountId}/${region}`);
    },
    describeAlarm(accountId, region, alarmName) {
      const alarm = alarms.find(accountId, region, alarmName);
      return alarm ? snapshot(alarm) : undefined;
    },
    putMetricData(input) {
      metrics.record({
        accountId: input.accountId,
        region: input.region ?? defaultRegion,
        namespace: input.namespace,
        metricName: input.metricName,
        dimensions: { ...input.dimensions },
        value: input.value,
        ...(input.unit === undefined ? {} : { unit: input.unit }),
        at: input.at ?? clock.now(),
      });
    },
    datapoints: (filter) => metrics.list(filter),
  };
}

function snapshot(alarm: MetricAlarm): AlarmSnapshot {
  return {
    alarmName: alarm.alarmName,
    alarmArn: alarm.alarmArn,
    stateValue: alarm.stateValue,
    stateReason: alarm.stateReason,
    stateUpdatedAt: alarm.stateUpdatedAt,
  };
}
