/**
 * CloudWatch as the current SDK v3 client speaks it: AWS JSON 1.0 (`X-Amz-Target:
 * GraniteServiceVersion20100801.<Operation>`) in query-compatible mode, so errors carry their
 * Query code in `x-amzn-query-error` (`ResourceNotFound;Sender`), which the SDK maps to its
 * exception classes. Operations and constraints follow the CloudWatch API Reference
 * (DescribeAlarms, SetAlarmState, PutMetricAlarm, GetMetricData, PutMetricData).
 */
import { type Authorizer, AwsError, type Clock, type SandboxRequest, type SandboxService } from '../contracts.js';
import { describeDenial } from '../iam.js';
import { answerJson, Constraints, type JsonObject, parseJsonObject, readTargetOperation } from '../json-rpc.js';
import {
  ALARM_STATES,
  type AlarmState,
  type AlarmStore,
  alarmArn,
  COMPARISON_OPERATORS,
  type Dimension,
  type MetricAlarm,
} from './alarm-store.js';
import { aggregateSeries, isSupportedStatistic, type MetricStore } from './metric-store.js';

const TARGET_PREFIX = 'GraniteServiceVersion20100801';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
/** GetMetricData: at most this many datapoints per call (API Reference, MaxDatapoints default). */
const MAX_DATAPOINTS = 100_800;
const ID_PATTERN = /^[a-z][a-zA-Z0-9_]*$/;

/** Query error codes to the Smithy shape names the SDK registers (for `__type`). */
const SHAPE_NAMES: Record<string, string> = {
  ResourceNotFound: 'ResourceNotFound',
  InvalidParameterValue: 'InvalidParameterValueException',
  InvalidParameterCombination: 'InvalidParameterCombinationException',
  MissingParameter: 'MissingRequiredParameterException',
  ValidationError: 'ValidationException',
  InvalidFormat: 'InvalidFormatFault',
  InvalidNextToken: 'InvalidNextToken',
  InternalServiceError: 'InternalServiceFault',
};

export interface CloudWatchDeps {
  readonly alarms: AlarmStore;
  readonly metrics: MetricStore;
  readonly authorizer: Authorizer;
  readonly clock: Clock;
}

type Handler = (deps: CloudWatchDeps, req: SandboxRequest, input: JsonObject) => unknown;

const OPERATIONS: Record<string, Handler> = {
  DescribeAlarms: describeAlarms,
  SetAlarmState: setAlarmState,
  PutMetricAlarm: putMetricAlarm,
  GetMetricData: getMetricData,
  PutMetricData: putMetricData,
};

export function createCloudWatchService(deps: CloudWatchDeps): SandboxService {
  return {
    signingName: 'monitoring',
    operation: (req) => readTargetOperation(req, TARGET_PREFIX),
    async handle(req, operation) {
      const run = OPERATIONS[operation];
      if (!run)
        throw new AwsError('UnknownOperationException', 400, `Operation ${operation} is not supported by the sandbox`);
      return answerJson(req, 200, run(deps, req, parseJsonObject(req)) ?? {}, CONTENT_TYPE);
    },
    renderError(error, req) {
      const fault = error.status >= 500 ? 'Receiver' : 'Sender';
      return answerJson(
        req,
        error.status,
        { __type: `com.amazonaws.cloudwatch#${SHAPE_NAMES[error.code] ?? error.code}`, message: error.message },
        CONTENT_TYPE,
        { 'x-amzn-query-error': `${error.code};${fault}` },
      );
    },
  };
}

function authorize(deps: CloudWatchDeps, req: SandboxRequest, action: string, resource: string): void {
  const fullAction = `cloudwatch:${action}`;
  if (!deps.authorizer.isAllowed(req.caller, fullAction, resource)) {
    throw new AwsError(
      'AccessDenied',
      403,
      `${describeDenial(req.caller, fullAction, resource)} because no identity-based policy allows the ${fullAction} action`,
    );
  }
}

function toSeconds(ms: number): number {
  return ms / 1000;
}

/** Timestamps arrive as epoch seconds (the JSON protocol's default) or, from other clients, ISO text. */
function readTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  return undefined;
}

function readStringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function readDimensions(value: unknown): Dimension[] {
  if (!Array.isArray(value)) return [];
  return value.map((d) => ({ Name: String((d as JsonObject).Name), Value: String((d as JsonObject).Value) }));
}

function checkDimensions(c: Constraints, path: string, value: unknown): void {
  c.count(path, value, 0, 30);
  if (!Array.isArray(value)) return;
  value.forEach((d, i) => {
    const dim = (d ?? {}) as JsonObject;
    if (c.required(`${path}.${i + 1}.member.name`, dim.Name))
      c.length(`${path}.${i + 1}.member.name`, dim.Name, 1, 255);
    if (c.required(`${path}.${i + 1}.member.value`, dim.Value))
      c.length(`${path}.${i + 1}.member.value`, dim.Value, 1, 1024);
  });
}

/** 1, 5, 10, 20, 30 (high resolution) or a multiple of 60 seconds. */
function isValidPeriod(period: unknown): period is number {
  return (
    typeof period === 'number' &&
    Number.isInteger(period) &&
    period > 0 &&
    ([1, 5, 10, 20, 30].includes(period) || period % 60 === 0)
  );
}

// ---- alarms ----

function describeAlarms(deps: CloudWatchDeps, req: SandboxRequest, input: JsonObject): unknown {
  const c = new Constraints('ValidationError');
  c.count('alarmNames', input.AlarmNames, 0, 100);
  c.length('alarmNamePrefix', input.AlarmNamePrefix, 1, 255);
  c.oneOf('stateValue', input.StateValue, ALARM_STATES);
  c.range('maxRecords', input.MaxRecords, 1, 100);
  for (const type of readStringList(input.AlarmTypes)) c.oneOf('alarmTypes', type, ['CompositeAlarm', 'MetricAlarm']);
  c.throwIfAny();
  const names = readStringList(input.AlarmNames);
  if (names.length > 0 && input.AlarmNamePrefix !== undefined) {
    throw new AwsError('InvalidParameterCombination', 400, 'AlarmNames and AlarmNamePrefix cannot be used together.');
  }
  const { accountId } = req.caller;
  // Scoped to alarm ARNs: each named alarm, or every alarm of the account when none is named.
  const resources =
    names.length > 0 ? names.map((n) => alarmArn(req.region, accountId, n)) : [alarmArn(req.region, accountId, '*')];
  for (const resource of resources) authorize(deps, req, 'DescribeAlarms', resource);

  const types = readStringList(input.AlarmTypes);
  const wantsMetric = types.length === 0 || types.includes('MetricAlarm');
  const wantsComposite = types.includes('CompositeAlarm');
  const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : undefined;
  const matching = deps.alarms
    .list(accountId, req.region)
    .filter((a) => names.length === 0 || names.includes(a.alarmName))
    .filter((a) => prefix === undefined || a.alarmName.startsWith(prefix))
    .filter((a) => input.StateValue === undefined || a.stateValue === input.StateValue);
  const maxRecords = typeof input.MaxRecords === 'number' ? input.MaxRecords : 50;
  const offset = readNextToken(input.NextToken);
  const page = wantsMetric ? matching.slice(offset, offset + maxRecords) : [];
  const more = wantsMetric && offset + maxRecords < matching.length;
  return {
    MetricAlarms: page.map(renderMetricAlarm),
    // The sandbox keeps no composite alarms; they are listed (empty) only when asked for.
    ...(wantsComposite ? { CompositeAlarms: [] } : {}),
    ...(more ? { NextToken: Buffer.from(String(offset + maxRecords)).toString('base64') } : {}),
  };
}

function readNextToken(token: unknown): number {
  if (token === undefined) return 0;
  const offset = typeof token === 'string' ? Number(Buffer.from(token, 'base64').toString('utf8')) : Number.NaN;
  if (!Number.isInteger(offset) || offset < 0)
    throw new AwsError('InvalidNextToken', 400, 'The service cannot decode the NextToken.');
  return offset;
}

export function renderMetricAlarm(alarm: MetricAlarm): JsonObject {
  return {
    AlarmName: alarm.alarmName,
    AlarmArn: alarm.alarmArn,
    ...(alarm.alarmDescription === undefined ? {} : { AlarmDescription: alarm.alarmDescription }),
    AlarmConfigurationUpdatedTimestamp: toSeconds(alarm.configurationUpdatedAt),
    ActionsEnabled: alarm.actionsEnabled,
    OKActions: [...alarm.okActions],
    AlarmActions: [...alarm.alarmActions],
    InsufficientDataActions: [...alarm.insufficientDataActions],
    StateValue: alarm.stateValue,
    StateReason: alarm.stateReason,
    ...(alarm.stateReasonData === undefined ? {} : { StateReasonData: alarm.stateReasonData }),
    StateUpdatedTimestamp: toSeconds(alarm.stateUpdatedAt),
    StateTransitionedTimestamp: toSeconds(alarm.stateTransitionedAt),
    MetricName: alarm.metricName,
    Namespace: alarm.namespace,
    Statistic: alarm.statistic,
    Dimensions: alarm.dimensions.map((d) => ({ ...d })),
    Period: alarm.period,
    EvaluationPeriods: alarm.evaluationPeriods,
    ...(alarm.datapointsToAlarm === undefined ? {} : { DatapointsToAlarm: alarm.datapointsToAlarm }),
    Threshold: alarm.threshold,
    ComparisonOperator: alarm.comparisonOperator,
    TreatMissingData: alarm.treatMissingData,
  };
}

function setAlarmState(deps: CloudWatchDeps, req: SandboxRequest, input: JsonObject): unknown {
  const c = new Constraints('ValidationError');
  if (c.required('alarmName', input.AlarmName)) c.length('alarmName', input.AlarmName, 1, 255);
  if (c.required('stateValue', input.StateValue)) c.oneOf('stateValue', input.StateValue, ALARM_STATES);
  if (c.required('stateReason', input.StateReason)) c.length('stateReason', input.StateReason, 0, 1023);
  c.length('stateReasonData', input.StateReasonData, 0, 4000);
  c.throwIfAny();
  const name = input.AlarmName as string;
  authorize(deps, req, 'SetAlarmState', alarmArn(req.region, req.caller.accountId, name));
  const reasonData = input.StateReasonData as string | undefined;
  if (reasonData !== undefined) {
    try {
      JSON.parse(reasonData);
    } catch {
      throw new AwsError('InvalidFormat', 400, 'StateReasonData is not valid JSON.');
    }
  }
  const updated = deps.alarms.setState(
    req.caller.accountId,
    req.region,
    name,
    {
      value: input.StateValue as AlarmState,
      reason: input.StateReason as string,
      ...(reasonData === undefined ? {} : { reasonData }),
    },
    deps.clock.now(),
  );
  if (!updated) throw new AwsError('ResourceNotFound', 404, `Alarm ${name} not found`);
  return {};
}

function putMetricAlarm(deps: CloudWatchDeps, req: SandboxRequest, input: JsonObject): unknown {
  const c = new Constraints('ValidationError');
  if (c.required('alarmName', input.AlarmName)) c.length('alarmName', input.AlarmName, 1, 255);
  c.length('alarmDescription', input.AlarmDescription, 0, 1024);
  if (c.required('evaluationPeriods', input.EvaluationPeriods))
    c.range('evaluationPeriods', input.EvaluationPeriods, 1, 1e9);
  if (c.required('comparisonOperator', input.ComparisonOperator))
    c.oneOf('comparisonOperator', input.ComparisonOperator, COMPARISON_OPERATORS);
  c.oneOf('statistic', input.Statistic, ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);
  checkDimensions(c, 'dimensions', input.Dimensions);
  c.throwIfAny();
  if (input.Metrics !== undefined) {
    throw new AwsError('InvalidParameterValue', 400, 'The sandbox supports single-metric alarms only (no Metrics).');
  }
  for (const field of ['MetricName', 'Namespace', 'Period', 'Threshold'] as const) {
    if (input[field] === undefined) throw new AwsError('MissingParameter', 400, `The parameter ${field} is required.`);
  }
  if (input.Statistic === undefined && input.ExtendedStatistic === undefined) {
    throw new AwsError('MissingParameter', 400, 'The parameter Statistic or ExtendedStatistic is required.');
  }
  if (!isValidPeriod(input.Period)) {
    throw new AwsError('InvalidParameterValue', 400, 'The parameter Period must be 10, 30 or a multiple of 60.');
  }
  const name = input.AlarmName as string;
  authorize(deps, req, 'PutMetricAlarm', alarmArn(req.region, req.caller.accountId, name));
  deps.alarms.put(
    { accountId: req.caller.accountId, region: req.region, alarmName: name },
    {
      ...(typeof input.AlarmDescription === 'string' ? { alarmDescription: input.AlarmDescription } : {}),
      namespace: String(input.Namespace),
      metricName: String(input.MetricName),
      dimensions: readDimensions(input.Dimensions),
      statistic: String(input.Statistic ?? input.ExtendedStatistic),
      period: input.Period,
      evaluationPeriods: Number(input.EvaluationPeriods),
      ...(typeof input.DatapointsToAlarm === 'number' ? { datapointsToAlarm: input.DatapointsToAlarm } : {}),
      threshold: Number(input.Threshold),
      comparisonOperator: String(input.ComparisonOperator),
      treatMissingData: typeof input.TreatMissingData === 'string' ? input.TreatMissingData : 'missing',
      actionsEnabled: input.ActionsEnabled !== false,
      alarmActions: readStringList(input.AlarmActions),
      okActions: readStringList(input.OKActions),
      insufficientDataActions: readStringList(input.InsufficientDataActions),
    },
    deps.clock.now(),
  );
  return {};
}

// ---- metrics ----

interface MetricStatQuery {
  readonly id: string;
  readonly label: string;
  readonly returnData: boolean;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly period: number;
  readonly stat: string;
  readonly unit?: string;
}

function getMetricData(deps: CloudWatchDeps, req: SandboxRequest, input: JsonObject): unknown {
  const c = new Constraints('ValidationError');
  if (c.required('metricDataQueries', input.MetricDataQueries))
    c.count('metricDataQueries', input.MetricDataQueries, 1, 500);
  c.required('startTime', input.StartTime);
  c.required('endTime', input.EndTime);
  c.oneOf('scanBy', input.ScanBy, ['TimestampDescending', 'TimestampAscending']);
  c.throwIfAny();
  const startRaw = readTimestamp(input.StartTime);
  const end = readTimestamp(input.EndTime);
  if (startRaw === undefined || end === undefined)
    throw new AwsError('ValidationError', 400, 'StartTime and EndTime must be timestamps.');
  // StartTime within the last 15 days is rounded down to the whole minute (API Reference, StartTime).
  const start = Math.floor(startRaw / 60_000) * 60_000;
  if (start >= end) {
    throw new AwsError('ValidationError', 400, 'The parameter StartTime must be less than the parameter EndTime.');
  }
  const queries = readQueries(input.MetricDataQueries as unknown[]);
  const requested = queries.reduce((sum, q) => sum + Math.ceil((end - start) / (q.period * 1000)), 0);
  if (requested > MAX_DATAPOINTS) {
    throw new AwsError(
      'InvalidParameterCombination',
      400,
      `You have requested up to ${requested} datapoints, which exceeds the limit of ${MAX_DATAPOINTS}.`,
    );
  }
  authorize(deps, req, 'GetMetricData', '*');
  const descending = input.ScanBy !== 'TimestampAscending';
  return {
    MetricDataResults: queries
      .filter((q) => q.returnData)
      .map((q) => {
        const series = aggregateSeries(deps.metrics, {
          accountId: req.caller.accountId,
          region: req.region,
          namespace: q.namespace,
          metricName: q.metricName,
          dimensions: q.dimensions,
          stat: q.stat,
          period: q.period,
          ...(q.unit === undefined ? {} : { unit: q.unit }),
          start,
          end,
        });
        const order = descending ? [...series.timestamps.keys()].reverse() : [...series.timestamps.keys()];
        return {
          Id: q.id,
          Label: q.label,
          Timestamps: order.map((i) => toSeconds(series.timestamps[i] as number)),
          Values: order.map((i) => series.values[i] as number),
          StatusCode: 'Complete',
        };
      }),
    Messages: [],
  };
}

function readQueries(raw: readonly unknown[]): MetricStatQuery[] {
  const c = new Constraints('ValidationError');
  const seen = new Set<string>();
  const queries: MetricStatQuery[] = [];
  raw.forEach((entry, index) => {
    const q = (entry ?? {}) as JsonObject;
    const path = `metricDataQueries.${index + 1}.member`;
    if (c.required(`${path}.id`, q.Id)) c.length(`${path}.id`, q.Id, 1, 255);
    if (typeof q.Id === 'string' && !ID_PATTERN.test(q.Id)) {
      throw new AwsError(
        'ValidationError',
        400,
        `Invalid metric data query id ${q.Id}: it must start with a lowercase letter and contain only letters, numbers and underscores.`,
      );
    }
    if (typeof q.Id === 'string') {
      if (seen.has(q.Id))
        throw new AwsError(
          'ValidationError',
          400,
          `The values for parameter id in MetricDataQueries are not unique: ${q.Id}.`,
        );
      seen.add(q.Id);
    }
    if (q.Expression !== undefined) {
      throw new AwsError(
        'InvalidParameterValue',
        400,
        'The sandbox does not evaluate metric math (Expression); query each metric with MetricStat and combine the values in code.',
      );
    }
    const stat = q.MetricStat as JsonObject | undefined;
    if (!stat)
      throw new AwsError('ValidationError', 400, `Each MetricDataQuery needs MetricStat or Expression (${path}).`);
    const metric = (stat.Metric ?? {}) as JsonObject;
    c.required(`${path}.metricStat.metric.metricName`, metric.MetricName);
    c.required(`${path}.metricStat.metric.namespace`, metric.Namespace);
    c.required(`${path}.metricStat.period`, stat.Period);
    c.required(`${path}.metricStat.stat`, stat.Stat);
    checkDimensions(c, `${path}.metricStat.metric.dimensions`, metric.Dimensions);
    c.throwIfAny();
    if (!isValidPeriod(stat.Period)) {
      throw new AwsError(
        'InvalidParameterValue',
        400,
        `The parameter MetricDataQueries.member.${index + 1}.MetricStat.Period must be 1, 5, 10, 20, 30 or a multiple of 60.`,
      );
    }
    if (typeof stat.Stat !== 'string' || !isSupportedStatistic(stat.Stat)) {
      throw new AwsError(
        'InvalidParameterValue',
        400,
        `The statistic ${String(stat.Stat)} is not supported by the sandbox.`,
      );
    }
    const dimensions: Record<string, string> = {};
    for (const d of readDimensions(metric.Dimensions)) dimensions[d.Name] = d.Value;
    queries.push({
      id: q.Id as string,
      label: typeof q.Label === 'string' ? q.Label : String(metric.MetricName),
      returnData: q.ReturnData !== false,
      namespace: String(metric.Namespace),
      metricName: String(metric.MetricName),
      dimensions,
      period: stat.Period,
      stat: stat.Stat,
      ...(typeof stat.Unit === 'string' ? { unit: stat.Unit } : {}),
    });
  });
  return queries;
}

function putMetricData(deps: CloudWatchDeps, req: SandboxRequest, input: JsonObject): unknown {
  const c = new Constraints('ValidationError');
  if (c.required('namespace', input.Namespace)) c.length('namespace', input.Namespace, 1, 255);
  if (c.required('metricData', input.MetricData)) c.count('metricData', input.MetricData, 1, 1000);
  c.throwIfAny();
  const namespace = input.Namespace as string;
  // "You cannot specify a namespace that begins with 'AWS/'" (API Reference, PutMetricData).
  if (namespace.startsWith('AWS/')) {
    throw new AwsError('InvalidParameterValue', 400, `The value ${namespace} for parameter Namespace is invalid.`);
  }
  authorize(deps, req, 'PutMetricData', '*');
  const now = deps.clock.now();
  for (const raw of input.MetricData as unknown[]) {
    const datum = (raw ?? {}) as JsonObject;
    if (typeof datum.MetricName !== 'string')
      throw new AwsError('MissingParameter', 400, 'The parameter MetricData.member.N.MetricName is required.');
    const dimensions: Record<string, string> = {};
    for (const d of readDimensions(datum.Dimensions)) dimensions[d.Name] = d.Value;
    const at = readTimestamp(datum.Timestamp) ?? now;
    const unit = typeof datum.Unit === 'string' ? datum.Unit : undefined;
    const values = Array.isArray(datum.Values)
      ? (datum.Values as number[])
      : typeof datum.Value === 'number'
        ? [datum.Value]
        : [];
    const counts = Array.isArray(datum.Counts) ? (datum.Counts as number[]) : [];
    if (values.length === 0)
      throw new AwsError('MissingParameter', 400, `MetricData ${datum.MetricName} needs Value or Values.`);
    values.forEach((value, i) => {
      for (let n = 0; n < (counts[i] ?? 1); n += 1) {
        deps.metrics.record({
          accountId: req.caller.accountId,
          region: req.region,
          namespace,
          metricName: datum.MetricName as string,
          dimensions,
          value,
          ...(unit === undefined ? {} : { unit }),
          at,
        });
      }
    });
  }
  return {};
}
