/**
 * CloudWatch metric alarms per account and Region. The sandbox does not evaluate alarms against
 * metrics: an alarm keeps the state it was created in, set to (SetAlarmState) or seeded with,
 * so a test decides exactly when a gate opens or closes. (On AWS a metric alarm set with
 * SetAlarmState returns to its evaluated state at the next evaluation, often within seconds.)
 */

export const AlarmState = { OK: 'OK', ALARM: 'ALARM', INSUFFICIENT_DATA: 'INSUFFICIENT_DATA' } as const;
export type AlarmState = (typeof AlarmState)[keyof typeof AlarmState];
export const ALARM_STATES: readonly AlarmState[] = Object.values(AlarmState);

export const COMPARISON_OPERATORS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
  'LessThanLowerOrGreaterThanUpperThreshold',
  'LessThanLowerThreshold',
  'GreaterThanUpperThreshold',
] as const;

export interface Dimension {
  readonly Name: string;
  readonly Value: string;
}

/** What PutMetricAlarm configures (an update replaces all of it and keeps the state). */
export interface AlarmConfiguration {
  readonly alarmDescription?: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
  readonly statistic: string;
  readonly period: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm?: number;
  readonly threshold: number;
  readonly comparisonOperator: string;
  readonly treatMissingData: string;
  readonly actionsEnabled: boolean;
  readonly alarmActions: readonly string[];
  readonly okActions: readonly string[];
  readonly insufficientDataActions: readonly string[];
}

export interface MetricAlarm extends AlarmConfiguration {
  readonly accountId: string;
  readonly region: string;
  readonly alarmName: string;
  readonly alarmArn: string;
  readonly configurationUpdatedAt: number;
  readonly stateValue: AlarmState;
  readonly stateReason: string;
  readonly stateReasonData?: string;
  readonly stateUpdatedAt: number;
  /** When the state last changed value (StateTransitionedTimestamp). */
  readonly stateTransitionedAt: number;
}

export function alarmArn(region: string, accountId: string, alarmName: string): string {
  return `arn:aws:cloudwatch:${region}:${accountId}:alarm:${alarmName}`;
}

/** What the sandbox fills in when a seeding call leaves a field out: Lambda's Errors, Sum over a minute, ≥ 1. */
export const DEFAULT_ALARM_CONFIGURATION: AlarmConfiguration = {
  namespace: 'AWS/Lambda',
  metricName: 'Errors',
  dimensions: [],
  statistic: 'Sum',
  period: 60,
  evaluationPeriods: 1,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'missing',
  actionsEnabled: true,
  alarmActions: [],
  okActions: [],
  insufficientDataActions: [],
};

export class AlarmStore {
  private readonly alarms = new Map<string, MetricAlarm>();

  /**
   * PutMetricAlarm: a new alarm starts in INSUFFICIENT_DATA ("Unchecked: Initial alarm
   * creation"); an existing one keeps its state and gets the new configuration.
   */
  put(
    scope: { accountId: string; region: string; alarmName: string },
    config: AlarmConfiguration,
    now: number,
  ): MetricAlarm {
    const arn = alarmArn(scope.region, scope.accountId, scope.alarmName);
    const previous = this.alarms.get(arn);
    const alarm: MetricAlarm = {
      ...config,
      ...scope,
      alarmArn: arn,
      configurationUpdatedAt: now,
      stateValue: previous?.stateValue ?? AlarmState.INSUFFICIENT_DATA,
      stateReason: previous?.stateReason ?? 'Unchecked: Initial alarm creation',
      ...(previous?.stateReasonData === undefined ? {} : { stateReasonData: previous.stateReasonData }),
      stateUpdatedAt: previous?.stateUpdatedAt ?? now,
      stateTransitionedAt: previous?.stateTransitionedAt ?? now,
    };
    this.alarms.set(arn, alarm);
    return alarm;
  }

  find(accountId: string, region: string, alarmName: string): MetricAlarm | undefined {
    return this.alarms.get(alarmArn(region, accountId, alarmName));
  }

  /** Sets the state; the transition time moves only when the value changes. Undefined for an unknown alarm. */
  setState(
    accountId: string,
    region: string,
    alarmName: string,
    state: { value: AlarmState; reason: string; reasonData?: string },
    now: number,
  ): MetricAlarm | undefined {
    const alarm = this.find(accountId, region, alarmName);
    if (!alarm) return undefined;
    const { stateReasonData: _previousData, ...rest } = alarm;
    const next: MetricAlarm = {
      ...rest,
      stateValue: state.value,
      stateReason: state.reason,
      ...(state.reasonData === undefined ? {} : { stateReasonData: state.reasonData }),
      stateUpdatedAt: now,
      stateTransitionedAt: alarm.stateValue === state.value ? alarm.stateTransitionedAt : now,
    };
    this.alarms.set(alarm.alarmArn, next);
    return next;
  }

  /** Alarms of one account and Region, sorted by name as DescribeAlarms lists them. */
  list(accountId: string, region: string): MetricAlarm[] {
    return [...this.alarms.values()]
      .filter((alarm) => alarm.accountId === accountId && alarm.region === region)
      .sort((a, b) => (a.alarmName < b.alarmName ? -1 : a.alarmName > b.alarmName ? 1 : 0));
  }

  delete(accountId: string, region: string, alarmName: string): boolean {
    return this.alarms.delete(alarmArn(region, accountId, alarmName));
  }
}
