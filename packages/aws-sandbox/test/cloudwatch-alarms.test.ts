import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  InvalidFormatFault,
  InvalidParameterCombinationException,
  PutMetricAlarmCommand,
  ResourceNotFound,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applySeed, type CreatedAccount, readSeedFile, type Sandbox, startSandbox } from '../src/index.js';
import { allow, catchError, NO_RETRY, trustAccount } from './helpers.js';

const REGION = 'eu-west-1';

describe('sandbox CloudWatch alarms', () => {
  let sandbox: Sandbox;
  let account: CreatedAccount;
  let cloudwatch: CloudWatchClient;

  beforeEach(async () => {
    sandbox = await startSandbox({ defaultRegion: REGION });
    account = sandbox.createAccount();
    cloudwatch = new CloudWatchClient({ ...sandbox.clientConfig(account.credentials), ...NO_RETRY });
  });
  afterEach(async () => {
    cloudwatch.destroy();
    await sandbox.stop();
  });

  const seedAlarm = (alarmName: string) =>
    sandbox.cloudwatch.putMetricAlarm({
      accountId: account.accountId,
      alarmName,
      dimensions: { FunctionName: 'orders', Resource: 'orders:live' },
    });

  /** A role session in the account allowed `actions` on `resources`. */
  const session = (roleName: string, actions: string | string[], resources: string | string[]) => {
    const { roleArn } = sandbox.createRole({
      accountId: account.accountId,
      roleName,
      trustPolicy: trustAccount(account.accountId),
      policies: [allow(actions, resources)],
    });
    return new CloudWatchClient({
      ...sandbox.clientConfig(sandbox.issueRoleCredentials({ roleArn, sessionName: roleName })),
      ...NO_RETRY,
    });
  };

  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html:
  // AlarmNames, StateValue, AlarmTypes (metric alarms only unless CompositeAlarm is asked for).
  it('describes seeded alarms by name and state, newly created alarms in INSUFFICIENT_DATA', async () => {
    const { alarmArn } = seedAlarm('orders-errors');
    seedAlarm('orders-latency');
    const byName = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['orders-errors'] }));
    expect(byName.MetricAlarms).toHaveLength(1);
    expect(byName.MetricAlarms?.[0]).toMatchObject({
      AlarmName: 'orders-errors',
      AlarmArn: `arn:aws:cloudwatch:${REGION}:${account.accountId}:alarm:orders-errors`,
      StateValue: 'INSUFFICIENT_DATA',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: 'orders' },
        { Name: 'Resource', Value: 'orders:live' },
      ],
    });
    expect(byName.MetricAlarms?.[0]?.AlarmArn).toBe(alarmArn);
    expect(byName.CompositeAlarms).toBeUndefined();

    sandbox.cloudwatch.setAlarmState({
      accountId: account.accountId,
      alarmName: 'orders-latency',
      stateValue: 'ALARM',
    });
    const inAlarm = await cloudwatch.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }));
    expect(inAlarm.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['orders-latency']);
    const all = await cloudwatch.send(new DescribeAlarmsCommand({}));
    expect(all.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['orders-errors', 'orders-latency']);

    const composites = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmTypes: ['CompositeAlarm'] }));
    expect(composites.MetricAlarms).toEqual([]);
    expect(composites.CompositeAlarms).toEqual([]);
    const missing = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['no-such-alarm'] }));
    expect(missing.MetricAlarms).toEqual([]);
  });

  // API_DescribeAlarms.html: "If this parameter is specified, you cannot specify AlarmNames."
  it('refuses AlarmNames together with AlarmNamePrefix', async () => {
    const error = await catchError(
      cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['a'], AlarmNamePrefix: 'a' })),
    );
    expect(error).toBeInstanceOf(InvalidParameterCombinationException);
  });

  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html: sets
  // StateValue with StateReason. The sandbox never re-evaluates, so the state holds until set again.
  it('sets an alarm state with its reason, stamped with the sandbox clock, and keeps it', async () => {
    seedAlarm('orders-errors');
    sandbox.clock.advance(3_600_000);
    const before = sandbox.clock.now();
    await cloudwatch.send(
      new SetAlarmStateCommand({
        AlarmName: 'orders-errors',
        StateValue: 'ALARM',
        StateReason: 'testing the rollback',
        StateReasonData: '{"version":"1.0"}',
      }),
    );
    sandbox.clock.advance(600_000);
    const [alarm] =
      (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['orders-errors'] }))).MetricAlarms ?? [];
    expect(alarm).toMatchObject({
      StateValue: 'ALARM',
      StateReason: 'testing the rollback',
      StateReasonData: '{"version":"1.0"}',
    });
    const stamped = alarm?.StateUpdatedTimestamp?.getTime() ?? 0;
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThan(before + 600_000);
    expect(alarm?.StateTransitionedTimestamp?.getTime()).toBe(stamped);
    expect(sandbox.cloudwatch.describeAlarm(account.accountId, REGION, 'orders-errors')).toMatchObject({
      stateValue: 'ALARM',
      stateReason: 'testing the rollback',
      stateUpdatedAt: stamped,
    });

    await cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: 'orders-errors', StateValue: 'OK', StateReason: 'fixed' }),
    );
    expect(sandbox.cloudwatch.describeAlarm(account.accountId, REGION, 'orders-errors')?.stateValue).toBe('OK');
  });

  // API_SetAlarmState.html errors: ResourceNotFound (404), InvalidFormat (StateReasonData not JSON).
  it('answers ResourceNotFound for an unknown alarm and InvalidFormat for reason data that is not JSON', async () => {
    seedAlarm('orders-errors');
    const unknown = await catchError(
      cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'nope', StateValue: 'ALARM', StateReason: 'x' })),
    );
    expect(unknown).toBeInstanceOf(ResourceNotFound);
    expect(unknown.$metadata?.httpStatusCode).toBe(404);
    const badData = await catchError(
      cloudwatch.send(
        new SetAlarmStateCommand({
          AlarmName: 'orders-errors',
          StateValue: 'ALARM',
          StateReason: 'x',
          StateReasonData: '{',
        }),
      ),
    );
    expect(badData).toBeInstanceOf(InvalidFormatFault);
    const badState = await catchError(
      cloudwatch.send(
        // biome-ignore lint/suspicious/noExplicitAny: an out-of-enum value, as a hand-made request could send
        new SetAlarmStateCommand({ AlarmName: 'orders-errors', StateValue: 'BROKEN' as any, StateReason: 'x' }),
      ),
    );
    expect(badState.name).toBe('ValidationException');
    expect(sandbox.cloudwatch.describeAlarm(account.accountId, REGION, 'orders-errors')?.stateValue).toBe(
      'INSUFFICIENT_DATA',
    );
  });

  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html: "When
  // you update an existing alarm, its state is left unchanged, but the update completely overwrites
  // the previous configuration of the alarm."
  it('creates alarms with PutMetricAlarm and keeps the state when one is updated', async () => {
    const put = (threshold: number) =>
      cloudwatch.send(
        new PutMetricAlarmCommand({
          AlarmName: 'orders-errors',
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: 'orders' }],
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: threshold,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
    await put(1);
    sandbox.cloudwatch.setAlarmState({ accountId: account.accountId, alarmName: 'orders-errors', stateValue: 'ALARM' });
    await put(5);
    const [alarm] =
      (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['orders-errors'] }))).MetricAlarms ?? [];
    expect(alarm).toMatchObject({ Threshold: 5, StateValue: 'ALARM' });
  });

  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html:
  // DescribeAlarms and SetAlarmState are scoped to alarm ARNs (arn:aws:cloudwatch:R:A:alarm:N).
  it('authorizes DescribeAlarms and SetAlarmState per alarm ARN', async () => {
    seedAlarm('orders-errors');
    seedAlarm('billing-errors');
    const arn = (name: string) => `arn:aws:cloudwatch:${REGION}:${account.accountId}:alarm:${name}`;
    const reader = session('alarm-reader', 'cloudwatch:DescribeAlarms', arn('orders-errors'));
    const allowed = await reader.send(new DescribeAlarmsCommand({ AlarmNames: ['orders-errors'] }));
    expect(allowed.MetricAlarms?.[0]?.AlarmName).toBe('orders-errors');
    const other = await catchError(reader.send(new DescribeAlarmsCommand({ AlarmNames: ['billing-errors'] })));
    expect(other.name).toBe('AccessDenied');
    expect(other.$metadata?.httpStatusCode).toBe(403);
    expect(other.message).toContain(`cloudwatch:DescribeAlarms on resource: ${arn('billing-errors')}`);
    expect((await catchError(reader.send(new DescribeAlarmsCommand({})))).name).toBe('AccessDenied');
    const setter = await catchError(
      reader.send(new SetAlarmStateCommand({ AlarmName: 'orders-errors', StateValue: 'ALARM', StateReason: 'x' })),
    );
    expect(setter.name).toBe('AccessDenied');
    expect(sandbox.cloudwatch.describeAlarm(account.accountId, REGION, 'orders-errors')?.stateValue).toBe(
      'INSUFFICIENT_DATA',
    );
    const lister = session('alarm-lister', 'cloudwatch:DescribeAlarms', arn('*'));
    expect((await lister.send(new DescribeAlarmsCommand({}))).MetricAlarms).toHaveLength(2);
    reader.destroy();
    lister.destroy();
  });

  it('seeds and sets alarms out of process through the admin routes', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${sandbox.endpoint}/_sandbox/${path}`, { method: 'POST', body: JSON.stringify(body) });
    const created = await post('cloudwatch/alarms', { accountId: account.accountId, alarmName: 'orders-errors' });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({
      alarmArn: `arn:aws:cloudwatch:${REGION}:${account.accountId}:alarm:orders-errors`,
    });
    const set = await post('cloudwatch/alarm-state', {
      accountId: account.accountId,
      alarmName: 'orders-errors',
      stateValue: 'ALARM',
      stateReason: 'drill',
    });
    expect(set.status).toBe(204);
    expect(sandbox.cloudwatch.describeAlarm(account.accountId, REGION, 'orders-errors')).toMatchObject({
      stateValue: 'ALARM',
      stateReason: 'drill',
    });
    const unknown = await post('cloudwatch/alarm-state', {
      accountId: account.accountId,
      alarmName: 'nope',
      stateValue: 'OK',
    });
    expect(unknown.status).toBe(400);
    const before = sandbox.clock.now();
    const advanced = await post('clock/advance', { ms: 60_000 });
    expect(((await advanced.json()) as { now: number }).now).toBeGreaterThanOrEqual(before + 60_000);
  });
});

describe('sandbox seed files with alarms', () => {
  it('creates the alarms a seed file lists, in the state it names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-seed-'));
    const path = join(dir, 'seed.yml');
    await writeFile(
      path,
      [
        'accounts: [{ name: target, id: "222222222222" }]',
        'alarms:',
        '  - { account: target, name: orders-errors, dimensions: { FunctionName: orders }, state: ALARM }',
        '  - { account: target, name: orders-latency, metricName: Duration, statistic: Average, threshold: 500 }',
      ].join('\n'),
    );
    const sandbox = await startSandbox({ defaultRegion: REGION });
    try {
      await applySeed(sandbox, await readSeedFile(path), dir, REGION);
      expect(sandbox.cloudwatch.describeAlarm('222222222222', REGION, 'orders-errors')?.stateValue).toBe('ALARM');
      expect(sandbox.cloudwatch.describeAlarm('222222222222', REGION, 'orders-latency')?.stateValue).toBe(
        'INSUFFICIENT_DATA',
      );
      await writeFile(path, 'alarms: [{ account: target, name: x, sate: OK }]');
      await expect(readSeedFile(path)).rejects.toThrow(/alarms\.0/);
    } finally {
      await sandbox.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
