import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CreatedAccount, type Sandbox, startSandbox } from '../src/index.js';
import { allow, catchError, NO_RETRY, trustAccount } from './helpers.js';

const REGION = 'eu-west-1';

describe('sandbox EventBridge PutEvents', () => {
  let sandbox: Sandbox;
  let account: CreatedAccount;
  let events: EventBridgeClient;

  beforeEach(async () => {
    sandbox = await startSandbox({ defaultRegion: REGION });
    account = sandbox.createAccount();
    events = new EventBridgeClient({ ...sandbox.clientConfig(account.credentials), ...NO_RETRY });
  });
  afterEach(async () => {
    events.destroy();
    await sandbox.stop();
  });

  const entry = (overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
    Source: 'ferry',
    DetailType: 'Deployment State Change',
    Detail: JSON.stringify({ app: 'orders', state: 'ROLLED_BACK' }),
    Resources: ['arn:aws:lambda:eu-west-1:111111111111:function:orders:live'],
    ...overrides,
  });

  // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html: one result
  // entry per request entry, in order, each with an EventId; FailedEntryCount 0.
  it('captures accepted events on the default bus, in order, with their ids', async () => {
    const before = sandbox.clock.now();
    const output = await events.send(
      new PutEventsCommand({
        Entries: [
          entry(),
          entry({ Detail: '{"app":"orders","state":"SUCCEEDED"}', Time: new Date('2026-11-30T12:00:00Z') }),
        ],
      }),
    );
    expect(output.FailedEntryCount).toBe(0);
    expect(output.Entries).toHaveLength(2);
    const captured = sandbox.eventbridge.captured({ source: 'ferry' });
    expect(captured.map((e) => e.eventId)).toEqual(output.Entries?.map((e) => e.EventId));
    expect(captured[0]).toMatchObject({
      accountId: account.accountId,
      region: REGION,
      eventBusName: 'default',
      eventBusArn: `arn:aws:events:${REGION}:${account.accountId}:event-bus/default`,
      source: 'ferry',
      detailType: 'Deployment State Change',
      detail: { app: 'orders', state: 'ROLLED_BACK' },
      resources: ['arn:aws:lambda:eu-west-1:111111111111:function:orders:live'],
    });
    expect(captured[0]?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(captured[1]?.time).toBe('2026-11-30T12:00:00.000Z');
    sandbox.eventbridge.clear();
    expect(sandbox.eventbridge.captured()).toEqual([]);
  });

  // API_PutEvents.html / API_PutEventsResultEntry.html: an invalid entry fails on its own
  // (ErrorCode, ErrorMessage) and counts in FailedEntryCount; the others are accepted. Source,
  // DetailType and Detail are required, Detail is a JSON object, and the `aws.` source prefix is
  // reserved for AWS services.
  it('fails invalid entries one by one and accepts the rest', async () => {
    const output = await events.send(
      new PutEventsCommand({
        Entries: [
          entry({ Source: undefined }),
          entry({ DetailType: undefined }),
          entry({ Detail: undefined }),
          entry({ Detail: '[1, 2]' }),
          entry({ Source: 'aws.codedeploy' }),
          entry(),
        ],
      }),
    );
    expect(output.FailedEntryCount).toBe(5);
    expect(output.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'InvalidArgument',
      'InvalidArgument',
      'InvalidArgument',
      'MalformedDetail',
      'NotAuthorizedForSourceException',
      'ok',
    ]);
    expect(output.Entries?.[0]?.ErrorMessage).toBe(
      'Parameter Source is not valid. Reason: Source is a required argument.',
    );
    expect(output.Entries?.[5]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sandbox.eventbridge.captured()).toHaveLength(1);
  });

  // API_PutEvents.html: Entries holds 1 to 10 entries.
  it('refuses more than ten entries or none', async () => {
    const many = await catchError(
      events.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry()) })),
    );
    expect(many.name).toBe('ValidationException');
    const none = await catchError(events.send(new PutEventsCommand({ Entries: [] })));
    expect(none.name).toBe('ValidationException');
    expect(sandbox.eventbridge.captured()).toEqual([]);
  });

  // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-example-policy-cross-account.html:
  // events:PutEvents on arn:aws:events:R:A:event-bus/default.
  it('requires events:PutEvents on the bus', async () => {
    const bus = `arn:aws:events:${REGION}:${account.accountId}:event-bus/default`;
    const client = (roleName: string, resource: string) => {
      const { roleArn } = sandbox.createRole({
        accountId: account.accountId,
        roleName,
        trustPolicy: trustAccount(account.accountId),
        policies: [allow('events:PutEvents', resource)],
      });
      return new EventBridgeClient({
        ...sandbox.clientConfig(sandbox.issueRoleCredentials({ roleArn, sessionName: roleName })),
        ...NO_RETRY,
      });
    };
    const allowed = client('publisher', bus);
    expect((await allowed.send(new PutEventsCommand({ Entries: [entry()] }))).FailedEntryCount).toBe(0);
    const denied = client('other-bus', `arn:aws:events:${REGION}:${account.accountId}:event-bus/other`);
    const error = await catchError(denied.send(new PutEventsCommand({ Entries: [entry()] })));
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toContain(`events:PutEvents on resource: ${bus}`);
    expect(sandbox.eventbridge.captured()).toHaveLength(1);
    allowed.destroy();
    denied.destroy();
  });

  it('serves captured events to other processes through the admin route', async () => {
    await events.send(new PutEventsCommand({ Entries: [entry(), entry({ Source: 'billing' })] }));
    const response = await fetch(`${sandbox.endpoint}/_sandbox/eventbridge/events?source=ferry`);
    const body = (await response.json()) as { events: Array<{ source: string; detail: unknown }> };
    expect(body.events).toHaveLength(1);
    expect(body.events[0]).toMatchObject({ source: 'ferry', detail: { state: 'ROLLED_BACK' } });
  });
});
